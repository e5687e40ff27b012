"""Migrations: ordered, atomic, checksummed, reversible, backed up, shipped in the wheel."""

from __future__ import annotations

import os
import shutil
import sqlite3
import subprocess
import sys
import zipfile
from collections.abc import Iterator
from pathlib import Path

import pytest

from graph.errors import ChecksumMismatch, MigrationError, SchemaOutOfDate, StoreError
from graph.store import Store, load_migrations
from graph.store.migrations import default_migrations_dir
from tests.conftest import LATEST
from tests.factories import foreign_db, make_sessions

NEXT, AFTER = LATEST + 1, LATEST + 2

REPO = Path(__file__).resolve().parent.parent


def tables(path: Path) -> set[str]:
    with sqlite3.connect(path) as conn:
        return {
            row[0]
            for row in conn.execute(
                "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%'"
            )
        }


@pytest.fixture
def migrations_dir(tmp_path: Path) -> Path:
    """A copy of the real migrations that a test may add to or edit."""
    target = tmp_path / "migrations"
    shutil.copytree(default_migrations_dir(), target)
    return target


async def open_with(db: Path, directory: Path, *, migrate: bool = True) -> Store:
    store = Store(db, migrations=load_migrations(directory))
    await store.connect()
    if migrate:
        await store.migrate()
    return store


async def test_new_database_gets_every_migration_recorded(store: Store, db_path: Path) -> None:
    states = await store.migrator().status()
    assert [(s.version, s.state) for s in states] == [
        (m.version, "applied") for m in load_migrations()
    ]
    assert states[0].name == "initial"
    with sqlite3.connect(db_path) as conn:
        [(version, name, checksum, applied_at), *_] = conn.execute(
            "SELECT version, name, checksum, applied_at FROM schema_migrations ORDER BY version"
        ).fetchall()
    assert (version, name) == (1, "initial")
    assert checksum == load_migrations()[0].checksum and len(checksum) == 64
    assert applied_at
    assert {"sessions", "conversations", "messages", "events", "import_files"} <= tables(db_path)


async def test_wal_foreign_keys_and_readers_are_read_only(store: Store) -> None:
    async with store.read() as reader:
        conn = reader.connection
        assert [tuple(r) for r in await conn.execute_fetchall("PRAGMA journal_mode")] == [("wal",)]
        assert [tuple(r) for r in await conn.execute_fetchall("PRAGMA foreign_keys")] == [(1,)]
        with pytest.raises(sqlite3.OperationalError):
            await conn.execute("DELETE FROM sessions")


@pytest.fixture
def usual_umask() -> Iterator[None]:
    old = os.umask(0o022)  # what a file gets when nobody asks for a mode
    yield
    os.umask(old)


def modes(folder: Path) -> dict[str, int]:
    return {p.name: p.stat().st_mode & 0o777 for p in folder.iterdir()}


@pytest.mark.usefixtures("usual_umask")
async def test_a_new_database_its_wal_and_its_folder_are_private(tmp_path: Path) -> None:
    db = tmp_path / "share" / "sessiongraph" / "s.db"
    store = await Store.open(db)
    try:
        await make_sessions(store, 1)
        async with store.read():
            pass
        assert modes(db.parent) == {"s.db": 0o600, "s.db-wal": 0o600, "s.db-shm": 0o600}
    finally:
        await store.close()
    assert db.parent.stat().st_mode & 0o777 == 0o700
    assert (tmp_path / "share").stat().st_mode & 0o777 == 0o755  # not sessiongraph's own


@pytest.mark.usefixtures("usual_umask")
async def test_an_existing_database_others_can_read_is_made_private(tmp_path: Path) -> None:
    folder = tmp_path / "mine"
    folder.mkdir(mode=0o755)
    db = folder / "s.db"
    await (await Store.open(db)).close()
    db.chmod(0o644)
    (folder / "notes.txt").write_text("the user's own")
    store = await Store.open(db)
    try:
        assert modes(folder) == {
            "s.db": 0o600,
            "s.db-wal": 0o600,
            "s.db-shm": 0o600,
            "notes.txt": 0o644,
        }
    finally:
        await store.close()
    assert folder.stat().st_mode & 0o777 == 0o755


