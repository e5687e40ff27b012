"""Copies of the database set aside before a risky step: written private, removed with care.

A copy holds every value the database held, in the form it had then: a copy taken before
``encrypt`` is plaintext. So a copy is created mode 0600 before SQLite writes a byte
into it, a copy that failed half-way is removed with its journal, and a copy that is no
longer needed is overwritten before it is unlinked.
"""

from __future__ import annotations

import os
import sqlite3
from datetime import UTC, datetime
from pathlib import Path
from typing import Final

import aiosqlite

from graph.store.connection import read_only_uri

__all__ = ["BACKUP_SUFFIX", "backup_path", "copies_of", "copy_database", "is_plaintext", "shred"]

BACKUP_SUFFIX: Final = ".bak"
_CHUNK: Final = 1 << 20


def backup_path(db: Path, label: str) -> Path:
    """Where a copy of ``db`` taken now for ``label`` goes (beside it, never an old name)."""
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%S%f")
    return db.with_name(f"{db.name}.{label}.{stamp}{BACKUP_SUFFIX}")


def copies_of(db: Path) -> list[Path]:
    """The copies sessiongraph set aside beside ``db``, oldest name first."""
    return sorted(db.parent.glob(f"{db.name}.*{BACKUP_SUFFIX}"))


async def _destination(target: Path) -> aiosqlite.Connection:
    return await aiosqlite.connect(target)


async def copy_database(source: aiosqlite.Connection, target: Path) -> None:
    """Copy ``source`` into the new file ``target`` (mode 0600) with SQLite's backup API.

    On any failure (a full disk, say) the partial copy and its journal are removed.
    """
    # Created here, private, before SQLite opens it: SQLite gives its journal the
    # database file's mode, so neither is ever readable by others.
    os.close(os.open(target, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600))
    try:
        dest = await _destination(target)
        try:
            await source.backup(dest)
        finally:
            await dest.close()
    except BaseException:
        for leftover in (target.with_name(target.name + "-journal"), target):
            leftover.unlink(missing_ok=True)
        raise


def shred(path: Path) -> None:
    """Overwrite ``path`` with zeros, flush it, then unlink it (and its journal, WAL and
    shared-memory files: reading a copy of a WAL database makes the last two).

    Of limited value, and said so: a copy-on-write or log-structured filesystem, an
    SSD's wear levelling, or a snapshot may keep the old blocks anyway. It defeats a
    plain undelete of the file; full-disk encryption is what protects the blocks.
    """
    for target in (*(path.with_name(path.name + s) for s in ("-journal", "-wal", "-shm")), path):
        try:
            fd = os.open(target, os.O_WRONLY)
        except FileNotFoundError:
            continue
        try:
            size = os.fstat(fd).st_size
            zeros = bytes(min(size, _CHUNK))
            written = 0
            while written < size:
                written += os.write(fd, zeros[: size - written])
            os.fsync(fd)
        except OSError:
            pass  # a full disk can refuse the flush: unlinking still matters more
        finally:
            os.close(fd)
        target.unlink(missing_ok=True)


def is_plaintext(copy: Path) -> bool | None:
    """Whether a copy holds unencrypted values: None when it can not be read (partial)."""
    try:
        conn = sqlite3.connect(read_only_uri(copy), uri=True)
    except sqlite3.Error:
        return None
    try:
        tables = {row[0] for row in conn.execute("SELECT name FROM sqlite_master")}
        if "sessions" not in tables:
            return None
        if "meta" not in tables:
            return True
        [(mode,)] = conn.execute("SELECT count(*) FROM meta WHERE key = 'crypto.mode'")
        return not mode
    except sqlite3.Error:
        return None
    finally:
        conn.close()
