"""Sealing every value again: encrypting a plaintext database, or rotating its key.

Both check the key before anything is written (migrations included), then run in
batches, each its own transaction, after recording the operation in ``meta``
(``crypto.pending``). A batch picks rows whose value is not yet sealed with the target
key, so an interrupted run (even kill -9) is resumed by running it again. The search
index is rebuilt with the new key's token hashes at the end, then the new state replaces
the pending one together with a clean-up marker (see :mod:`graph.store.cleanup`): the
file is vacuumed so no freed page keeps old bytes, and ``encrypt``'s plaintext copy is
removed. A run again after a kill in that last step finishes it.

Both have the database to themselves (:func:`graph.store.snapshots.exclusive`): a server
or an import that has it open would go on writing the old way (plaintext, or sealed
with the retired key), so they refuse while one does, and none starts while they run.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, Final

import orjson

from graph.crypto import Cipher, Codec, DecryptionFailed, MasterKey, PlainCodec
from graph.errors import ConfigError
from graph.store.cleanup import pending_cleanup, record_cleanup
from graph.store.faults import file_faults
from graph.store.indexing import REBUILD_ORDER, SearchIndexer, mark_indexed
from graph.store.keyring import KeyMaterial, codec_for, crypto_state, new_state, write_crypto_state
from graph.store.sealed import SEALED
from graph.store.snapshots import exclusive
from graph.store.store import Store

__all__ = ["encrypt_database", "rotate_key"]

BATCH: Final = 500

Progress = Callable[[int], None]
# Told of each value that does not authenticate, and so is left as it is.
Unreadable = Callable[[str], None]


async def _started(store: Store, started: Progress | None) -> None:
    """Tell ``started`` how many values (and index documents) the run will go through."""
    if started is None:
        return
    [(count,)] = await store.writer_connection.execute_fetchall(
        "SELECT 2 * (SELECT count(*) FROM messages) + (SELECT count(*) FROM events)"
        " + 3 * (SELECT count(*) FROM sessions)"
    )
    started(int(count))


async def _reseal(
    store: Store,
    source: Codec,
    target: Cipher,
    progress: Progress | None,
    max_batches: int | None,
    unreadable: Unreadable | None = None,
) -> bool:
    """Seal with ``target`` every value not sealed with it yet; False if stopped early.

    A value that does not authenticate can not be sealed again: it is left as it is
    (as unreadable as before) and reported to ``unreadable``, instead of stopping the
    run, and every run after it, for good.
    """
    batches = 0
    for table, column, key_sql in SEALED:
        after = 0
        while True:
            if max_batches is not None and batches >= max_batches:
                return False
            async with store.write() as writer:
                conn = writer.connection
                rows = list(
                    await conn.execute_fetchall(
                        f"SELECT id, {key_sql}, {column} FROM {table} WHERE id > ?"
                        f" AND {column} IS NOT NULL AND NOT (typeof({column}) = 'blob'"
                        f" AND substr({column}, 1, 1) = x'01' AND substr({column}, 2, 8) = ?)"
                        " ORDER BY id LIMIT ?",
                        (after, target.key_id, BATCH),
                    )
                )
                if not rows:
                    break
                sealed = []
                for pk, row_key, value in rows:
                    try:
                        opened = source.open(table, column, str(row_key), value)
                    except DecryptionFailed as exc:
                        if unreadable is not None:
                            unreadable(f"{exc} (row id {pk})")
                        continue
                    sealed.append((target.seal(table, column, str(row_key), opened), pk))
                await conn.executemany(f"UPDATE {table} SET {column} = ? WHERE id = ?", sealed)
            after = rows[-1][0]
            batches += 1
            if progress is not None:
                progress(len(rows))
    return True


async def _finish(
    store: Store,
    target: Cipher,
    state: dict[str, str],
    copies: list[str],
    progress: Progress | None,
) -> None:
    """Rebuild the index with the new token hashes, in batches that resume, then commit
    the new state with the clean-up it owes, and do that clean-up."""
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
        await record_cleanup(writer.connection, copies)
    await store.finish_cleanup()


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
    started: Progress | None = None,
    max_batches: int | None = None,
) -> bool:
    """Encrypt a plaintext database (resuming an interrupted run); True when done.

    The store must be connected and opened without a key; it is migrated here, once
    the key has been checked. ``started`` is told how many values the run goes through.

    Raises:
        ConfigError: already encrypted, or not the key an interrupted run began with.
        BusyDatabase: a server or an import has the database open: it would go on
            writing plaintext (and none starts until this returns).
        StoreError: the disk filled up (the run resumes when started again).
    """
    with (
        exclusive(store.path, "run `sessiongraph encrypt`"),
        file_faults(store.path, "encrypting", "run `sessiongraph encrypt` again (it resumes)"),
    ):
        return await _encrypt(store, material, progress, started, max_batches)


async def _encrypt(
    store: Store,
    material: KeyMaterial,
    progress: Progress | None,
    started: Progress | None,
    max_batches: int | None,
) -> bool:
    conn = store.writer_connection
    state = await crypto_state(conn)
    pending = _pending(state)
    if pending is None and state:
        if await pending_cleanup(conn) is None:
            raise ConfigError(f"{store.path} is already encrypted (use rotate-key)")
        codec_for(state, material, str(store.path))  # the key, before the clean-up writes
        await store.finish_cleanup()  # killed after its last commit: finish the job
        return True
    if pending is None:
        # A database this code can not migrate (newer, or an applied migration edited)
        # is refused before a plaintext copy of it is left beside it.
        await store.migrator().verify()
        final, master = new_state(material)
        # One copy of the plaintext database (taken before migrating, so it serves as
        # the migrations' copy too) stays until the encryption has succeeded.
        backup = str(await store.backup("pre-encrypt"))
        await store.migrate(backup=False)
        async with store.write() as writer:
            await write_crypto_state(
                writer.connection,
                {
                    "crypto.pending": orjson.dumps(
                        {"op": "encrypt", "state": final, "backup": backup}
                    ).decode()
                },
            )
    else:
        if pending["op"] != "encrypt":
            raise ConfigError(f"a {pending['op']} of {store.path} was interrupted: finish it")
        final, backup = pending["state"], pending["backup"]
        master = _master_for(final, material, str(store.path))
        await store.migrate(backup=False)  # the pre-encrypt copy is the copy
    await _started(store, started)
    target = Cipher(master)
    if not await _reseal(store, PlainCodec(), target, progress, max_batches):
        return False
    await _finish(store, target, final, [backup], progress)
    return True


async def rotate_key(
    store: Store,
    current: KeyMaterial,
    new_key: MasterKey,
    *,
    progress: Progress | None = None,
    started: Progress | None = None,
    max_batches: int | None = None,
    unreadable: Unreadable | None = None,
) -> bool:
    """Seal every value with ``new_key`` and rebuild the index; True when done.

    Like :func:`encrypt_database`, both keys are checked before anything is written, and
    it refuses (``BusyDatabase``) while a server or an import has the database open: it
    would go on sealing with the retired key. A value that does not authenticate is left
    as it is and told to ``unreadable``.
    """
    with (
        exclusive(store.path, "run `sessiongraph rotate-key`"),
        file_faults(
            store.path, "rotating the key of", "run `sessiongraph rotate-key` again (it resumes)"
        ),
    ):
        return await _rotate(store, current, new_key, progress, started, max_batches, unreadable)


async def _rotate(
    store: Store,
    current: KeyMaterial,
    new_key: MasterKey,
    progress: Progress | None,
    started: Progress | None,
    max_batches: int | None,
    unreadable: Unreadable | None,
) -> bool:
    conn = store.writer_connection
    state = await crypto_state(conn)
    pending = _pending(state)
    if pending is None:
        if state.get("crypto.check") == new_key.check_value():
            # Already sealed with the new key (a run again after its last commit).
            await store.migrate()
            await store.finish_cleanup()
            return True
        old = codec_for(state, current, str(store.path))  # checks the current key
        assert isinstance(old, Cipher)
        await store.migrate()
        await store.finish_cleanup()  # one an earlier re-seal still owes
        final = {
            "crypto.mode": "key",
            "crypto.check": new_key.check_value(),
            "crypto.retired": ",".join(
                filter(None, [state.get("crypto.retired"), old.key_id.hex()])
            ),
        }
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
        old = codec_for(
            {k: v for k, v in state.items() if k != "crypto.pending"}, current, str(store.path)
        )
        assert isinstance(old, Cipher)
        await store.migrate()
    await _started(store, started)
    target = Cipher(new_key)
    both = Cipher(new_key, older=[_master_of(current, state)])
    if not await _reseal(store, both, target, progress, max_batches, unreadable):
        return False
    await _finish(store, target, final, [], progress)
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