async def test_a_failing_migration_leaves_the_database_as_it_was(
    tmp_path: Path, migrations_dir: Path
) -> None:
    db = tmp_path / "x.db"
    store = await open_with(db, migrations_dir)
    await make_sessions(store, 2)
    await store.close()
    (migrations_dir / f"{NEXT:04d}_broken.sql").write_text(
        "-- migrate:up\nALTER TABLE sessions ADD COLUMN extra TEXT;\n"
        "CREATE TABLE half_done (x);\nINSERT INTO no_such_table VALUES (1);\n"
        "-- migrate:down\nDROP TABLE half_done;\n"
    )
    store = await open_with(db, migrations_dir, migrate=False)
    try:
        with pytest.raises(MigrationError, match=rf"{NEXT:04d}_broken .*rolled back"):
            await store.migrate()
        assert await store.migrator().current_version() == LATEST
    finally:
        await store.close()
    assert "half_done" not in tables(db)
    with sqlite3.connect(db) as conn:
        columns = [row[1] for row in conn.execute("PRAGMA table_info(sessions)")]
        assert "extra" not in columns
        assert conn.execute("SELECT count(*) FROM sessions").fetchone() == (2,)


async def test_an_edited_applied_migration_refuses_to_start(
    tmp_path: Path, migrations_dir: Path
) -> None:
    db = tmp_path / "x.db"
    await (await open_with(db, migrations_dir)).close()
    original = migrations_dir / "0001_initial.sql"
    original.write_text(original.read_text() + "\n-- an innocent-looking edit\n")
    store = await open_with(db, migrations_dir, migrate=False)
    try:
        with pytest.raises(ChecksumMismatch, match="0001_initial was changed after it was applied"):
            await store.migrate()
        assert (await store.migrator().status())[0].state == "changed"
    finally:
        await store.close()


async def test_another_programs_database_is_refused_and_left_untouched(tmp_path: Path) -> None:
    foreign = foreign_db(tmp_path / "notes.db")
    before = foreign.read_bytes()
    for migrate in (True, False):
        with pytest.raises(StoreError, match=r"notes.db is not a sessiongraph database \(its"):
            await Store.open(foreign, migrate=migrate)
    assert foreign.read_bytes() == before and tables(foreign) == {"notes"}
    empty = tmp_path / "empty.db"
    empty.touch()  # an empty file is a new database, as a missing one is
    await (await Store.open(empty)).close()
    assert {"schema_migrations", "sessions"} <= tables(empty)


async def test_a_database_newer_than_the_code_is_refused(
    tmp_path: Path, migrations_dir: Path
) -> None:
    db = tmp_path / "x.db"
    (migrations_dir / f"{NEXT:04d}_more.sql").write_text(
        "-- migrate:up\nCREATE TABLE more (x);\n-- migrate:down\nDROP TABLE more;\n"
    )
    await (await open_with(db, migrations_dir)).close()
    (migrations_dir / f"{NEXT:04d}_more.sql").unlink()
    store = await open_with(db, migrations_dir, migrate=False)
    try:
        with pytest.raises(MigrationError, match="does not know: upgrade sessiongraph"):
            await store.migrate()
    finally:
        await store.close()


async def test_pending_migrations_apply_in_order_after_a_backup(
    tmp_path: Path, migrations_dir: Path
) -> None:
    db = tmp_path / "x.db"
    store = await open_with(db, migrations_dir)
    await make_sessions(store, 3)
    await store.close()
    (migrations_dir / f"{NEXT:04d}_tags.sql").write_text(
        "-- migrate:up\nCREATE TABLE tags (session_pk INTEGER REFERENCES sessions (id));\n"
        "-- migrate:down\nDROP TABLE tags;\n"
    )
    (migrations_dir / f"{AFTER:04d}_tag_names.sql").write_text(
        "-- migrate:up\nALTER TABLE tags ADD COLUMN name TEXT;\n"
        "-- migrate:down\nALTER TABLE tags DROP COLUMN name;\n"
    )
    store = await open_with(db, migrations_dir, migrate=False)
    try:
        applied = await store.migrate()
        assert [m.version for m in applied] == [NEXT, AFTER]
        assert await store.migrator().current_version() == AFTER
    finally:
        await store.close()
    [backup] = list(tmp_path.glob(f"x.db.pre-{AFTER:04d}.*.bak"))
    with sqlite3.connect(backup) as conn:
        assert conn.execute("SELECT max(version) FROM schema_migrations").fetchone() == (LATEST,)
        assert conn.execute("SELECT count(*) FROM sessions").fetchone() == (3,)


