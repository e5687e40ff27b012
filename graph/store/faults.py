"""Faults of the file itself (a full disk, damaged pages) as one line that says what to do."""

from __future__ import annotations

import errno
import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from graph.errors import StoreError

__all__ = ["database_fault", "file_faults", "is_operational_error"]

_DAMAGED = "run `sessiongraph doctor` to see what is wrong, or restore the file from a backup"


def database_fault(exc: BaseException) -> str | None:
    """One line for a SQLite error that reached a command (a full disk, a damaged or busy
    or read-only file) saying what to do; ``None`` for any other exception."""
    if not isinstance(exc, sqlite3.DatabaseError):
        return None
    text = str(exc)
    lowered = text.lower()
    if "disk is full" in lowered:
        return f"the disk is full ({text}): free some space and run the command again"
    if any(sign in lowered for sign in ("malformed", "not a database", "corrupt", "decode")):
        return f"the database file is damaged ({text}): {_DAMAGED}"
    if "locked" in lowered or "busy" in lowered:
        return f"the database is busy ({text}): another process holds it; try again"
    if "readonly" in lowered or "unable to open" in lowered:
        return f"the database can not be opened or written ({text}): check the file's permissions"
    return f"database error ({text}): {_DAMAGED}"


def is_operational_error(exc: BaseException) -> bool:
    """Whether ``exc`` is SQLite failing to do its work (busy, locked, disk I/O), not a bug."""
    return isinstance(exc, sqlite3.OperationalError)


@contextmanager
def file_faults(path: Path, doing: str, then: str) -> Iterator[None]:
    """Turn SQLite and OS errors raised by the block into a :class:`StoreError`.

    Args:
        path: The database the block works on.
        doing: What the block does, e.g. ``"encrypting"``.
        then: What the user can do about a full disk, e.g. ``"run encrypt again"``.
    """
    try:
        yield
    except sqlite3.DatabaseError as exc:
        text = str(exc)
        if isinstance(exc, sqlite3.OperationalError) and "full" in text:
            raise StoreError(
                f"the disk is full ({text}) while {doing} {path}: free some space, then {then}"
            ) from exc
        if "malformed" in text or "not a database" in text:
            raise StoreError(
                f"{path} is damaged ({text}): restore it from a backup, or "
                f"salvage what is left with `sqlite3 {path} .recover`"
            ) from exc
        raise StoreError(f"{doing} {path} failed: {text}") from exc
    except OSError as exc:
        if exc.errno in (errno.ENOSPC, errno.EDQUOT):
            raise StoreError(
                f"the disk is full ({exc.strerror}) while {doing} {path}: free "
                f"some space, then {then}"
            ) from exc
        raise StoreError(f"{doing} {path} failed: {exc}") from exc
