"""Backups and restores (#20), and the metrics a dashboard scrapes."""

from __future__ import annotations

import asyncio
import shutil
import sqlite3
from pathlib import Path

import httpx
import pytest
from prometheus_client.parser import text_string_to_metric_families
from typer.testing import CliRunner

from graph.app import create_app
from graph.cli import app as cli
from graph.crypto import MasterKey
from graph.errors import ConfigError, StoreError
from graph.importers.importer import import_paths
from graph.metrics import MAX_OPERATIONS, OTHER_OPERATIONS
from graph.settings import ServerSettings
from graph.store import KeyMaterial, Store, load_migrations, snapshots
from tests.factories import foreign_db, make_sessions

runner = CliRunner()
KEY = KeyMaterial(key=MasterKey(bytes(range(32))))


def counts(db: Path) -> dict[str, int]:
    with sqlite3.connect(db) as conn:
        return {
            t: conn.execute(f"SELECT count(*) FROM {t}").fetchone()[0]
            for t in ("sessions", "conversations", "messages", "events")
        }


async def test_backups_taken_while_an_import_writes_are_whole(
    tmp_path: Path, samples_dir: Path
) -> None:
    projects = tmp_path / "projects" / "-home-dev-app"
    shutil.copytree(samples_dir, projects, ignore=shutil.ignore_patterns("*.md", "LICENSE*"))
    db = tmp_path / "s.db"
    store = await Store.open(db)
    try:
        importing = asyncio.create_task(import_paths(store, [tmp_path / "projects"]))
        copies = []
        for n in range(6):
            target = tmp_path / "b" / f"{n}.db"
            copies.append(await asyncio.to_thread(snapshots.backup, db, target))
            await asyncio.sleep(0)
        await importing
    finally:
        await store.close()
    for copy in copies:  # each verified against its own snapshot, and a commit boundary
        assert copy.counts == counts(copy.path)
        assert copy.path.stat().st_mode & 0o777 == 0o600
    final = snapshots.backup(db, tmp_path / "b" / "final.db")
    assert final.counts == counts(db) and final.counts["messages"] > 0


async def test_an_encrypted_backup_holds_no_plaintext_and_needs_the_key(tmp_path: Path) -> None:
    db = tmp_path / "s.db"
    store = await Store.open(db, key=KEY)
    try:
        await make_sessions(store, 3)  # texts "prompt 0.0", "answer 0.1", ...
    finally:
        await store.close()
    copy = snapshots.backup(db, tmp_path / "copy.db").path
    data = copy.read_bytes()
    assert b"prompt 0.0" not in data and b"answer 0.1" not in data
    with pytest.raises(ConfigError):
        await Store.open(copy)  # no key: refused, nothing written
    opened = await Store.open(copy, key=KEY)
    await opened.close()


def test_a_damaged_or_foreign_backup_is_refused_and_nothing_is_touched(tmp_path: Path) -> None:
    db = tmp_path / "s.db"
    assert runner.invoke(cli, ["demo", "--db", str(db)]).exit_code == 0
    before = db.read_bytes()
    foreign = tmp_path / "foreign.db"
    with sqlite3.connect(foreign) as conn:
        conn.execute("CREATE TABLE t (x)")
    garbage = tmp_path / "garbage.db"
    garbage.write_bytes(b"SQLite format 3\x00" + b"\x01" * 5000)
    for bad in (foreign, garbage):
        result = runner.invoke(cli, ["restore", str(bad), "--db", str(db)])
        assert result.exit_code != 0
        assert result.stderr.count("\n") == 1 and "sessiongraph: error:" in result.stderr
        assert db.read_bytes() == before


def test_backup_and_restore_leave_another_programs_database_alone(tmp_path: Path) -> None:
    db = tmp_path / "s.db"
    assert runner.invoke(cli, ["demo", "--db", str(db)]).exit_code == 0
    good = snapshots.backup(db, tmp_path / "good.db").path
    foreign = foreign_db(tmp_path / "notes.db")
    before = foreign.read_bytes()
    for command in (["backup"], ["restore", str(good)]):
        result = runner.invoke(cli, [*command, "--db", str(foreign)])
        assert result.exit_code == 1, command
        assert result.stderr.count("\n") == 1 and "is not a sessiongraph database" in result.stderr
    assert foreign.read_bytes() == before  # restore would have set it aside, then deleted it
    assert [p.name for p in tmp_path.glob("notes*")] == ["notes.db"]
    assert not list(tmp_path.glob("backups/notes*"))


