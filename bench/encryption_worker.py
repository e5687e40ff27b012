"""Import a corpus into a fresh plaintext or encrypted database, in its own process.

    python -m bench.encryption_worker {plain,encrypted} PROJECTS_DIR DB

``encrypted`` takes its key from ``$SESSIONGRAPH_KEY`` (as ``sessiongraph import`` does);
``plain`` refuses to run with one set. The database is created and migrated first (not
timed), then ``graph.importers.import_paths`` is timed on a store opened as a user's
would be (the search hook on, the key given). The last line of stdout is the
:class:`bench.ingest.IngestResult` as JSON; its ``peak_rss_mb`` is this process's own.
"""

from __future__ import annotations

import asyncio
import json
import os
import subprocess
import sys
import time
from pathlib import Path
from typing import Final, Literal

from bench.import_worker import worker_args
from bench.ingest import IngestResult, _corpus_bytes, _counts, _db_bytes, peak_rss_mb
from graph.importers import import_paths
from graph.keys import KEY_ENV, KEY_FILE_ENV, resolve_key
from graph.store import Store
from graph.store.keyring import KeyMaterial

__all__ = ["MODES", "EncryptionMode", "import_into", "run_import"]

EncryptionMode = Literal["plain", "encrypted"]
MODES: Final[tuple[EncryptionMode, ...]] = ("plain", "encrypted")
_ROOT: Final = Path(__file__).resolve().parent.parent  # where ``bench`` can be imported from


async def _timed_import(root: Path, db: Path, key: KeyMaterial | None) -> tuple[float, int]:
    await (await Store.open(db, key=key)).close()  # create, migrate, record the key check
    store = await Store.open(db, key=key)
    try:
        started = time.perf_counter()
        await import_paths(store, [root])
        return time.perf_counter() - started, store.statements.count
    finally:
        await store.close()


def import_into(
    mode: EncryptionMode, root: Path, db: Path, key: KeyMaterial | None
) -> IngestResult:
    """Fill the fresh database ``db`` from ``root``; timed: ``import_paths`` alone."""
    if (mode == "encrypted") != (key is not None):
        raise ValueError(f"{mode} import {'without' if key is None else 'with'} a key")
    started = time.perf_counter()
    seconds, statements = asyncio.run(_timed_import(root, db, key))
    wall = time.perf_counter() - started
    sessions, messages, events = _counts(db)
    return IngestResult(
        mode=mode,
        seconds=seconds,
        wall_seconds=wall,
        sessions=sessions,
        messages=messages,
        events=events,
        nbytes=_corpus_bytes(root),
        statements=statements,
        peak_rss_mb=peak_rss_mb(),
        db_mb=_db_bytes(db) / 1e6,
    )


def run_import(mode: EncryptionMode, root: Path, db: Path, key_base64: str | None) -> IngestResult:
    """Fill ``db`` (removed first if it exists) from ``root`` in a subprocess."""
    for suffix in ("", "-wal", "-shm"):
        db.with_name(db.name + suffix).unlink(missing_ok=True)
    env = {k: v for k, v in os.environ.items() if k not in (KEY_ENV, KEY_FILE_ENV)}
    env["PYTHONPATH"] = os.pathsep.join(filter(None, (str(_ROOT), os.environ.get("PYTHONPATH"))))
    if mode == "encrypted":
        if key_base64 is None:
            raise ValueError("an encrypted import needs a key")
        env[KEY_ENV] = key_base64  # the environment, not argv: not shown by ps
    done = subprocess.run(
        [sys.executable, "-m", "bench.encryption_worker", mode, str(root), str(db)],
        cwd=_ROOT,
        env=env,
        capture_output=True,
        text=True,
        check=False,
        timeout=3600,
    )
    if done.returncode != 0:
        raise RuntimeError(f"bench.encryption_worker {mode} failed:\n{done.stderr[-3000:]}")
    return IngestResult(**json.loads(done.stdout.strip().splitlines()[-1]))


def main(argv: list[str] | None = None) -> int:
    parser, args = worker_args("python -m bench.encryption_worker", MODES, argv)
    key = resolve_key()
    if (args.mode == "encrypted") != (key is not None):
        parser.error(f"{args.mode}: ${KEY_ENV} must be set for encrypted, and only for it")
    result = import_into(args.mode, args.root, args.db, key)
    sys.stdout.write(json.dumps(result.to_dict()) + "\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
