"""Claude Code's prompt history (history.jsonl): sessions whose transcripts are gone."""

from __future__ import annotations

import io
import json
import os
import shutil
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from graph.cli import app
from graph.crypto import MasterKey
from graph.export import ExportFormat, export_session
from graph.importers.history import import_history
from graph.importers.importer import import_paths
from graph.store import Store
from graph.store.keyring import KeyMaterial
from tests.conftest import GraphQL
from tests.test_import_support import MAIN, query, write_lines

runner = CliRunner()
GONE = "9e1c2d3f-0000-4000-8000-00000000d0e5"
PROJECT = "/home/me/work/payments"


def prompt(text: str, ms: int, session: str | None = GONE, **extra: Any) -> dict[str, Any]:
    line: dict[str, Any] = {
        "display": text,
        "pastedContents": {},
        "timestamp": ms,
        "project": PROJECT,
    }
    if session is not None:
        line["sessionId"] = session
    return {**line, **extra}


HISTORY = [
    prompt("why does the ledger reconcile job double count refunds", 1_760_000_000_000),
    prompt(
        "here is the stack trace [Pasted text #1 +3 lines]",
        1_760_000_060_000,
        pastedContents={"1": {"id": 1, "type": "text", "content": "ZeroDivisionError in payout"}},
    ),
    prompt("/exit", 1_760_000_120_000),
    # Prompts of a session whose transcript is imported: the transcript has them.
    prompt("Work on bead spotter-4te", 1_770_000_000_000, session=MAIN),
    # Older Claude Code versions wrote no sessionId.
    prompt("an old prompt nobody can place", 1_700_000_000_000, session=None),
    "not json",
]


@pytest.fixture
def history(tmp_path: Path) -> Path:
    path = tmp_path / "claude" / "history.jsonl"
    write_lines(path, HISTORY)
    return path


async def imported(store: Store, samples_dir: Path, history: Path) -> None:
    await import_paths(store, [samples_dir / f"{MAIN}.jsonl"])
    summary = await import_history(store, history)
    assert summary.to_dict() == {
        "linesRead": 6,
        "promptsAdded": 3,
        "sessionsAdded": 1,
        "sessionsSettled": 0,
        "withoutSession": 1,
        "linesSkipped": 1,
    }


SESSION = """
query($id: ID!) { session(id: $id) {
  sessionId historyOnly title project cwd messageCount startedAt endedAt
  conversations { agentId isSidechain messageCount }
  messages(first: 10) { edges { node { role text timestamp } } }
} }
"""


async def test_prompts_of_a_deleted_transcript_become_a_history_only_session(
    store: Store, gql: GraphQL, samples_dir: Path, history: Path
) -> None:
    await imported(store, samples_dir, history)
    session = (await gql(SESSION, id=GONE))["session"]
    assert session["historyOnly"] is True
    assert session["title"] == "why does the ledger reconcile job double count refunds"
    assert session["cwd"] == PROJECT and session["project"] == "-home-me-work-payments"
    assert session["conversations"] == [
        {"agentId": "prompt-history", "isSidechain": False, "messageCount": 3}
    ]
    texts = [edge["node"]["text"] for edge in session["messages"]["edges"]]
    assert texts == [
        "why does the ledger reconcile job double count refunds",
        "here is the stack trace [Pasted text #1 +3 lines]\n\nZeroDivisionError in payout",
        "/exit",
    ]
    assert {edge["node"]["role"] for edge in session["messages"]["edges"]} == {"user"}
    assert session["startedAt"] == "2025-10-09T08:53:20.000Z"

    # The sample session keeps its transcript's messages only.
    main = (await gql(SESSION, id=MAIN))["session"]
    assert main["historyOnly"] is False and main["messageCount"] == 466

    # Searchable like any prompt, pasted text included.
    for words in ("ledger reconcile", "ZeroDivisionError"):
        data = await gql(
            "query($q: String!) { search(query: $q) { edges { node { session { sessionId } } } } }",
            q=words,
        )
        assert {e["node"]["session"]["sessionId"] for e in data["search"]["edges"]} == {GONE}


async def test_export_gives_the_history_lines_back(
    store: Store, samples_dir: Path, history: Path
) -> None:
    await imported(store, samples_dir, history)
    out = io.BytesIO()
    await export_session(store, GONE, out, ExportFormat.JSONL)
    assert [json.loads(line) for line in out.getvalue().splitlines()] == HISTORY[:3]


async def test_history_is_read_incrementally_and_a_rewritten_one_adds_no_duplicates(
    store: Store, samples_dir: Path, history: Path
) -> None:
    await imported(store, samples_dir, history)
    again = await import_history(store, history)
    assert again.lines_read == 0 and again.prompts_added == 0
    write_lines(history, [prompt("and the fees too", 1_760_000_180_000)], mode="a")
    appended = await import_history(store, history)
    assert (appended.lines_read, appended.prompts_added, appended.sessions_added) == (1, 1, 0)
    # Claude Code rewriting the file (shorter, other order) adds nothing already there.
    write_lines(history, [HISTORY[1], HISTORY[0]])
    rewritten = await import_history(store, history)
    assert rewritten.lines_read == 2 and rewritten.prompts_added == 0
    assert await query(store, "SELECT message_count FROM sessions WHERE session_id = ?", GONE) == [
        (4,)
    ]


