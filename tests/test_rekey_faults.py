"""Faults around keys and re-sealing: kills, full disks, damaged files, tampered values."""

from __future__ import annotations

import asyncio
import os
import shutil
import sqlite3
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import aiosqlite
import pytest
from typer.testing import CliRunner

from graph.cli import app as cli
from graph.crypto import MasterKey
from graph.errors import CleanupPending, ConfigError, StoreError
from graph.keys import write_key_file
from graph.store import Store, snapshots
from graph.store.keyring import KeyMaterial, crypto_state
from graph.store.rekey import encrypt_database, rotate_key
from tests.conftest import LATEST
from tests.factories import foreign_db, make_sessions, move_sealed
from tests.search_corpus import build_corpus

KEY = MasterKey(bytes(range(32)))
OTHER = MasterKey(bytes(range(1, 33)))
runner = CliRunner()


def material(key: MasterKey = KEY) -> KeyMaterial:
    return KeyMaterial(key=key)


@pytest.fixture(autouse=True)
def usual_umask() -> Iterator[None]:
    old = os.umask(0o022)  # what a copy's mode is measured against
    yield
    os.umask(old)


async def plaintext_db(path: Path, sessions: int = 6) -> Path:
    store = await Store.open(path)
    await build_corpus(store, sessions=sessions)
    await store.close()
    return path


async def connected(path: Path) -> Store:
    store = Store(path)
    await store.connect()
    return store


def copies(db: Path) -> list[Path]:
    """What is beside ``db`` but the lease file (``x.db.lease``, see snapshots.hold)."""
    return sorted(p for p in db.parent.glob(f"{db.name}.*") if p.suffix != ".lease")


async def assert_cleaned_up_on_open(db: Path) -> None:
    """The next open of the encrypted ``db`` finishes the clean-up a re-seal owed: nothing
    left to report, no copy beside it, no plaintext in the file."""
    store = await Store.open(db, key=material())
    try:
        assert await store.check() == []
    finally:
        await store.close()
    assert copies(db) == [] and b"deadlock" not in db.read_bytes()


def killed_at(monkeypatch: pytest.MonkeyPatch, target: Any, name: str) -> None:
    """``target.name`` raises KeyboardInterrupt once: as good as kill -9 for what was
    committed before it."""
    real = getattr(target, name)

    def crash(*args: Any, **kwargs: Any) -> Any:
        monkeypatch.setattr(target, name, real)
        raise KeyboardInterrupt

    monkeypatch.setattr(target, name, crash)


# item 2: a kill at the end of encrypt


@pytest.mark.parametrize("point", ["vacuum", "copy removal"])
async def test_a_kill_after_encrypt_commits_is_finished_by_running_it_again(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, point: str
) -> None:
    db = await plaintext_db(tmp_path / "x.db")
    if point == "vacuum":
        killed_at(monkeypatch, Store, "vacuum")
    else:
        import graph.store.upkeep

        killed_at(monkeypatch, graph.store.upkeep, "shred")  # the name the store calls
    store = await connected(db)
    with pytest.raises(KeyboardInterrupt):
        await encrypt_database(store, material())
    await store.close()
    [backup] = [p for p in copies(db) if p.name.endswith(".bak")]
    assert backup.stat().st_mode & 0o777 == 0o600  # private while it exists

    # doctor (which does not repair) says what is left; the values themselves are fine
    store = await Store.open(db, key=material(), cleanup=False)
    problems = await store.check()
    await store.close()
    assert any("clean-up after encrypt or rotate-key did not finish" in p for p in problems)
    assert (point == "copy removal") or any(f"copy {backup}" in p for p in problems)

    store = await connected(db)
    assert await encrypt_database(store, material())  # not "already encrypted"
    await store.close()
    assert not backup.exists() and copies(db) == []
    content = db.read_bytes()  # vacuumed: no free page keeps the plaintext
    assert b"deadlock" not in content and b"vector" not in content
    store = await connected(db)
    with pytest.raises(ConfigError, match="already encrypted"):
        await encrypt_database(store, material())
    await store.close()
    store = await Store.open(db, key=material())
    try:
        assert await store.check() == []
    finally:
        await store.close()