async def test_an_empty_database_is_not_backed_up(tmp_path: Path) -> None:
    await (await Store.open(tmp_path / "x.db")).close()
    assert not list(tmp_path.glob("*.bak"))


async def test_down_reverts_and_up_reapplies(tmp_path: Path, migrations_dir: Path) -> None:
    db = tmp_path / "x.db"
    (migrations_dir / f"{NEXT:04d}_tags.sql").write_text(
        "-- migrate:up\nCREATE TABLE tags (x);\n-- migrate:down\nDROP TABLE tags;\n"
    )
    store = await open_with(db, migrations_dir)
    try:
        assert [m.version for m in await store.revert(1)] == [NEXT]
        assert "tags" not in tables(db)
        assert [m.version for m in await store.revert(LATEST)] == list(range(LATEST, 0, -1))
        assert tables(db) == {"schema_migrations"}
        assert await store.migrator().current_version() == 0
        with pytest.raises(MigrationError):
            await store.revert(0)
        assert [m.version for m in await store.migrate()] == list(range(1, NEXT + 1))
        assert {"sessions", "tags"} <= tables(db)
    finally:
        await store.close()
    assert list(tmp_path.glob(f"x.db.pre-down-{NEXT:04d}.*.bak"))


async def test_open_without_migrating_reports_pending(tmp_path: Path) -> None:
    with pytest.raises(SchemaOutOfDate, match="run `sessiongraph migrate up`"):
        await Store.open(tmp_path / "x.db", migrate=False)


@pytest.mark.parametrize(
    ("name", "text", "message"),
    [
        ("0001_Bad-Name.sql", "-- migrate:up\n-- migrate:down\n", "named NNNN_name.sql"),
        ("0001_nodown.sql", "-- migrate:up\nSELECT 1;\n", "followed by"),
        ("0003_gap.sql", "-- migrate:up\n-- migrate:down\n", "out of sequence"),
    ],
)
def test_malformed_migration_files_are_refused(
    tmp_path: Path, name: str, text: str, message: str
) -> None:
    (tmp_path / name).write_text(text)
    with pytest.raises(MigrationError, match=message):
        load_migrations(tmp_path)


def test_the_wheel_ships_migrations_and_graphiql(tmp_path: Path) -> None:
    from hatchling.builders.wheel import WheelBuilder

    [wheel] = WheelBuilder(str(REPO)).build(directory=str(tmp_path), versions=["standard"])
    with zipfile.ZipFile(wheel) as archive:
        names = set(archive.namelist())
        shipped = archive.read("graph/migrations/0001_initial.sql")
    assert shipped == (REPO / "migrations" / "0001_initial.sql").read_bytes()
    assert "graph/static/graphiql/graphiql.min.js" in names
    assert {"graph/templates/graphiql.html", "graph/templates/graphiql.js"} <= names
    assert "graph/py.typed" in names
    assert not any(name.startswith("tests/") for name in names)
    # An installed copy, away from the source tree, finds and applies them.
    site = tmp_path / "site"
    with zipfile.ZipFile(wheel) as archive:
        archive.extractall(site)
    # ... and imports through a worker process, which must find the same copy.
    script = (
        "import asyncio, graph, pathlib, sys\n"
        "from graph.importers.importer import import_paths\n"
        "from graph.store import Store\n"
        "async def main():\n"
        "    store = await Store.open(pathlib.Path('installed.db'))\n"
        "    done = await import_paths(store, [pathlib.Path(sys.argv[1])], worker=True)\n"
        "    print(graph.__file__, await store.migrator().current_version(), done.messages_added)\n"
        "    await store.close()\n"
        "asyncio.run(main())\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", script, str(REPO / "tests" / "fixtures" / "claude-code")],
        cwd=tmp_path,
        env={**os.environ, "PYTHONPATH": str(site)},
        capture_output=True,
        text=True,
        check=True,
    )
    location, version, messages = result.stdout.split()
    assert Path(location).is_relative_to(site)
    assert version == str(LATEST)
    assert int(messages) > 0
