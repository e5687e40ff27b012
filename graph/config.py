"""Where things live: the database path and the environment variables that set it."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Final

import platformdirs

__all__ = ["APP_NAME", "DB_ENV", "default_db_path", "resolve_db_path"]

APP_NAME: Final = "sessiongraph"
DB_ENV: Final = "SESSIONGRAPH_DB"


def default_db_path() -> Path:
    """``$SESSIONGRAPH_DB``, else ``sessiongraph.db`` in the platform's user data dir."""
    from_env = os.environ.get(DB_ENV)
    if from_env:
        return Path(from_env).expanduser()
    return platformdirs.user_data_path(APP_NAME) / "sessiongraph.db"


def resolve_db_path(flag: Path | None) -> Path:
    """The ``--db`` flag when given (flags override the environment), else the default."""
    return flag.expanduser() if flag is not None else default_db_path()
