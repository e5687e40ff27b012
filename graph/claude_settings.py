"""Claude Code's own files: where they live, and what its settings say.

Everything Claude Code keeps is under its config directory, ``~/.claude`` unless
``$CLAUDE_CONFIG_DIR`` says otherwise (then ``.claude.json`` moves in there too). Its
JSON files are read and edited as :class:`~graph.json_settings.JsonFile` does.
"""

from __future__ import annotations

import os
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Final

from graph.errors import ConfigError
from graph.json_settings import JsonFile

__all__ = [
    "CONFIG_DIR_ENV",
    "DEFAULT_CLEANUP_DAYS",
    "CleanupPeriod",
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
