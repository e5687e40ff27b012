"""Faults the CLI meets are one line each: a full disk, a killed worker, a damaged
database, a bug; and export takes any stored session id."""

from __future__ import annotations

import errno
import json
import random
import sqlite3
import sys
import tempfile
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

import graph.cli.importing as importing_module
import graph.importers.importer as importer_module
from graph.cli import app
from graph.cli.base import main
from graph.cli.failures import describe
from graph.importers.reading import FileJob
from graph.importers.worker import WorkerReader
from graph.store.writes import Writer
from tests.test_import_support import MAIN, write_lines

runner = CliRunner()


def invoke(*args: str) -> tuple[int, str, str]:
    result = runner.invoke(app, list(args))
    return result.exit_code, result.stdout, result.stderr


def one_line(err: str) -> str:
    assert err.count("\n") == 1 and err.startswith("sessiongraph: error: "), err
    return err


def test_a_full_disk_during_import_is_one_line_and_loses_nothing(
    samples_dir: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    db = str(tmp_path / "x.db")
    real_add_events = Writer.add_events
    calls = 0

    async def fill_up(self: Writer, *args: Any) -> int:
        nonlocal calls
        calls += 1
        if calls == 3:
            raise sqlite3.OperationalError("database or disk is full")
        return await real_add_events(self, *args)

    monkeypatch.setattr(importer_module, "BATCH_LINES", 50)
    monkeypatch.setattr(Writer, "add_events", fill_up)
    code, out, err = invoke("import", str(samples_dir), "--db", db)
    assert code == 1 and out == ""
    line = one_line(err)
    assert "the disk is full (database or disk is full): free some space" in line
    assert "what was imported before it stays, and the next run carries on" in line
    monkeypatch.undo()
    # What was committed stays, and the next run carries on to a complete import.
    code, out, _ = invoke("import", str(samples_dir), "--db", db, "--json")
    assert code == 0 and json.loads(out)["filesRead"] > 0
    fresh = str(tmp_path / "fresh.db")
    assert invoke("import", str(samples_dir), "--db", fresh)[0] == 0
    code, first, _ = invoke("stats", "--db", db, "--json")
    code, second, _ = invoke("stats", "--db", fresh, "--json")
    counts = ("sessions", "conversations", "messages", "events", "tokenUsage")
    assert [json.loads(first)[k] for k in counts] == [json.loads(second)[k] for k in counts]


def test_no_space_left_is_one_line(
    samples_dir: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    async def no_space(*args: Any, **kwargs: Any) -> Any:
        raise OSError(errno.ENOSPC, "No space left on device", str(tmp_path / "x.db-wal"))

    monkeypatch.setattr(importing_module, "import_paths", no_space)
    code, _, err = invoke("import", str(samples_dir), "--db", str(tmp_path / "x.db"))
    assert code == 1
    assert "x.db-wal: No space left on device: free some space" in one_line(err)


def test_a_killed_import_worker_is_one_line(
    samples_dir: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    readers: list[WorkerReader] = []
    real_init = WorkerReader.__init__

    def remember(self: WorkerReader) -> None:
        real_init(self)
        readers.append(self)

    real_write = importer_module._Importer._write

    async def kill_after_first(self: Any, chunks: Any) -> None:
        await real_write(self, chunks)
        readers[0]._process.kill()

    monkeypatch.setattr(importer_module, "WORKER_MIN_BYTES", 0)
    monkeypatch.setattr(importer_module, "BATCH_LINES", 7)
    monkeypatch.setattr(WorkerReader, "__init__", remember)
    monkeypatch.setattr(importer_module._Importer, "_write", kill_after_first)
    code, _, err = invoke("import", str(samples_dir), "--db", str(tmp_path / "x.db"))
    assert code == 1 and readers
    assert "the import worker was killed (SIGKILL) before it finished" in one_line(err)
    assert "run the import again" in err


def damaged_db(samples_dir: Path, tmp_path: Path) -> Path:
    """A database whose pages in the middle are overwritten with noise."""
    db = tmp_path / "damaged.db"
    assert invoke("import", str(samples_dir), "--db", str(db))[0] == 0
    noise = random.Random(7)
    size = db.stat().st_size
    with db.open("r+b") as fh:
        for page in range(size // 3, size // 3 + 40 * 4096, 4096):
            fh.seek(page + 100)
            fh.write(noise.randbytes(200))
    return db


def test_export_of_a_damaged_database_is_one_line_that_says_what_was_written(
    samples_dir: Path, tmp_path: Path
) -> None:
    db = str(damaged_db(samples_dir, tmp_path))
    code, out, err = invoke("export", MAIN, "--db", db)
    assert code == 1
    line = one_line(err)
    assert "the database file is damaged" in line and "sessiongraph doctor" in line
    assert f"{len(out.encode()):,} bytes were written to stdout before that" in line
    target = tmp_path / "out.jsonl"
    code, _, err = invoke("export", MAIN, "--db", db, "--out", str(target))
    assert code == 1 and f"{target} was not written" in one_line(err)
    assert not target.exists() and not target.with_name("out.jsonl.part").exists()


def test_an_unexpected_error_is_one_line_with_its_trace_kept(
    samples_dir: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: Any
) -> None:
    async def bug(*args: Any, **kwargs: Any) -> Any:
        raise ZeroDivisionError("division by zero")

    monkeypatch.setattr(importing_module, "import_paths", bug)
    monkeypatch.setattr(
        sys, "argv", ["sessiongraph", "import", str(samples_dir), "--db", str(tmp_path / "x.db")]
    )
    monkeypatch.delenv("SESSIONGRAPH_DEBUG", raising=False)
    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path))
    with pytest.raises(SystemExit) as exit_:
        main()
    assert exit_.value.code == 1
    err = one_line(capsys.readouterr().err)
    assert "unexpected ZeroDivisionError: division by zero" in err
    assert "SESSIONGRAPH_DEBUG=1" in err
    [trace] = tmp_path.glob("sessiongraph-*.trace.txt")
    assert str(trace) in err and "Traceback" in trace.read_text()
    monkeypatch.setenv("SESSIONGRAPH_DEBUG", "1")
    with pytest.raises(ZeroDivisionError):
        main()


ODD_IDS = ["-rf --help", "-x", "--help", "-f", 'it\'s "quoted"', "sessión-ü-☃", "a b\tc"]


@pytest.fixture(name="odd_db")
def odd_db_fixture(tmp_path: Path) -> Path:
    db = tmp_path / "odd.db"
    for n, session_id in enumerate(ODD_IDS):
        record = {"type": "system", "sessionId": session_id, "content": session_id}
        write_lines(tmp_path / "p" / f"{n}.jsonl", [record])
    assert invoke("import", str(tmp_path / "p"), "--db", str(db))[0] == 0
    return db


@pytest.mark.parametrize("session_id", ODD_IDS)
def test_any_stored_id_can_be_exported_after_dashes(odd_db: Path, session_id: str) -> None:
    code, out, err = invoke("export", "--db", str(odd_db), "--", session_id)
    assert code == 0, err
    assert json.loads(out) == {"type": "system", "sessionId": session_id, "content": session_id}


@pytest.mark.parametrize("session_id", ["-rf --help", "-x", 'it\'s "quoted"', "sessión-ü-☃"])
def test_an_id_that_is_no_option_needs_no_dashes(odd_db: Path, session_id: str) -> None:
    code, out, err = invoke("export", session_id, "--db", str(odd_db), "-f", "jsonl")
    assert code == 0, err
    assert json.loads(out)["sessionId"] == session_id


def test_ids_stay_apart_from_options_with_values(odd_db: Path, tmp_path: Path) -> None:
    target = tmp_path / "-x.jsonl"  # an option's value that looks like an option
    code, _, err = invoke("export", "-o", str(target), "-x", "--format=json", f"--db={odd_db}")
    assert code == 0, err
    assert json.loads(target.read_text())["session"]["sessionId"] == "-x"
    code, _, err = invoke("export", "-x", "--db", str(odd_db), "--nope")
    assert code == 2 and "--nope" in err  # two ids: still a usage error


def test_a_failure_inside_the_worker_is_one_line_with_its_trace_kept(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    def bad_job(self: Any, plan: Any) -> FileJob:
        return FileJob(str(plan.file.path), "not an offset", 0, None, 0)  # type: ignore[arg-type]

    write_lines(tmp_path / "s.jsonl", [{"type": "system", "sessionId": "s"}])
    monkeypatch.setattr(importer_module, "WORKER_MIN_BYTES", 0)
    monkeypatch.setattr(importer_module._Importer, "_job", bad_job)
    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path))
    monkeypatch.delenv("SESSIONGRAPH_DEBUG", raising=False)
    code, _, err = invoke("import", str(tmp_path / "s.jsonl"), "--db", str(tmp_path / "x.db"))
    assert code == 1 and "the import worker failed (TypeError: " in one_line(err)
    [trace] = tmp_path.glob("sessiongraph-*.trace.txt")
    assert str(trace) in err and "Traceback" in trace.read_text()
    monkeypatch.setenv("SESSIONGRAPH_DEBUG", "1")
    code, _, err = invoke("import", str(tmp_path / "s.jsonl"), "--db", str(tmp_path / "x.db"))
    assert code == 1 and "Traceback" in err


def test_damaged_text_with_line_breaks_stays_one_line() -> None:
    # The bytes of a damaged file land in SQLite's message; a line break among them
    # once split the line in two, with the notes in the middle.
    exc = sqlite3.DatabaseError("Could not decode to UTF-8 column 'uuid' with text 'ab\ncd\x1b'")
    exc.add_note("12 bytes were written to stdout before that")
    line = describe(exc)
    assert "\n" not in line and "\x1b" not in line
    assert line.endswith(
        "restore the file from a backup; 12 bytes were written to stdout before that"
    )


def test_a_stored_value_that_does_not_decode_is_one_line_and_no_logged_trace(
    samples_dir: Path,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
) -> None:
    # Damage SQLite does not see: the records of every message are bytes, not JSON. The
    # schema masks what they raise as "Internal error" and logs its trace for a server's
    # operator; a command said "Internal error" after printing that trace.
    db = tmp_path / "x.db"
    assert invoke("import", str(samples_dir), "--db", str(db))[0] == 0
    with sqlite3.connect(db) as conn:
        conn.execute("UPDATE messages SET content = X'80ff', text = NULL")
    conn.close()
    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path))
    for events in ([], ["--events"]):
        code, out, err = invoke("search", "the", "--db", str(db), *events)
        assert code == 1 and out == ""
        line = one_line(err)
        assert "the database file is damaged (a stored value does not decode" in line
        assert "sessiongraph doctor" in line and "full trace in" in line
    assert not [r for r in caplog.records if r.name == "graph.errors"]