async def test_restore_refuses_while_in_use_and_migrates_an_older_backup(tmp_path: Path) -> None:
    db, old = tmp_path / "s.db", tmp_path / "old.db"
    store = await Store.open(db)
    try:
        await make_sessions(store, 2)
        await store.revert(1, backup=False)  # one migration back: an older schema
    finally:
        await store.close()
    snapshots.backup(db, old)
    db.unlink()
    with snapshots.hold(db), pytest.raises(snapshots.BusyDatabase):
        await snapshots.restore(old, db, None)
    restored = await snapshots.restore(old, db, None)
    assert restored.counts["sessions"] == 2
    with sqlite3.connect(db) as conn:
        version = conn.execute("SELECT max(version) FROM schema_migrations").fetchone()[0]
    assert version == load_migrations()[-1].version
    with pytest.raises(StoreError):
        await snapshots.restore(tmp_path / "missing.db", db, None)


async def test_backup_and_restore_take_any_file_name(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Names a ``file:`` URI would read otherwise (``?`` its query, ``#`` its fragment,
    ``%41`` an escape), and a relative path: the copy is of that very file (read as
    ``odd``, SQLite created an empty file there and found no tables)."""
    monkeypatch.chdir(tmp_path)
    db, copy = Path("odd?x#y%41.db"), Path("copy?1#%41.db")
    store = await Store.open(db)
    try:
        await make_sessions(store, 2)
    finally:
        await store.close()
    assert snapshots.backup(db, copy).counts["sessions"] == 2
    db.unlink()
    assert (await snapshots.restore(copy, db, None)).counts["sessions"] == 2
    assert counts(db)["sessions"] == 2
    assert sorted(p.name for p in tmp_path.iterdir() if not p.name.startswith(db.name)) == [
        copy.name
    ]


def test_doctor_flags_a_plaintext_backup_of_a_database_encrypted_since(tmp_path: Path) -> None:
    """A backup taken before `encrypt` holds every value in plaintext: doctor says so, as
    it does for the copies beside the database (it looked only there)."""
    db, key = tmp_path / "s.db", tmp_path / "key"
    assert runner.invoke(cli, ["demo", "--db", str(db)]).exit_code == 0
    assert runner.invoke(cli, ["backup", "--db", str(db)]).exit_code == 0
    [old] = snapshots.backups_of(db)
    assert runner.invoke(cli, ["keygen", "--out", str(key)]).exit_code == 0
    encrypted = runner.invoke(cli, ["encrypt", "--db", str(db), "--key-file", str(key)])
    assert encrypted.exit_code == 0, encrypted.stderr
    doctor = runner.invoke(cli, ["doctor", "--db", str(db), "--key-file", str(key)])
    assert f"copy {old} holds this encrypted database's values in plaintext" in doctor.stdout


def test_backup_command_rotates_and_doctor_lists_them(tmp_path: Path) -> None:
    db = tmp_path / "s.db"
    assert runner.invoke(cli, ["demo", "--db", str(db)]).exit_code == 0
    assert "backups: none" in runner.invoke(cli, ["doctor", "--db", str(db)]).stdout
    for _ in range(4):
        result = runner.invoke(cli, ["backup", "--db", str(db), "--keep", "2"])
        assert result.exit_code == 0, result.stderr
    kept = snapshots.backups_of(db)
    assert len(kept) == 2 and all(p.parent == tmp_path / "backups" for p in kept)
    doctor = runner.invoke(cli, ["doctor", "--db", str(db)]).stdout
    assert f"backups: 2 in {tmp_path / 'backups'}" in doctor


async def test_serve_backs_up_on_schedule(tmp_path: Path) -> None:
    db = tmp_path / "s.db"
    app = create_app(db, server=ServerSettings(backup_every_seconds=0.2, keep_backups=2))
    async with app.router.lifespan_context(app):
        for _ in range(100):
            if len(snapshots.backups_of(db)) >= 2:
                break
            await asyncio.sleep(0.1)
    assert 1 <= len(snapshots.backups_of(db)) <= 2


def samples(text: str) -> dict[str, float]:
    found: dict[str, float] = {}
    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            labels = ",".join(f"{k}={v}" for k, v in sorted(sample.labels.items()))
            found[f"{sample.name}{{{labels}}}"] = sample.value
    return found


async def test_metrics_parse_and_move_with_requests(
    client: httpx.AsyncClient, store: Store
) -> None:
    await make_sessions(store, 2)
    assert (await client.get("/metrics", headers={"authorization": ""})).status_code == 401
    before = samples((await client.get("/metrics")).text)
    for _ in range(3):
        await client.post("/graphql", json={"query": "query Q { health { ok } }"})
    await client.post("/graphql", json={"query": '{ session(id: "") { id } }'})
    after = samples((await client.get("/metrics")).text)
    key = "sessiongraph_http_requests_total{operation=Q,path=/graphql,status=200}"
    assert after[key] - before.get(key, 0) == 3
    bad = "sessiongraph_graphql_errors_total{code=BAD_ID}"
    assert after[bad] - before.get(bad, 0) == 1
    assert after["sessiongraph_stored_rows{table=sessions}"] == 2
    assert after["sessiongraph_database_file_bytes{file=db}"] > 0
    assert after["sessiongraph_graphql_sql_statements_count{}"] >= 4


async def test_metrics_keep_a_bounded_set_of_operation_names(
    client: httpx.AsyncClient,
) -> None:
    """Names are the clients': past the first MAX_OPERATIONS, a new one counts as other,
    so a client naming every request anew cannot grow the registry or the scrape."""
    names = [f"Q{n}" for n in range(MAX_OPERATIONS + 5)]
    for name in names:
        response = await client.post(
            "/graphql", json={"query": f"query {name} {{ health {{ ok }} }}"}
        )
        assert response.status_code == 200
    found = samples((await client.get("/metrics")).text)
    operations = {
        key.partition("operation=")[2].partition(",")[0]
        for key in found
        if key.startswith("sessiongraph_http_requests_total{") and "path=/graphql" in key
    }
    assert operations == {*names[:MAX_OPERATIONS], OTHER_OPERATIONS}
    other = "sessiongraph_http_requests_total{operation=(other),path=/graphql,status=200}"
    assert found[other] == 5
    # A name seen before the cap is still its own after it.
    await client.post("/graphql", json={"query": "query Q0 { health { ok } }"})
    again = samples((await client.get("/metrics")).text)
    first = "sessiongraph_http_requests_total{operation=Q0,path=/graphql,status=200}"
    assert again[first] == 2


async def test_metrics_count_imported_lines_and_the_feeds_lag(
    tmp_path: Path, samples_dir: Path
) -> None:
    """What any importer stored (here one beside the server, like `import --watch`), when,
    and how many changes the feed has yet to push."""
    db = tmp_path / "s.db"
    app = create_app(db)
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://127.0.0.1") as client:
            empty = samples((await client.get("/metrics")).text)
            assert empty["sessiongraph_imported_lines{}"] == 0
            assert empty["sessiongraph_last_import_timestamp_seconds{}"] == 0
            other = await Store.open(db)  # another process's importer, as far as SQLite knows
            try:
                summary = await import_paths(other, [samples_dir / "short.jsonl"])
            finally:
                await other.close()
            app.state.feed.last = 0  # the feed has pushed nothing yet
            after = samples((await client.get("/metrics")).text)
    assert after["sessiongraph_imported_lines{}"] == summary.lines_read > 0
    assert after["sessiongraph_last_import_timestamp_seconds{}"] > 1.7e9
    assert after["sessiongraph_watcher_lag_changes{}"] > 0


async def test_metrics_port_serves_metrics_without_a_token(tmp_path: Path) -> None:
    from graph.app import metrics_app

    api = create_app(tmp_path / "s.db", server=ServerSettings(token="t" * 32))
    async with api.router.lifespan_context(api):
        side = httpx.ASGITransport(app=metrics_app(api))
        async with httpx.AsyncClient(transport=side, base_url="http://127.0.0.1") as client:
            response = await client.get("/metrics")
            assert response.status_code == 200
            assert "sessiongraph_stored_rows" in response.text
            assert (await client.get("/graphql")).status_code == 404  # nothing else there


def test_metrics_host_must_be_loopback(tmp_path: Path) -> None:
    db = str(tmp_path / "s.db")
    args = ["serve", "--db", db, "--metrics-port", "9999", "--metrics-host", "0.0.0.0"]
    result = CliRunner().invoke(cli, args)
    assert result.exit_code == 1
    assert "loopback" in result.stderr and result.stderr.count("\n") == 1
