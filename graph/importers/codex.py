"""OpenAI Codex CLI rollouts: ``$CODEX_HOME/sessions/YYYY/MM/DD/rollout-*.jsonl``.

The format's entry: where its rollouts are, which files are its, what a session's
resume command is. Their lines are read by :mod:`graph.importers.codex_parser`.
"""

from __future__ import annotations

import os
import re
import shlex
from pathlib import Path
from typing import Any, Final

from graph.blocks import no_cache_ttl
from graph.blocks.codex import blocks as codex_blocks
from graph.blocks.codex import item_blocks
from graph.importers.codex_parser import SOURCE, CodexParser, is_context_prompt
from graph.importers.files import TranscriptFile
from graph.inputs import EventLookup

__all__ = ["CODEX", "CodexFormat", "CodexParser", "is_context_prompt"]

_NAME_UUID: Final = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$")


class CodexFormat:
    """Codex CLI: ``$CODEX_HOME/sessions`` and ``archived_sessions`` (default ``~/.codex``)."""

    source: Final = SOURCE
    label: Final = "Codex CLI"
    # A sub-agent's rollout read after its parent's: the spawn call that started it.
    agent_parent: Final = EventLookup(
        type="collab_agent_spawn_end",
        subtype=None,
        match_path="$.payload.new_thread_id",
        value_path="$.payload.call_id",
    )

    def default_roots(self) -> list[Path]:
        home = os.environ.get("CODEX_HOME")
        base = Path(home) if home else Path.home() / ".codex"
        return [base / "sessions", base / "archived_sessions"]

    def accepts(self, path: Path) -> bool:
        return path.suffix == ".jsonl"

    def document_reader(self, path: str, *, fallback_timestamp: str) -> None:
        return None  # lines only

    def claims(self, path: Path, first_line: bytes) -> bool:
        if path.suffix != ".jsonl":
            return False
        if path.name.startswith("rollout-"):
            return True
        return first_line.startswith(b"{") and b'"type":"session_meta"' in first_line

    def file_at(self, path: Path) -> TranscriptFile:
        # rollout-<timestamp>-<uuid>.jsonl: the session_meta line names the session, the
        # uuid at the end of the name stands in for it until then.
        path = path.absolute()
        match = _NAME_UUID.search(path.stem)
        hint = match.group(0) if match else path.stem
        return TranscriptFile(path, False, hint, "", path.parent, self.source)

    def subagent_files(self, transcript: Path, session_id: str) -> list[Path]:
        return []  # a rollout holds its whole session

    def parser(
        self, path: str, *, previous_timestamp: str | None, fallback_timestamp: str
    ) -> CodexParser:
        return CodexParser(
            path, previous_timestamp=previous_timestamp, fallback_timestamp=fallback_timestamp
        )

    # Its content blocks and 1-hour cache writes: what graph.blocks reads stored records
    # of its sessions with.
    blocks: Final = staticmethod(codex_blocks)
    cache_writes_1h: Final = staticmethod(no_cache_ttl)

    def shown_model(self, model: str | None) -> str | None:
        return model

    def typed_prompt(self, record: dict[str, Any]) -> str | None:
        # A user message, unless it is context Codex added (AGENTS.md, the environment).
        item = record.get("payload")
        if not isinstance(item, dict) or item.get("type") != "message":
            return None
        if record.get("type") != "response_item" or item.get("role") != "user":
            return None
        text = "\n".join(
            block["text"] for block in item_blocks(record) if block.get("type") == "text"
        ).strip()
        return text if text and not is_context_prompt(text) else None

    def resume_command(self, session_id: str, cwd: str | None) -> str:
        command = f"codex resume {shlex.quote(session_id)}"
        return f"cd {shlex.quote(cwd)} && {command}" if cwd else command


CODEX: Final = CodexFormat()
