"""Numbered SQL migrations, recorded with their checksums in ``schema_migrations``.

A migration is a file ``NNNN_name.sql`` with an ``-- migrate:up`` part and a
``-- migrate:down`` part. Each one is applied inside its own transaction together with
its row in ``schema_migrations``, so a failure leaves the database as it was.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Literal

from graph.errors import ChecksumMismatch, MigrationError

if TYPE_CHECKING:
    import aiosqlite

__all__ = [
    "Migration",
    "MigrationState",
    "Migrator",
    "default_migrations_dir",
    "load_migrations",
]

_FILE_NAME = re.compile(r"^(?P<version>\d{4})_(?P<name>[a-z0-9_]+)\.sql$")
_UP = "-- migrate:up"
_DOWN = "-- migrate:down"

_BOOKKEEPING = """
CREATE TABLE IF NOT EXISTS schema_migrations (
    version    INTEGER PRIMARY KEY,
    name       TEXT NOT NULL,
    checksum   TEXT NOT NULL,
    applied_at TEXT NOT NULL
)
"""


@dataclass(frozen=True, slots=True)
class Migration:
    """One migration file, parsed."""

    version: int
    name: str
    up: str
    down: str
    checksum: str


@dataclass(frozen=True, slots=True)
class MigrationState:
    """A migration as ``migrate status`` reports it."""

    version: int
    name: str
    state: Literal["applied", "pending", "changed", "unknown"]
    applied_at: str | None


def default_migrations_dir() -> Path:
    """Where the migrations are: inside the installed package, else the source tree."""
    package = Path(__file__).resolve().parent.parent
    for candidate in (package / "migrations", package.parent / "migrations"):
        if candidate.is_dir():
            return candidate
    raise MigrationError(f"no migrations directory found near {package}")


def _parse(path: Path) -> Migration:
    match = _FILE_NAME.match(path.name)
    if match is None:
        raise MigrationError(f"{path.name}: migration files are named NNNN_name.sql")
    text = path.read_text(encoding="utf-8")
    up_at, down_at = text.find(_UP), text.find(_DOWN)
    if up_at < 0 or down_at < up_at:
        raise MigrationError(f"{path.name}: needs '{_UP}' followed by '{_DOWN}'")
    return Migration(
        version=int(match["version"]),
        name=match["name"],
        up=text[up_at + len(_UP) : down_at].strip(),
        down=text[down_at + len(_DOWN) :].strip(),
        checksum=hashlib.sha256(text.encode()).hexdigest(),
    )


def load_migrations(directory: Path | None = None) -> list[Migration]:
    """Parse every migration in ``directory``, in version order, checking numbering."""
    directory = directory or default_migrations_dir()
    migrations = sorted((_parse(path) for path in directory.glob("*.sql")), key=lambda m: m.version)
    for expected, migration in enumerate(migrations, start=1):
        if migration.version != expected:
            raise MigrationError(
                f"migration {migration.version:04d}_{migration.name} is out of sequence: "
                f"expected {expected:04d}"
            )
    return migrations


class Migrator:
    """Applies and reverts migrations on one writable connection."""

    def __init__(self, conn: aiosqlite.Connection, migrations: list[Migration]) -> None:
        self._conn = conn
        self._migrations = migrations

    @property
    def latest_version(self) -> int:
        """The version the code expects the database to be at."""
        return self._migrations[-1].version if self._migrations else 0

    async def _applied(self) -> dict[int, tuple[str, str, str]]:
        await self._conn.execute(_BOOKKEEPING)
        rows = await self._conn.execute_fetchall(
            "SELECT version, name, checksum, applied_at FROM schema_migrations"
        )
        return {row[0]: (row[1], row[2], row[3]) for row in rows}

    async def current_version(self) -> int:
        """The highest applied version, 0 for a new database."""
        applied = await self._applied()
        return max(applied, default=0)

    async def status(self) -> list[MigrationState]:
        """Every known migration and every applied one, with its state."""
        applied = await self._applied()
        states = []
        for migration in self._migrations:
            row = applied.pop(migration.version, None)
            if row is None:
                states.append(MigrationState(migration.version, migration.name, "pending", None))
            else:
                states.append(
                    MigrationState(
                        migration.version,
                        migration.name,
                        "applied" if row[1] == migration.checksum else "changed",
                        row[2],
                    )
                )
        states.extend(
            MigrationState(version, name, "unknown", applied_at)
            for version, (name, _, applied_at) in sorted(applied.items())
        )
        return states

    async def verify(self) -> None:
        """Refuse a database whose applied migrations differ from the code's.

        Raises:
            ChecksumMismatch: an applied migration file was edited after it ran.
            MigrationError: the database is newer than this code.
        """
        for state in await self.status():
            if state.state == "changed":
                raise ChecksumMismatch(
                    f"migration {state.version:04d}_{state.name} was changed after it was "
                    "applied to this database; restore the original file or use a new migration"
                )
            if state.state == "unknown":
                raise MigrationError(
                    f"the database has migration {state.version:04d}_{state.name}, which this "
                    "version of sessiongraph does not know: upgrade sessiongraph"
                )

    async def pending(self) -> list[Migration]:
        """Migrations not yet applied, in order (after verifying the applied ones)."""
        await self.verify()
        current = await self.current_version()
        return [m for m in self._migrations if m.version > current]

    async def up(self) -> list[Migration]:
        """Apply every pending migration, each in its own transaction."""
        done = []
        for migration in await self.pending():
            await self._run(migration, migration.up, applied=True)
            done.append(migration)
        return done

    async def down(self, steps: int) -> list[Migration]:
        """Revert the ``steps`` most recent migrations, newest first."""
        if steps < 1:
            raise MigrationError("migrate down needs a number of steps of at least 1")
        await self.verify()
        current = await self.current_version()
        targets = [m for m in reversed(self._migrations) if m.version <= current][:steps]
        for migration in targets:
            await self._run(migration, migration.down, applied=False)
        return targets

    async def _run(self, migration: Migration, script: str, *, applied: bool) -> None:
        # executescript() commits a pending transaction first, so BEGIN goes inside it.
        try:
            await self._conn.executescript(f"BEGIN IMMEDIATE;\n{script}\n;")
            if applied:
                await self._conn.execute(
                    "INSERT INTO schema_migrations (version, name, checksum, applied_at) "
                    "VALUES (?, ?, ?, ?)",
                    (
                        migration.version,
                        migration.name,
                        migration.checksum,
                        datetime.now(UTC).isoformat(timespec="seconds"),
                    ),
                )
            else:
                await self._conn.execute(
                    "DELETE FROM schema_migrations WHERE version = ?", (migration.version,)
                )
            await self._conn.execute("COMMIT")
        except Exception as exc:
            if self._conn.in_transaction:
                await self._conn.execute("ROLLBACK")
            direction = "up" if applied else "down"
            raise MigrationError(
                f"migration {migration.version:04d}_{migration.name} ({direction}) failed and "
                f"was rolled back: {exc}"
            ) from exc
