"""Canary secrets of each kind, and a Claude Code transcript that carries them everywhere
text is stored: a prompt, thinking, a tool's input and output, an event, the title."""

from __future__ import annotations

import contextlib
import io
import json
from collections.abc import AsyncIterator, Callable
from pathlib import Path

from typer.testing import CliRunner

from graph.cli import app
from graph.crypto import MasterKey
from graph.export import ExportFormat, SecretPass, export_session
from graph.importers.importer import import_paths
from graph.mcp.transcript import transcript_page
from graph.secrets import SecretScanner
from graph.store import Store
from graph.store.keyring import KeyMaterial

KEY = MasterKey(bytes(range(32)))

# Canary values, built so they never sit whole in this file (secret scanners of hosting
# services would flag the repository itself).
AWS = "AKIA" + "QYLPMN5HHHFPZAM2"
GITHUB = "ghp_" + "wWPw5k4aXcaT4fNP0UcnZwJUVFk6LO0pINUx"
GITHUB_FINE = "github_pat_" + "11ABCDEFG0123456789_abcdefghijklmnopqrstuvwxyzABCDEF"
GITLAB = "glpat-" + "xZ1vQ9sL3kT7bN2mR8dF"
SLACK = "xoxb-" + "123456789012-1234567890123-AbCdEfGhIjKlMnOpQrStUvWx"
STRIPE = "sk_live_" + "4eC39HqLyjWDarjtT1zdp7dc"
ANTHROPIC = "sk-ant-api03-" + "Zq8xW2vN5mK9pL3jH7gF1dS6aQ0wE4rT8yU2iO5pA9sD3fG7" + "hJ1kL6zX-AbCd"
OPENAI = "sk-proj-" + "Ab3Cd5Ef7Gh9Ij1Kl3Mn5Op7Qr9St1Uv3Wx5Yz7Ab9Cd1Ef3Gh5Ij7Kl9"
JWT = (
    "eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9."
    "eyJzdWIiOiIxMjM0NTY3ODkwIiwibmFtZSI6IkpvaG4gRG9lIiwiaWF0IjoxNTE2MjM5MDIyfQ."
    "SflKxwRJSMeKKF2QT4fwpMeJf36POk6yJV_adQssw5c"
)
KEY_BLOCK = (
    "-----BEGIN OPENSSH " + "PRIVATE KEY-----\n"
    "b3BlbnNzaC1rZXktdjEAAAAABG5vbmUAAAAEbm9uZQAAAAAAAAABAAAAMwAAAAtzc2gtZW\n"
    "-----END OPENSSH " + "PRIVATE KEY-----"
)
PASSWORD_IN_URL = "Sup3rS3cr3tPw"
ASSIGNED = "9f8e7d6c5b4a39281706f5e4d3c2b1a09f8e7d6c5b4a3928"


SESSION_ID = "5ec2e75e-0000-4000-8000-00000000c0de"

# Where each canary is put, and a word beside it that must stay searchable.
PLACED = {
    "prompt": (AWS, "wombat"),
    "thinking": (GITHUB, "quokka"),
    "tool input": (JWT, "axolotl"),
    "tool output": (ASSIGNED, "narwhal"),
    "tool output 2": (STRIPE, "pangolin"),
    "event": (SLACK, "capybara"),
    "title": (ANTHROPIC, "okapi"),
}
# Only in a progress record: not indexed, so never a finding, but stored all the same.
IN_PROGRESS = GITLAB


def record_base(
    n: int, kind: str, session_id: str = SESSION_ID, uuid_prefix: str = "c"
) -> dict[str, object]:
    """The fields every Claude Code record of a test session has: its ``n``-th record
    (uuid ``<uuid_prefix>-<n>``, a second apart) of type ``kind``."""
    return {
        "type": kind,
        "sessionId": session_id,
        "uuid": f"{uuid_prefix}-{n}",
        "timestamp": f"2026-03-01T10:00:{n:02d}.000Z",
        "cwd": "/home/dev/app",
    }