async def test_the_next_open_finishes_an_interrupted_clean_up(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    db = await plaintext_db(tmp_path / "x.db")
    killed_at(monkeypatch, Store, "vacuum")
    store = await connected(db)
    with pytest.raises(KeyboardInterrupt):
        await encrypt_database(store, material())
    await store.close()
    await assert_cleaned_up_on_open(db)


async def test_a_reader_holding_old_pages_keeps_the_clean_up_owed_not_done(
    tmp_path: Path,
) -> None:
    """Another process's read keeps the WAL from being folded back after the VACUUM: the
    file still holds plaintext pages. The clean-up stays owed (its copy kept), encrypt
    says so, and the next open after the reader is gone finishes it (the result of the
    fold was ignored: the copy was shredded and the marker cleared over plaintext)."""
    db = await plaintext_db(tmp_path / "x.db")
    reader = sqlite3.connect(db, isolation_level=None)
    reader.execute("BEGIN")
    reader.execute("SELECT count(*) FROM messages").fetchone()  # holds its snapshot
    store = await connected(db)
    await store.writer_connection.execute("PRAGMA busy_timeout = 50")  # not 5 s of waiting
    with pytest.raises(CleanupPending, match="another process is reading it, so the clean-up"):
        await encrypt_database(store, material())
    await store.close()
    assert [p for p in copies(db) if p.name.endswith(".bak")]  # kept while it is owed
    assert b"deadlock" in db.read_bytes()  # the old pages are still in the file
    reader.close()
    await assert_cleaned_up_on_open(db)


async def test_a_rotation_killed_before_its_vacuum_is_finished_by_running_it_again(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    db = tmp_path / "x.db"
    store = await Store.open(db, key=material())
    await build_corpus(store, sessions=4)
    await store.close()
    killed_at(monkeypatch, Store, "vacuum")
    store = await connected(db)
    with pytest.raises(KeyboardInterrupt):
        await rotate_key(store, material(), OTHER)
    await store.close()
    store = await connected(db)
    assert await rotate_key(store, material(), OTHER)  # not "the key does not open"
    await store.close()
    store = await Store.open(db, key=material(OTHER), cleanup=False)
    try:
        assert await store.check() == []
    finally:
        await store.close()


def test_a_rotation_leaves_a_value_that_does_not_authenticate_and_finishes(
    tmp_path: Path,
) -> None:
    """It stopped the rotation with DECRYPTION_FAILED and left it pending: every command
    then asked for rotate-key again, which stopped there again, for good. Now the value
    stays as it was (unreadable before, unreadable after), the rotation finishes, says
    so, and the next rotation passes it by as well."""
    db, old, new, newer = tmp_path / "x.db", tmp_path / "k1", tmp_path / "k2", tmp_path / "k3"
    key = write_key_file(old)
    write_key_file(new), write_key_file(newer)

    async def fill() -> None:
        store = await Store.open(db, key=material(key))
        try:
            await make_sessions(store, 2, messages=3)
            await move_sealed(store.writer_connection, "messages", "content")
        finally:
            await store.close()

    asyncio.run(fill())
    for current, target in ((old, new), (new, newer)):
        args = ["rotate-key", "--db", str(db), "--key-file", str(current)]
        result = runner.invoke(cli, [*args, "--new-key-file", str(target)])
        assert result.exit_code == 0, result.stderr
        assert "sessiongraph: warning: 1 value(s) did not authenticate" in result.stderr
        assert "row id 2" in result.stderr
    doctor = runner.invoke(cli, ["doctor", "--db", str(db), "--key-file", str(newer)])
    assert doctor.exit_code != 0 and "row id 2" in doctor.stdout + doctor.stderr
    stats = runner.invoke(cli, ["stats", "--db", str(db), "--key-file", str(newer)])
    assert stats.exit_code == 0, stats.stderr  # no rotation left pending


@pytest.mark.parametrize(
    "name", ["x.db", "relative x.db", "odd ?#%41 name.db"], ids=["absolute", "relative", "uri"]
)
async def test_doctor_reports_a_plaintext_copy_beside_an_encrypted_database(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, name: str
) -> None:
    """Whatever the database's path: relative (``Path.as_uri`` refuses those) or with
    characters a ``file:`` URI reads as its query, fragment or an escape."""
    monkeypatch.chdir(tmp_path)
    db = await plaintext_db(Path(name) if name.startswith("relative") else tmp_path / name, 2)
    leftover = db.with_name(db.name + ".pre-0005.20260101T000000000000.bak")
    shutil.copy(db, leftover)
    partial = db.with_name(db.name + ".pre-encrypt.20260101T000000000000.bak")
    partial.write_bytes(db.read_bytes()[:5000])
    store = await connected(db)
    assert await encrypt_database(store, material())
    await store.close()
    store = await Store.open(db, key=material())
    try:
        problems = await store.check()
    finally:
        await store.close()
    assert problems == [
        f"copy {leftover} holds this encrypted database's values in plaintext: delete it "
        "(and run `sessiongraph doctor --repair`)",
        f"copy {partial} can not be read (a partial copy?) and may hold plaintext: delete it",
    ]


# item 2 and 6: a full disk


def full_copies(monkeypatch: pytest.MonkeyPatch) -> None:
    """Every database copy's file may grow to two pages: SQLite's own "disk is full"."""
    import graph.store.backups

    async def destination(target: Path) -> aiosqlite.Connection:
        conn = await aiosqlite.connect(target)
        await conn.execute_fetchall("PRAGMA max_page_count = 2")  # no statement left open
        return conn

    monkeypatch.setattr(graph.store.backups, "_destination", destination)


async def test_copies_are_private_and_a_failed_copy_leaves_nothing(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    db = await plaintext_db(tmp_path / "x.db", sessions=2)
    store = await connected(db)
    try:
        copy = await store.backup("pre-0009")
        assert copy.stat().st_mode & 0o777 == 0o600
        copy.unlink()
        full_copies(monkeypatch)
        with pytest.raises(StoreError, match="the disk is full"):
            await store.backup("pre-0009")
    finally:
        await store.close()
    assert copies(db) == []


def test_encrypt_on_a_full_disk_is_one_line_and_leaves_nothing_half_written(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    key = tmp_path / "key"
    write_key_file(key)
    db = tmp_path / "x.db"
    assert runner.invoke(cli, ["demo", "--db", str(db)]).exit_code == 0
    before = runner.invoke(cli, ["stats", "--json", "--db", str(db)]).stdout
    full_copies(monkeypatch)
    result = runner.invoke(cli, ["encrypt", "--db", str(db), "--key-file", str(key)])
    assert (result.exit_code == 1 and result.exception is None) or isinstance(
        result.exception, SystemExit
    )
    assert result.stderr.startswith("sessiongraph: error: the disk is full")
    assert result.stderr.count("\n") == 1 and "free some space" in result.stderr
    assert copies(db) == []  # no partial .bak, no .bak-journal
    assert runner.invoke(cli, ["stats", "--json", "--db", str(db)]).stdout == before


# a server or an import that has the database open


async def test_encrypt_and_rotate_refuse_a_database_in_use_and_keep_it_meanwhile(
    tmp_path: Path,
) -> None:
    db = await plaintext_db(tmp_path / "x.db", sessions=2)
    midway: list[int] = []

    def nobody_starts(total: int) -> None:
        # what serve, import and the hook take first
        with (
            pytest.raises(snapshots.BusyDatabase, match="is being encrypted, re-keyed"),
            snapshots.hold(db),
        ):
            pass
        midway.append(total)

    store = await connected(db)
    try:
        # a server, a watcher: it would go on writing plaintext
        with (
            snapshots.hold(db),
            pytest.raises(snapshots.BusyDatabase, match="in use by a running `serve`"),
        ):
            await encrypt_database(store, material())
        assert copies(db) == [] and await crypto_state(store.writer_connection) == {}
        assert await encrypt_database(store, material(), started=nobody_starts)
    finally:
        await store.close()
    store = await connected(db)
    try:
        # it would go on sealing with the retired key
        with (
            snapshots.hold(db),
            pytest.raises(snapshots.BusyDatabase, match="then run `sessiongraph rotate"),
        ):
            await rotate_key(store, material(), OTHER)
        assert await rotate_key(store, material(), OTHER, started=nobody_starts)
    finally:
        await store.close()
    assert len(midway) == 2
    with snapshots.hold(db):  # the lease is let go at the end
        pass


def test_encrypt_while_served_and_import_while_encrypting_are_one_line(tmp_path: Path) -> None:
    key = tmp_path / "key"
    write_key_file(key)
    db = tmp_path / "x.db"
    assert runner.invoke(cli, ["demo", "--db", str(db)]).exit_code == 0
    before = db.read_bytes()
    with snapshots.hold(db):
        result = runner.invoke(cli, ["encrypt", "--db", str(db), "--key-file", str(key)])
    assert result.exit_code == 1 and result.stderr == (
        f"sessiongraph: error: {db} is in use by a running `serve` or `import` (or a hook's "
        "import): stop it, then run `sessiongraph encrypt`\n"
    )
    assert db.read_bytes() == before and copies(db) == []
    with snapshots.exclusive(db, "encrypt"):
        result = runner.invoke(cli, ["import", str(tmp_path), "--db", str(db)])
    assert result.exit_code == 1 and result.stderr.count("\n") == 1
    assert "is being encrypted, re-keyed or restored by another sessiongraph" in result.stderr


# item 5: the key before the first write


def schema_version(db: Path) -> int:
    with sqlite3.connect(db) as conn:
        [(version,)] = conn.execute("SELECT max(version) FROM schema_migrations")
    return int(version)


async def one_behind(db: Path, key: KeyMaterial | None) -> None:
    store = await Store.open(db, key=key)
    await make_sessions(store, 2)
    await store.revert(1, backup=False)
    await store.close()
    assert schema_version(db) == LATEST - 1


async def test_rotate_and_encrypt_check_the_key_before_migrating(tmp_path: Path) -> None:
    db = tmp_path / "x.db"
    await one_behind(db, material())
    store = await connected(db)
    try:
        with pytest.raises(ConfigError, match="does not open"):
            await rotate_key(store, material(OTHER), MasterKey(bytes(range(5, 37))))
        with pytest.raises(ConfigError, match="already encrypted"):
            await encrypt_database(store, material(OTHER))
    finally:
        await store.close()
    assert schema_version(db) == LATEST - 1 and copies(db) == []


async def test_a_key_for_an_old_plaintext_database_is_refused_before_migrating(
    tmp_path: Path,
) -> None:
    db = tmp_path / "x.db"
    await one_behind(db, None)
    with pytest.raises(ConfigError, match="is not encrypted, but a key was given"):
        await Store.open(db, key=material())
    assert schema_version(db) == LATEST - 1 and copies(db) == []


def test_encrypt_refuses_a_newer_database_before_copying_it(tmp_path: Path) -> None:
    key = tmp_path / "key"
    write_key_file(key)
    db = tmp_path / "x.db"
    assert runner.invoke(cli, ["demo", "--db", str(db)]).exit_code == 0
    with sqlite3.connect(db) as conn:  # what a newer sessiongraph would have recorded
        conn.execute(
            "INSERT INTO schema_migrations VALUES (?, 'future', 'x', '2030-01-01')", (LATEST + 1,)
        )
    for _ in range(2):
        result = runner.invoke(cli, ["encrypt", "--db", str(db), "--key-file", str(key)])
        assert result.exit_code == 1
        assert "does not know: upgrade sessiongraph" in result.stderr
        assert copies(db) == []  # no plaintext copy left behind, run after run


def test_encrypt_and_stats_leave_another_programs_database_alone(tmp_path: Path) -> None:
    key = tmp_path / "key"
    write_key_file(key)
    foreign = foreign_db(tmp_path / "notes.db")
    before = foreign.read_bytes()
    for command in (["encrypt", "--key-file", str(key)], ["stats"], ["migrate", "status"]):
        result = runner.invoke(cli, [*command, "--db", str(foreign)])
        assert result.exit_code == 1, command
        assert result.stderr.startswith("sessiongraph: error: ")
        assert result.stderr.count("\n") == 1 and "is not a sessiongraph database" in result.stderr
    assert foreign.read_bytes() == before and copies(foreign) == []


async def test_migrate_down_keeps_an_encrypted_database_readable(tmp_path: Path) -> None:
    db = tmp_path / "x.db"
    store = await Store.open(db, key=material())
    await make_sessions(store, 3, messages=4)
    with pytest.raises(ConfigError, match="would drop the record of its key"):
        await store.revert(LATEST - 1)
    assert await store.migrator().current_version() == LATEST
    sealed = await store.writer_connection.execute_fetchall(
        "SELECT id, content FROM messages ORDER BY id"
    )
    await store.revert(LATEST - 2, backup=False)  # down to 0002: no sealed value touched
    await store.close()
    store = await Store.open(db, key=material())
    try:
        assert (
            await store.writer_connection.execute_fetchall(
                "SELECT id, content FROM messages ORDER BY id"
            )
            == sealed
        )
        assert await store.check() == []
    finally:
        await store.close()


# doctor: tampered values, damaged files


def test_doctor_authenticates_every_sealed_value(tmp_path: Path) -> None:
    key = tmp_path / "key"
    write_key_file(key)
    db = tmp_path / "x.db"
    encrypted = runner.invoke(cli, ["demo", "--db", str(db)])
    assert encrypted.exit_code == 0, encrypted.stderr
    assert runner.invoke(cli, ["encrypt", "--db", str(db), "--key-file", str(key)]).exit_code == 0
    with sqlite3.connect(db) as conn:
        [(pk, place, content)] = conn.execute(
            "SELECT id, conversation_pk || ':' || msg_key, content FROM messages"
            " ORDER BY id LIMIT 1 OFFSET 3"
        )
        flipped = content[:-1] + bytes([content[-1] ^ 1])
        conn.execute("UPDATE messages SET content = ? WHERE id = ?", (flipped, pk))
        # A sealed value moved to another row: bound to its place, it must not open there.
        [(_, metadata), (sid, _)] = conn.execute(
            "SELECT session_id, metadata FROM sessions WHERE metadata IS NOT NULL"
            " ORDER BY id LIMIT 2"
        )
        conn.execute("UPDATE sessions SET metadata = ? WHERE session_id = ?", (metadata, sid))
    result = runner.invoke(cli, ["doctor", "--db", str(db), "--key-file", str(key)])
    assert result.exit_code == 1
    lines = [
        line
        for line in result.stdout.splitlines()
        if not line.startswith(("backups:", "retention:"))
    ]
    assert lines == [
        f"sealed value: messages.content of {place} does not authenticate (tampered, or moved)"
        f" (row id {pk}; restore it from a backup or import its transcript again)",
        f"sealed value: sessions.metadata of {sid} does not authenticate (tampered, or moved)"
        f" (row id {lines[1].split('row id ')[1].split(';')[0]}; restore it from a backup or"
        " import its transcript again)",
    ]
    assert result.stderr == f"sessiongraph: error: 2 problem(s) found in {db}\n"


def test_doctor_on_a_damaged_file_is_one_line(tmp_path: Path) -> None:
    db = tmp_path / "x.db"
    assert runner.invoke(cli, ["demo", "--db", str(db)]).exit_code == 0
    size = db.stat().st_size
    with db.open("r+b") as handle:  # every third page after the first two, overwritten
        for page in range(3, size // 16384, 3):
            handle.seek(page * 16384 + 100)
            handle.write(b"\xa5" * 2000)
    for args in (["doctor"], ["doctor", "--repair"]):
        result = runner.invoke(cli, [*args, "--db", str(db)])
        assert result.exit_code == 1, result.output
        assert result.stderr == (
            f"sessiongraph: error: {db} is damaged (database disk image is malformed): restore"
            f" it from a backup, or salvage what is left with `sqlite3 {db} .recover`\n"
        )
