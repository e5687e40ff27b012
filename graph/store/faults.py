"""Faults of the file itself (a full disk, damaged pages) as one line that says what to do."""

from __future__ import annotations

import errno
import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from graph.errors import StoreError

__all__ = ["file_faults"]


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
