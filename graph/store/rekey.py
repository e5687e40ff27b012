"""Sealing every value again: encrypting a plaintext database, or rotating its key.

Both run in batches, each its own transaction, after recording the operation in
``meta`` (``crypto.pending``). A batch picks rows whose value is not yet sealed with the
target key, so an interrupted run (even kill -9) is resumed by running it again. The
search index is rebuilt with the new key's token hashes at the end, then the new state
replaces the pending one, and the file is vacuumed so no freed page keeps old bytes.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any, Final

import orjson

from graph.crypto import Cipher, Codec, MasterKey, PlainCodec
from graph.errors import ConfigError
from graph.store.indexing import REBUILD_ORDER, SearchIndexer, mark_indexed
from graph.store.keyring import KeyMaterial, codec_for, crypto_state, new_state, write_crypto_state
from graph.store.store import Store

__all__ = ["encrypt_database", "rotate_key"]

BATCH: Final = 500

# (table, column, SQL for the natural key the value is bound to)
_SEALED: Final = (
    ("messages", "content", "conversation_pk || ':' || msg_key"),
    ("events", "data", "conversation_pk || ':' || seq"),
    ("sessions", "title", "session_id"),
    ("sessions", "summary", "session_id"),
    ("sessions", "metadata", "session_id"),
)
# (the same keys graph.store.rows.message_row_key / event_row_key build)

Progress = Callable[[int], None]


async def _reseal(
    store: Store, source: Codec, target: Cipher, progress: Progress | None, max_batches: int | None
) -> bool:
    """Seal with ``target`` every value not sealed with it yet; False if stopped early."""
    batches = 0
    for table, column, key_sql in _SEALED:
        while True:
            if max_batches is not None and batches >= max_batches:
                return False
            async with store.write() as writer:
                conn = writer.connection
                rows = list(
                    await conn.execute_fetchall(
                        f"SELECT id, {key_sql}, {column} FROM {table} WHERE {column} IS NOT NULL"
                        f" AND NOT (typeof({column}) = 'blob' AND substr({column}, 1, 1) = x'01'"
                        f" AND substr({column}, 2, 8) = ?) LIMIT ?",
                        (target.key_id, BATCH),
                    )
                )
                if not rows:
                    break
                await conn.executemany(
                    f"UPDATE {table} SET {column} = ? WHERE id = ?",
                    [
                        (target.seal(table, column, str(row[1]),
                                     source.open(table, column, str(row[1]), row[2])), row[0])
                        for row in rows
                    ],
                )  # fmt: skip
            batches += 1
            if progress is not None:
                progress(len(rows))
    return True


async def _finish(
    store: Store, target: Cipher, state: dict[str, str], progress: Progress | None
) -> None:
    """Rebuild the index with the new token hashes, in batches that resume, then commit
    the new state and vacuum."""
    store.codec = target
    indexer = None
    for hook in store.hooks:
        if isinstance(hook, SearchIndexer):
            hook.codec = target
            indexer = hook
    if indexer is not None:
        marker = await _marker(store)
        if marker is None:
            async with store.write() as writer:
                await indexer.clear(writer.connection)
                marker = {"table": REBUILD_ORDER[0], "after": 0}
                await _save_marker(writer.connection, marker)
        for table in REBUILD_ORDER[REBUILD_ORDER.index(marker["table"]) :]:
            after = int(marker["after"]) if table == marker["table"] else 0
            while True:
                async with store.write() as writer:
                    done = await indexer.index_page(writer.connection, table, after)
                    if done is None:
                        break
                    after, count = done
                    await _save_marker(writer.connection, {"table": table, "after": after})
                if progress is not None:
                    progress(count)
    async with store.write() as writer:
        if indexer is not None:
            await mark_indexed(writer.connection, indexer.analysis.version)
        await write_crypto_state(writer.connection, state)
    await store.vacuum()


async def _marker(store: Store) -> dict[str, Any] | None:
    rows = list(
        await store.writer_connection.execute_fetchall(
            "SELECT value FROM meta WHERE key = 'crypto.reindex'"
        )
    )
    value: dict[str, Any] | None = orjson.loads(rows[0][0]) if rows else None
    return value


async def _save_marker(conn: Any, marker: dict[str, Any]) -> None:
    await conn.execute(
        "INSERT INTO meta (key, value) VALUES ('crypto.reindex', ?)"
        " ON CONFLICT (key) DO UPDATE SET value = excluded.value",
        (orjson.dumps(marker).decode(),),
    )


async def encrypt_database(
    store: Store,
    material: KeyMaterial,
    *,
    progress: Progress | None = None,
    max_batches: int | None = None,
) -> bool:
    """Encrypt a plaintext database (resuming an interrupted run); True when done.

    The store must be connected and migrated, opened without a key.
    """
    conn = store.writer_connection
    state = await crypto_state(conn)
    pending = _pending(state)
    if pending is None:
        if state:
            raise ConfigError(f"{store.path} is already encrypted (use rotate-key)")
        final, master = new_state(material)
        # A copy of the plaintext database stays until the encryption has succeeded.
        backup = str(await store.backup("pre-encrypt"))
        async with store.write() as writer:
            await write_crypto_state(
                writer.connection,
                {"crypto.pending": orjson.dumps({"op": "encrypt", "state": final,
                                                 "backup": backup}).decode()},
            )  # fmt: skip
    else:
        if pending["op"] != "encrypt":
            raise ConfigError(f"a {pending['op']} of {store.path} was interrupted: finish it")
        final, backup = pending["state"], pending["backup"]
        master = _master_for(final, material, str(store.path))
    target = Cipher(master)
    if not await _reseal(store, PlainCodec(), target, progress, max_batches):
        return False
    await _finish(store, target, final, progress)
    Path(backup).unlink(missing_ok=True)  # noqa: ASYNC240 - one unlink, at the very end
    return True


async def rotate_key(
    store: Store,
    current: KeyMaterial,
    new_key: MasterKey,
    *,
    progress: Progress | None = None,
    max_batches: int | None = None,
) -> bool:
    """Seal every value with ``new_key`` and rebuild the index; True when done."""
    conn = store.writer_connection
    state = await crypto_state(conn)
    pending = _pending(state)
    if pending is None:
        old = codec_for(state, current, str(store.path))  # checks the current key
        assert isinstance(old, Cipher)
        final = {
            "crypto.mode": "key",
            "crypto.check": new_key.check_value(),
            "crypto.retired": ",".join(filter(None, [state.get("crypto.retired"),
                                                     old.key_id.hex()])),
        }  # fmt: skip
        async with store.write() as writer:
            await write_crypto_state(
                writer.connection,
                {
                    **state,
                    "crypto.pending": orjson.dumps({"op": "rotate", "state": final}).decode(),
                },
            )
    else:
        if pending["op"] != "rotate":
            raise ConfigError(f"an {pending['op']} of {store.path} was interrupted: finish it")
        final = pending["state"]
        if final["crypto.check"] != new_key.check_value():
            raise ConfigError("this is not the new key of the interrupted rotation")
        old = codec_for({k: v for k, v in state.items() if k != "crypto.pending"}, current,
                        str(store.path))  # fmt: skip
        assert isinstance(old, Cipher)
    target = Cipher(new_key)
    both = Cipher(new_key, older=[_master_of(current, state)])
    if not await _reseal(store, both, target, progress, max_batches):
        return False
    await _finish(store, target, final, progress)
    return True


def _pending(state: dict[str, str]) -> dict[str, Any] | None:
    raw = state.get("crypto.pending")
    value: dict[str, Any] | None = orjson.loads(raw) if raw else None
    return value


def _master_for(final: dict[str, str], material: KeyMaterial, path: str) -> MasterKey:
    salt = bytes.fromhex(final["crypto.salt"]) if "crypto.salt" in final else None
    master = material.master(salt)
    if master.check_value() != final["crypto.check"]:
        raise ConfigError(f"this is not the key the interrupted encryption of {path} began with")
    return master


def _master_of(material: KeyMaterial, state: dict[str, str]) -> MasterKey:
    salt = bytes.fromhex(state["crypto.salt"]) if "crypto.salt" in state else None
    return material.master(salt)