def test_a_database_path_that_can_not_be_opened_leaves_no_thread_behind(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # aiosqlite stopped its thread without waiting for it; were the loop closed first,
    # the thread printed "RuntimeError: Event loop is closed" after the error line.
    import asyncio
    import threading

    from graph.errors import StoreError
    from graph.store import Store

    failures: list[BaseException | None] = []
    monkeypatch.setattr(threading, "excepthook", lambda args: failures.append(args.exc_value))
    before = set(threading.enumerate())
    for _ in range(20):
        with pytest.raises(StoreError, match="cannot open database"):
            asyncio.run(Store.open(tmp_path))  # a directory
    for thread in set(threading.enumerate()) - before:
        thread.join(5)
    assert failures == []


USAGE_ERRORS = {
    ("sessions", "--limit", "0"): ("Invalid value for '--limit'", "sessiongraph sessions"),
    ("sessions", "--source", "nope"): ("'nope' is not one of", "sessiongraph sessions"),
    ("export", "X", "--format", "xml"): ("'xml' is not one of", "sessiongraph export"),
    ("--db", "x.db", "sessions"): ("No such option: --db", "sessiongraph"),
    ("nope",): ("No such command 'nope'", "sessiongraph"),
}


@pytest.mark.parametrize("args", list(USAGE_ERRORS), ids=" ".join)
def test_a_usage_error_is_one_line_and_exit_2(
    args: tuple[str, ...], monkeypatch: pytest.MonkeyPatch, capsys: Any
) -> None:
    monkeypatch.setattr(sys, "argv", ["sessiongraph", *args])
    with pytest.raises(SystemExit) as exit_:
        main()
    assert exit_.value.code == 2
    out, err = capsys.readouterr()
    what, command = USAGE_ERRORS[args]
    assert out == "" and what in one_line(err)
    assert err.endswith(f" (see {command} --help)\n")


def test_python_m_graph_gives_the_same_line_and_help_stays_as_it_is(tmp_path: Path) -> None:
    import subprocess

    done = subprocess.run(
        [sys.executable, "-m", "graph", "sessions", "--limit", "0"],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.returncode == 2 and done.stdout == ""
    assert "Invalid value for '--limit'" in one_line(done.stderr)
    assert done.stderr.endswith("(see python -m graph sessions --help)\n")
    done = subprocess.run(
        [sys.executable, "-m", "graph", "sessions", "--help"],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.returncode == 0 and done.stderr == ""
    assert "Usage: python -m graph sessions" in done.stdout and "╭─ Options" in done.stdout