async def test_a_transcript_imported_later_replaces_the_history_thread(
    store: Store, samples_dir: Path, history: Path, tmp_path: Path
) -> None:
    await imported(store, samples_dir, history)
    transcript = tmp_path / "restored" / f"{GONE}.jsonl"
    write_lines(
        transcript,
        [
            {
                "type": "user",
                "sessionId": GONE,
                "uuid": "u1",
                "cwd": PROJECT,
                "timestamp": "2025-10-09T08:53:20.000Z",
                "message": {
                    "role": "user",
                    "content": "why does the ledger reconcile job double count",
                },
            },
            {
                "type": "assistant",
                "sessionId": GONE,
                "uuid": "a1",
                "timestamp": "2025-10-09T08:53:30.000Z",
                "message": {
                    "id": "msg_1",
                    "role": "assistant",
                    "model": "claude-opus-4",
                    "content": [{"type": "text", "text": "Because refunds are booked twice."}],
                },
            },
        ],
    )
    await import_paths(store, [transcript])
    summary = await import_history(store, history)
    assert summary.sessions_settled == 1
    rows = await query(
        store,
        "SELECT s.history_only, s.message_count, group_concat(c.agent_id) FROM sessions s "
        "JOIN conversations c ON c.session_pk = s.id WHERE s.session_id = ?",
        GONE,
    )
    assert rows == [(0, 2, "")]
    assert (await import_history(store, history)).prompts_added == 0


def test_import_with_no_paths_reads_claude_config_dir_projects_and_history(
    tmp_path: Path, samples_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    config = tmp_path / "claude"
    folder = config / "projects" / "-home-marco-projects-spotter"
    folder.mkdir(parents=True)
    shutil.copy(samples_dir / f"{MAIN}.jsonl", folder)
    write_lines(config / "history.jsonl", HISTORY)
    monkeypatch.setenv("CLAUDE_CONFIG_DIR", str(config))
    result = runner.invoke(app, ["import", "--db", str(tmp_path / "s.db"), "--json"])
    assert result.exit_code == 0, result.stderr
    summary = json.loads(result.stdout)
    assert summary["files"] == 1 and summary["sessionsAdded"] == 1
    assert summary["history"]["promptsAdded"] == 3
    result = runner.invoke(app, ["import", "--db", str(tmp_path / "s.db")])
    assert "prompt history: 0 lines read" in result.stdout


def test_skipped_history_lines_are_reported_with_file_and_line(tmp_path: Path) -> None:
    history = tmp_path / "claude" / "history.jsonl"
    lines: list[Any] = [
        prompt("fine", 1_760_000_000_000),
        "garbage",
        [1, 2],
        prompt("no time", 1_760_000_000_000, timestamp="yesterday"),
        {**prompt("", 1_760_000_000_000), "display": ["not", "text"]},
    ]
    write_lines(history, lines)
    db = str(tmp_path / "s.db")
    result = runner.invoke(app, ["import", str(history), "--db", db, "--json"])
    assert result.exit_code == 0, result.stderr
    summary = json.loads(result.stdout)
    assert summary["history"]["linesSkipped"] == 4 and summary["linesSkipped"] == 4
    assert [(p["path"], p["line"], p["kind"]) for p in summary["problems"]] == [
        (str(history), 2, "not JSON"),
        (str(history), 3, "not a JSON object"),
        (str(history), 4, "not a prompt"),
        (str(history), 5, "not a prompt"),
    ]
    write_lines(history, ["still garbage"], mode="a")
    result = runner.invoke(app, ["import", str(history), "--db", db])
    assert f"{history}:6: not JSON" in result.stdout


def test_two_prompt_histories_are_added_up(tmp_path: Path) -> None:
    paths = [tmp_path / name / "history.jsonl" for name in ("a", "b")]
    for number, path in enumerate(paths):
        write_lines(path, [prompt(f"p{number}", 1_760_000_000_000, session=f"s{number}"), "x"])
    args = ["import", *map(str, paths), "--db", str(tmp_path / "s.db"), "--json"]
    result = runner.invoke(app, args)
    assert result.exit_code == 0, result.stderr
    summary = json.loads(result.stdout)
    assert summary["history"]["promptsAdded"] == 2 and summary["history"]["linesSkipped"] == 2
    assert [(p["path"], p["line"]) for p in summary["problems"]] == [(str(p), 2) for p in paths]


async def test_prompts_are_sealed_in_an_encrypted_database(
    tmp_path: Path, samples_dir: Path, history: Path
) -> None:
    db = tmp_path / "sealed.db"
    store = await Store.open(db, key=KeyMaterial(key=MasterKey.generate()))
    try:
        await import_history(store, history)
        hits = await query(store, "SELECT title FROM sessions WHERE session_id = ?", GONE)
        assert isinstance(hits[0][0], bytes)
    finally:
        await store.close()
    raw = db.read_bytes() + b"".join(p.read_bytes() for p in tmp_path.glob("sealed.db-*"))
    assert b"ledger" not in raw and b"ZeroDivisionError" not in raw
    assert os.path.getsize(db) > 0