def transcript_lines() -> list[dict[str, object]]:
    """The canary session's records, as Claude Code writes them."""

    assistant = {
        "id": "msg-1",
        "role": "assistant",
        "model": "claude-opus-4-6",
        "usage": {"input_tokens": 1, "output_tokens": 1},
    }
    return [
        {
            **record_base(1, "user"),
            "message": {"role": "user", "content": f"deploy with key {AWS} said the wombat"},
        },
        {
            **record_base(2, "assistant"),
            "requestId": "r-1",
            "message": {
                **assistant,
                "content": [{"type": "thinking", "thinking": f"the quokka token {GITHUB} is live"}],
            },
        },
        {
            **record_base(3, "assistant"),
            "requestId": "r-1",
            "message": {
                **assistant,
                "content": [
                    {
                        "type": "tool_use",
                        "id": "t-1",
                        "name": "Bash",
                        "input": {
                            "command": f"curl -H 'Authorization: Bearer {JWT}' https://axolotl.example"
                        },
                    }
                ],
            },
        },
        {
            **record_base(4, "user"),
            "message": {
                "role": "user",
                "content": [
                    {
                        "type": "tool_result",
                        "tool_use_id": "t-1",
                        "content": f"narwhal config\nSECRET_KEY_BASE={ASSIGNED}\n"
                        f"STRIPE_KEY={STRIPE} pangolin",
                    }
                ],
            },
        },
        {**record_base(5, "system"), "subtype": "note", "content": f"capybara hook posted {SLACK}"},
        {
            **record_base(6, "progress"),
            "data": {
                "type": "bash_progress",
                "fullOutput": f"$ git push\nremote: using {GITLAB}\n",
            },
        },
        {
            "type": "custom-title",
            "sessionId": SESSION_ID,
            "customTitle": f"okapi rotate {ANTHROPIC}",
        },
    ]


def write_transcript(projects: Path) -> Path:
    """The canary session as ``projects/-home-dev-app/<id>.jsonl``."""
    path = projects / "-home-dev-app" / f"{SESSION_ID}.jsonl"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("".join(json.dumps(line) + "\n" for line in transcript_lines()))
    return path


@contextlib.asynccontextmanager
async def imported_store(
    tmp_path: Path, write: Callable[[Path], Path], *, encrypted: bool
) -> AsyncIterator[Store]:
    """A store (encrypted with ``KEY``, or not) holding what ``write`` puts under
    ``tmp_path/projects``, imported."""
    write(tmp_path / "projects")
    store = await Store.open(tmp_path / "s.db", key=KeyMaterial(key=KEY) if encrypted else None)
    try:
        await import_paths(store, [tmp_path / "projects"])
        yield store
    finally:
        await store.close()


def stored_bytes(db: Path) -> bytes:
    """The bytes of the database file and its WAL: wherever a stored value would be."""
    return b"".join(
        path.read_bytes() for path in (db, db.with_name(db.name + "-wal")) if path.exists()
    )


async def imported_redacted(tmp_path: Path, write: Callable[[Path], Path]) -> bytes:
    """What is stored once ``write``'s transcripts are imported with redaction."""
    write(tmp_path / "projects")
    db = tmp_path / "s.db"
    store = await Store.open(db)
    try:
        await import_paths(store, [tmp_path / "projects"], redact=True)
        await store.checkpoint()
    finally:
        await store.close()
    return stored_bytes(db)


def cli_import(tmp_path: Path, write: Callable[[Path], Path]) -> Path:
    """``tmp_path/s.db``, into which `sessiongraph import` read ``write``'s transcripts."""
    write(tmp_path / "projects")
    db = tmp_path / "s.db"
    done = CliRunner().invoke(app, ["import", str(tmp_path / "projects"), "--db", str(db)])
    assert done.exit_code == 0, done.stderr
    return db


def cli_redact(db: Path) -> str:
    """What `sessiongraph secrets redact --all` says of ``db``."""
    done = CliRunner().invoke(app, ["secrets", "redact", "--all", "--db", str(db)])
    assert done.exit_code == 0, done.stderr
    return done.stdout


async def masked_writings(store: Store, session_id: str) -> list[str]:
    """Every text of the session written with its secrets masked: the MCP transcript's
    first page and the masked jsonl, json and markdown exports."""
    text, _ = await transcript_page(store, session_id, None, 100_000)
    written = [text]
    for fmt in (ExportFormat.JSONL, ExportFormat.JSON, ExportFormat.MARKDOWN):
        out = io.BytesIO()
        await export_session(store, session_id, out, fmt, SecretPass(SecretScanner(), mask=True))
        written.append(out.getvalue().decode())
    return written


async def lossless_export(store: Store, session_id: str) -> tuple[list[object], int]:
    """The session's unmasked jsonl export, as JSON lines, and how many secrets it holds."""
    out, secrets = io.BytesIO(), SecretPass(SecretScanner(), mask=False)
    await export_session(store, session_id, out, ExportFormat.JSONL, secrets)
    return [json.loads(line) for line in out.getvalue().decode().splitlines()], secrets.found
