"""Backups of the database file, and bringing one back.

A backup is SQLite's online backup of one read transaction: the copy is the database
as of one commit, its counts are read in that same transaction, and in WAL mode the
read blocks no writer (``serve`` and ``import --watch`` go on). It is written to a
temporary name with mode 0600, checked (``integrity_check``, the same counts), and only
then renamed into place. Pages are copied as they are: an encrypted database's copy is
as encrypted, and opens only with the same key.

A restore checks the backup first (integrity, schema, key) and touches nothing if it
fails; it refuses while a server or an import holds the target (see :func:`hold`), sets
the current file aside until the restored one has opened (and migrated, if older), and
puts it back if anything fails.
"""

from __future__ import annotations

import contextlib
import fcntl
import os
import sqlite3
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Final

from graph.errors import StoreError
from graph.store.connection import read_only_uri, refuse_foreign
from graph.store.keyring import KeyMaterial, codec_for

__all__ = [
    "Backup",
    "BusyDatabase",
    "backup",
    "backups_of",
    "default_backup_dir",
    "exclusive",
    "hold",
    "prune",
    "restore",
]

_TABLES: Final = ("sessions", "conversations", "messages", "events")
_SUFFIX: Final = ".backup.db"


class BusyDatabase(StoreError):
    """A server or an import has the database open (it can not be replaced or re-sealed
    now), or it is being replaced or re-sealed (it can not be opened now)."""


@dataclass(frozen=True, slots=True)
class Backup:
    """A verified copy: where, when, and what it holds."""

    path: Path
    created: datetime
    counts: dict[str, int]
    schema_version: int
    size: int


def default_backup_dir(db: Path) -> Path:
    """``backups/`` beside the database."""
    return db.parent / "backups"


def _lease_path(db: Path) -> Path:
    return db.with_name(db.name + ".lease")


@contextlib.contextmanager
def _lease(db: Path, mode: int, busy: str) -> Iterator[None]:
    """A lock of ``mode`` on the file beside ``db``, or :class:`BusyDatabase` saying
    ``busy`` at once (never a wait with nothing said)."""
    db.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    fd = os.open(_lease_path(db), os.O_RDWR | os.O_CREAT, 0o600)
    try:
        try:
            fcntl.flock(fd, mode | fcntl.LOCK_NB)
        except BlockingIOError:
            raise BusyDatabase(busy) from None
        yield
    finally:
        os.close(fd)


def hold(db: Path) -> contextlib.AbstractContextManager[None]:
    """Mark ``db`` as in use (a server, an import) for as long as the context lasts.

    A shared lock on a file beside the database: any number of holders, and
    :func:`exclusive` (``restore``, ``encrypt``, ``rotate-key``) refuses while one
    exists. The kernel drops the lock with the process, so a killed server leaves
    nothing stale behind.

    Raises:
        BusyDatabase: one of those is running: what it rewrites must not change under
            it, nor be written the old way (in plaintext, with a retired key) meanwhile.
    """
    return _lease(
        db,
        fcntl.LOCK_SH,
        f"{db} is being encrypted, re-keyed or restored by another sessiongraph: "
        "run this again when that has finished",
    )


def exclusive(db: Path, then: str) -> contextlib.AbstractContextManager[None]:
    """Have ``db`` to itself: no server or import holds it (see :func:`hold`), and none
    starts until the context ends.

    Raises:
        BusyDatabase: one holds it; ``then`` is the command to run once it is stopped.
    """
    return _lease(
        db,
        fcntl.LOCK_EX,
        f"{db} is in use by a running `serve` or `import` (or a hook's import): "
        f"stop it, then {then}",
    )


def _counts(conn: sqlite3.Connection) -> dict[str, int]:
    return {t: int(conn.execute(f"SELECT count(*) FROM {t}").fetchone()[0]) for t in _TABLES}


def _schema_version(conn: sqlite3.Connection) -> int:
    row = conn.execute("SELECT coalesce(max(version), 0) FROM schema_migrations").fetchone()
    return int(row[0])


def _check(path: Path) -> tuple[dict[str, int], int, dict[str, str]]:
    """Counts, schema version and crypto state of a database file that must be whole.

    Raises:
        StoreError: not a sessiongraph database, or damaged.
    """
    try:
        conn = sqlite3.connect(read_only_uri(path), uri=True)
    except sqlite3.Error as exc:
        raise StoreError(f"{path} can not be opened: {exc}") from None
    try:
        result = conn.execute("PRAGMA integrity_check").fetchone()[0]
        if result != "ok":
            raise StoreError(f"{path} is damaged: integrity_check says {result!r}")
        names = {row[0] for row in conn.execute("SELECT name FROM sqlite_master")}
        if not {"schema_migrations", *_TABLES} <= names:
            raise StoreError(f"{path} is not a sessiongraph database")
        state = (
            {
                str(k): str(v)
                for k, v in conn.execute("SELECT key, value FROM meta WHERE key LIKE 'crypto.%'")
            }
            if "meta" in names
            else {}
        )
        return _counts(conn), _schema_version(conn), state
    except sqlite3.DatabaseError as exc:
        raise StoreError(f"{path} is not a usable database: {exc}") from None
    finally:
        conn.close()


