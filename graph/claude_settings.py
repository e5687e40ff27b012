"""Claude Code's own files: where they live, and editing its JSON settings without harm.

Everything Claude Code keeps is under its config directory, ``~/.claude`` unless
``$CLAUDE_CONFIG_DIR`` says otherwise (then ``.claude.json`` moves in there too).

Edits follow one discipline (:class:`JsonFile`): a file that is not a JSON object is
refused and left as it is; a changed file is first copied aside, then replaced in one
rename, so Claude Code never reads half a file; an edit that changes nothing writes
nothing.
"""

from __future__ import annotations

import contextlib
import difflib
import json
import os
import shutil
import stat
import sys
import tempfile
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Final

from graph.errors import ConfigError

__all__ = [
    "CONFIG_DIR_ENV",
    "DEFAULT_CLEANUP_DAYS",
    "CleanupPeriod",
    "JsonFile",
    "cleanup_period",
    "config_dir",
    "global_config_path",
    "history_path",
    "managed_settings_path",
    "project_settings_path",
    "projects_dir",
    "user_settings_path",
]

CONFIG_DIR_ENV: Final = "CLAUDE_CONFIG_DIR"
# Claude Code deletes transcripts not modified for this many days, at start-up.
DEFAULT_CLEANUP_DAYS: Final = 30

Settings = dict[str, Any]


def config_dir() -> Path:
    """Claude Code's config directory: ``$CLAUDE_CONFIG_DIR``, else ``~/.claude``."""
    configured = os.environ.get(CONFIG_DIR_ENV)
    return Path(configured).expanduser() if configured else Path.home() / ".claude"


def user_settings_path() -> Path:
    """The user's ``settings.json``."""
    return config_dir() / "settings.json"


def project_settings_path(project: Path) -> Path:
    """A project's shared ``.claude/settings.json``."""
    return project / ".claude" / "settings.json"


def projects_dir() -> Path:
    """Where the transcripts are: ``projects/<project>/<sessionId>.jsonl``."""
    return config_dir() / "projects"


def history_path() -> Path:
    """``history.jsonl``: every prompt typed, with its session and project."""
    return config_dir() / "history.jsonl"


def global_config_path() -> Path:
    """``.claude.json`` (state and user-scope MCP servers): in the home directory by default."""
    configured = os.environ.get(CONFIG_DIR_ENV)
    return (
        Path(configured).expanduser() / ".claude.json"
        if configured
        else Path.home() / ".claude.json"
    )


def managed_settings_path() -> Path:
    """The system-wide managed settings file, which overrides the user's."""
    if sys.platform == "darwin":
        return Path("/Library/Application Support/ClaudeCode/managed-settings.json")
    return Path("/etc/claude-code/managed-settings.json")


@dataclass(frozen=True, slots=True)
class CleanupPeriod:
    """How many days Claude Code keeps an untouched transcript, and who said so."""

    days: int
    source: str  # a settings file, or "default"


def cleanup_period() -> CleanupPeriod:
    """The effective ``cleanupPeriodDays``: managed settings, else the user's, else 30.

    Claude Code refuses the key in a project's shared settings, and the sweep runs at
    every start-up whatever the project, so a project's local file is not consulted.
    An unreadable file counts as not setting it.
    """
    for path in (managed_settings_path(), user_settings_path()):
        try:
            settings = JsonFile(path).load()
        except ConfigError:
            continue
        value = settings.get("cleanupPeriodDays")
        if isinstance(value, int) and not isinstance(value, bool) and value >= 0:
            return CleanupPeriod(value, str(path))
    return CleanupPeriod(DEFAULT_CLEANUP_DAYS, "default")


def dumps(settings: Settings) -> str:
    """Settings as written back: two-space indents, keys in their order, UTF-8 as is."""
    return json.dumps(settings, indent=2, ensure_ascii=False) + "\n"


@dataclass(frozen=True, slots=True)
class JsonFile:
    """A JSON settings file that holds one object (missing: an empty one)."""

    path: Path

    def load(self) -> Settings:
        """The object in the file, ``{}`` if there is no file.

        Raises:
            ConfigError: the file is unreadable, not JSON, or not a JSON object.
        """
        try:
            text = self.path.read_text(encoding="utf-8")
        except FileNotFoundError:
            return {}
        except (OSError, UnicodeDecodeError) as exc:
            raise ConfigError(f"cannot read {self.path}: {_reason(exc)}; left untouched") from exc
        if not text.strip():
            return {}
        try:
            value = json.loads(text)
        except json.JSONDecodeError as exc:
            raise ConfigError(
                f"{self.path} is not valid JSON ({exc.msg} at line {exc.lineno} column "
                f"{exc.colno}); left untouched"
            ) from exc
        if not isinstance(value, dict):
            raise ConfigError(f"{self.path} does not hold a JSON object; left untouched")
        return value

    def diff(self, before: Settings, after: Settings) -> str:
        """A unified diff of the two versions, as :func:`dumps` writes them."""
        return "".join(
            difflib.unified_diff(
                dumps(before).splitlines(keepends=True),
                dumps(after).splitlines(keepends=True),
                fromfile=str(self.path),
                tofile=str(self.path),
            )
        )

    def save(self, settings: Settings) -> Path | None:
        """Replace the file with ``settings``, copying the old one aside first.

        Returns:
            The backup's path (``None`` when there was no file to back up).
        """
        backup = None
        mode = 0o644
        if self.path.exists():
            mode = stat.S_IMODE(self.path.stat().st_mode)
            stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%S%f")
            backup = self.path.with_name(f"{self.path.name}.sessiongraph-{stamp}.bak")
            shutil.copy2(self.path, backup)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        fd, temp = tempfile.mkstemp(prefix=f".{self.path.name}.", dir=self.path.parent)
        try:
            with os.fdopen(fd, "w", encoding="utf-8") as handle:
                handle.write(dumps(settings))
                handle.flush()
                os.fsync(handle.fileno())
            os.chmod(temp, mode)
            os.replace(temp, self.path)
        except BaseException:
            with contextlib.suppress(OSError):
                os.unlink(temp)
            raise
        return backup


def _reason(exc: Exception) -> str:
    if isinstance(exc, OSError):
        return exc.strerror or type(exc).__name__
    return str(exc)
