"""What the bench runs in a process of its own: ``python -m bench.worker MODE ...``.

A fill of a fresh, migrated database prints :class:`bench.core.Ingest` as JSON: ``import SRC
DB`` times ``import_paths`` of the folder ``SRC`` (key from ``$SESSIONGRAPH_KEY``); ``raw SRC
DB`` times plain ``executemany`` of the rows of the database ``SRC``, one transaction per
session, pragmas as the store's: the floor of the database cost. ``serve graph|raw DB PORT``
serves sessiongraph's app as ``sessiongraph serve`` does, or :func:`bench.pages.raw_app`.
"""

from __future__ import annotations

import asyncio
import json
import logging
import os
import resource
import socket
import sqlite3
import sys
import time
from contextlib import closing
from dataclasses import asdict
from pathlib import Path
from typing import Any

from bench.core import HOST, Ingest
from graph.importers.importer import import_paths
from graph.keys import resolve_key
from graph.store import Store
from graph.store.keyring import KeyMaterial

TABLES = ("sessions", "conversations", "messages", "events")  # in foreign-key order


async def _migrate(db: Path, key: KeyMaterial | None = None) -> None:
    """Create and migrate ``db`` (with a key, record its check), untimed."""
    await (await Store.open(db, key=key)).close()


async def _import(root: Path, db: Path) -> float:
    await _migrate(db, key := resolve_key())
    store = await Store.open(db, key=key)
    try:
        started = time.perf_counter()
        await import_paths(store, [root])
        return time.perf_counter() - started
    finally:
        await store.close()


def _raw(source: Path, db: Path) -> float:
    asyncio.run(_migrate(db))
    src = sqlite3.connect(f"file:{source}?mode=ro", uri=True)
    conn = sqlite3.connect(db, isolation_level=None)
    conn.executescript("PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL; PRAGMA foreign_keys=ON")
    selects, inserts = {}, {}
    for table in TABLES:
        columns = [row[1] for row in src.execute(f"PRAGMA table_info({table})")]
        owner = "id" if table == "sessions" else "session_pk"
        selects[table] = f"SELECT {', '.join(columns)} FROM {table} WHERE {owner} = ? ORDER BY id"
        marks = ", ".join("?" * len(columns))
        inserts[table] = f"INSERT INTO {table} ({', '.join(columns)}) VALUES ({marks})"
    seconds = 0.0
    for (pk,) in src.execute("SELECT id FROM sessions ORDER BY id").fetchall():
        rows = {table: src.execute(selects[table], (pk,)).fetchall() for table in TABLES}
        started = time.perf_counter()
        conn.execute("BEGIN IMMEDIATE")
        for table in TABLES:
            conn.executemany(inserts[table], rows[table])
        conn.execute("COMMIT")
        seconds += time.perf_counter() - started
    src.close()
    conn.close()
    return seconds


def _serve(kind: str, db: Path, port: int) -> None:
    # Imported here: a fill's peak RSS is to be that of an import.
    import uvicorn

    from bench.pages import raw_app
    from graph.app import create_app
    from graph.serving import head_deadline_protocol
    from graph.settings import ServerSettings

    server = ServerSettings(token=os.environ.get("SESSIONGRAPH_TOKEN") or None)
    app = create_app(db, server=server, key=resolve_key()) if kind == "graph" else raw_app(db)
    logging.basicConfig(level=logging.INFO, format="%(levelname)s %(name)s: %(message)s")
    # IPPROTO_TCP spelled out: asyncio sets TCP_NODELAY only on sockets whose ``proto``
    # says TCP (accepted ones copy it); with 0 a keep-alive answer written in two parts
    # waits ~40 ms for a delayed ACK.
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM, socket.IPPROTO_TCP)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind((HOST, port))
    # What ``sessiongraph serve`` passes to uvicorn.run (its HTTP protocol included), for
    # both servers.
    options: dict[str, Any] = dict(
        log_level="info",
        access_log=False,
        server_header=False,
        http=head_deadline_protocol(server.head_timeout_seconds),
    )
    uvicorn.Server(uvicorn.Config(app, host=HOST, lifespan="on", **options)).run(sockets=[sock])


def main(argv: list[str]) -> int:
    mode, source, db = argv[0], argv[1], Path(argv[2])
    if mode == "serve":
        _serve(source, db, int(argv[3]))
        return 0
    if mode not in ("import", "raw"):
        raise SystemExit(f"bench.worker: unknown mode {mode!r}")
    seconds = asyncio.run(_import(Path(source), db)) if mode == "import" else _raw(Path(source), db)
    with closing(sqlite3.connect(db)) as conn:
        [(messages,)] = conn.execute("SELECT count(*) FROM messages").fetchall()
    db_mb = sum(f.stat().st_size for f in (db, db.with_name(db.name + "-wal")) if f.exists()) / 1e6
    # VmHWM: ru_maxrss would survive ``exec``; RUSAGE_CHILDREN: the import's reading worker.
    status = Path("/proc/self/status").read_text()
    peak_mb = int(status.partition("VmHWM:")[2].split()[0]) / 1024
    child_mb = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
    sys.stdout.write(json.dumps(asdict(Ingest(seconds, messages, peak_mb, child_mb, db_mb))) + "\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