def backup(db: Path, target: Path) -> Backup:
    """Copy ``db`` to ``target`` (a file path) as of one commit, verified, mode 0600.

    Raises:
        StoreError: ``db`` is not a sessiongraph database, or the copy failed its checks.
    """
    refuse_foreign(db)
    temporary = target.with_name(f".{target.name}.{os.getpid()}.part")
    target.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    os.close(os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600))
    try:
        source = sqlite3.connect(read_only_uri(db), uri=True, isolation_level=None)
        try:
            source.execute("BEGIN")
            counts = _counts(source)  # the read transaction's snapshot: what is copied
            dest = sqlite3.connect(temporary)
            try:
                source.backup(dest)
                dest.execute("PRAGMA journal_mode = DELETE")  # a single file, no -wal
            finally:
                dest.close()
            source.execute("COMMIT")
        finally:
            source.close()
        copied, version, _ = _check(temporary)
        if copied != counts:
            raise StoreError(f"the copy of {db} does not hold what it held: {copied} != {counts}")
        os.chmod(temporary, 0o600)
        temporary.replace(target)
    except BaseException:
        temporary.unlink(missing_ok=True)
        raise
    return Backup(target, datetime.now(UTC), counts, version, target.stat().st_size)


def backup_name(db: Path, when: datetime | None = None) -> str:
    """``<db stem>-<UTC time>.backup.db``: sorts by time."""
    stamp = (when or datetime.now(UTC)).strftime("%Y%m%dT%H%M%S%fZ")
    return f"{db.stem}-{stamp}{_SUFFIX}"


def backups_of(db: Path, directory: Path | None = None) -> list[Path]:
    """The backups of ``db`` in ``directory`` (default: ``backups/``), oldest first."""
    directory = directory or default_backup_dir(db)
    if not directory.is_dir():
        return []
    return sorted(p for p in directory.glob(f"{db.stem}-*{_SUFFIX}") if p.is_file())


def prune(db: Path, keep: int, directory: Path | None = None) -> list[Path]:
    """Delete all but the ``keep`` newest backups; the paths deleted."""
    found = backups_of(db, directory)
    doomed = found[: max(len(found) - keep, 0)]
    for path in doomed:
        path.unlink(missing_ok=True)
    return doomed


async def restore(backup_path: Path, db: Path, key: KeyMaterial | None) -> Backup:
    """Put ``backup_path`` in place of ``db`` (see the module docstring).

    Raises:
        StoreError: the backup is damaged, foreign or newer than this code, or ``db``
            is another program's database.
        ConfigError: it is encrypted and ``key`` does not open it (or the reverse).
        BusyDatabase: a server or an import holds ``db``.
    """
    from graph.store.migrations import load_migrations  # the migrations' files, lazily

    counts, version, state = _check(backup_path)
    latest = load_migrations()[-1].version
    if version > latest:
        raise StoreError(
            f"{backup_path} is at schema version {version}, newer than this sessiongraph "
            f"({latest}): restore it with the version that made it"
        )
    codec_for(state, key, str(backup_path))  # a wrong or missing key fails here
    refuse_foreign(db)  # set aside, then deleted: only ever a sessiongraph database
    with exclusive(db, "restore"):
        return await _swap(backup_path, db, counts, version, key)


async def _swap(
    backup_path: Path, db: Path, counts: dict[str, int], version: int, key: KeyMaterial | None
) -> Backup:
    from graph.store.store import Store  # the store module imports this one

    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%S%fZ")
    files = [db, db.with_name(db.name + "-wal"), db.with_name(db.name + "-shm")]
    aside = [f.with_name(f"{f.name}.replaced-{stamp}") for f in files]
    for current, saved in zip(files, aside, strict=True):
        if current.exists():
            current.replace(saved)
    try:
        copied = backup(backup_path, db)
        if copied.counts != counts:
            raise StoreError(f"the restored copy of {backup_path} does not match it")
        # Opened once with its key, and migrated if it is older, before the replaced
        # file goes: a restore that can not open is undone.
        store = await Store.open(db, key=key, backup=False)
        await store.close()
    except BaseException:
        for current, saved in zip(files, aside, strict=True):
            current.unlink(missing_ok=True)
            if saved.exists():
                saved.replace(current)
        raise
    for saved in aside:
        saved.unlink(missing_ok=True)
    return Backup(db, copied.created, counts, version, copied.size)
