"""Gemini CLI's own files: its config directory and its ``settings.json`` files.

Gemini CLI keeps everything under ``~/.gemini`` (``$GEMINI_CLI_HOME/.gemini`` when that is
set): chats under ``tmp/``, the user's settings in ``settings.json``. A project's settings
are its ``.gemini/settings.json`` (read only in folders the user trusts).
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Final

__all__ = ["HOME_ENV", "config_dir", "project_settings_path", "user_settings_path"]

HOME_ENV: Final = "GEMINI_CLI_HOME"


def config_dir() -> Path:
    """``$GEMINI_CLI_HOME/.gemini``, else ``~/.gemini``."""
    home = os.environ.get(HOME_ENV)
    return (Path(home).expanduser() if home else Path.home()) / ".gemini"


def user_settings_path() -> Path:
    """The user's ``settings.json``."""
    return config_dir() / "settings.json"


def project_settings_path(project: Path) -> Path:
    """``project``'s ``.gemini/settings.json``."""
    return project / ".gemini" / "settings.json"
