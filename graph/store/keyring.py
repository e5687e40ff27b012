"""What a database records about its encryption, and opening it with the right key.

``meta`` holds, for an encrypted database: ``crypto.mode`` (``key`` or ``passphrase``),
``crypto.salt`` (hex, for a passphrase), ``crypto.check`` (the key-check value of the
current key) and ``crypto.retired`` (ids of keys rotated away). A plaintext database
has none of them. Nothing here ever stores a key.
"""

from __future__ import annotations

import os
import sqlite3
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Literal

import orjson

from graph.crypto import Cipher, Codec, MasterKey, PlainCodec, derive_passphrase_key
from graph.errors import ConfigError

if TYPE_CHECKING:
    import aiosqlite

__all__ = [
    "CRYPTO_STATE_SINCE",
    "KeyMaterial",
    "codec_for",
    "crypto_state",
    "file_state",
    "has_sessions",
    "write_crypto_state",
]

_SALT_BYTES = 16
# The migration that creates ``meta``, where the state lives (reverting it drops the state).
CRYPTO_STATE_SINCE = 2


@dataclass(frozen=True, slots=True)
class KeyMaterial:
    """What the user gave to open the database: a master key or a passphrase."""

    key: MasterKey | None = None
    passphrase: str | None = None

    def __post_init__(self) -> None:
        if (self.key is None) == (self.passphrase is None):
            raise ValueError("give a key or a passphrase")

    def master(self, salt: bytes | None) -> MasterKey:
        if self.key is not None:
            return self.key
        assert self.passphrase is not None
        if salt is None:
            raise ConfigError("this database is not protected by a passphrase")
        return derive_passphrase_key(self.passphrase, salt)

    @property
    def mode(self) -> str:
        return "key" if self.key is not None else "passphrase"


async def crypto_state(conn: aiosqlite.Connection) -> dict[str, str]:
    """The ``crypto.*`` entries of ``meta`` (empty for plaintext, or before 0002)."""
    tables = await conn.execute_fetchall(
        "SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'meta'"
    )
    if not list(tables):
        return {}
    rows = await conn.execute_fetchall("SELECT key, value FROM meta WHERE key LIKE 'crypto.%'")
    return {str(row[0]): str(row[1]) for row in rows}


async def has_sessions(conn: aiosqlite.Connection) -> bool:
    """Whether the database holds a session (False for a new file, before any migration)."""
    tables = await conn.execute_fetchall(
        "SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'sessions'"
    )
    if not list(tables):
        return False
    [(found,)] = await conn.execute_fetchall("SELECT EXISTS (SELECT 1 FROM sessions)")
    return bool(found)


def file_state(path: Path) -> Literal["new", "plaintext", "encrypted"]:
    """What the database at ``path`` is as far as keys go, read without writing a byte.

    ``new``: missing, or holding no session and no key yet, so a key given to open it
    makes it an encrypted one (see :meth:`graph.store.Store.unlock`). A file that can not
    be read counts as ``plaintext``: no key is taken for it, and opening it says what is
    wrong.
    """
    wal = path.with_name(path.name + "-wal")
    try:
        if path.stat().st_size == 0 and not wal.exists():
            return "new"
    except FileNotFoundError:
        return "new"
    try:
        conn = sqlite3.connect(f"{path.absolute().as_uri()}?mode=ro", uri=True)
    except sqlite3.Error:
        return "plaintext"
    try:
        names = {str(row[0]) for row in conn.execute("SELECT name FROM sqlite_master")}
        if (
            "meta" in names
            and conn.execute("SELECT 1 FROM meta WHERE key LIKE 'crypto.%' LIMIT 1").fetchone()
        ):
            return "encrypted"
        if "sessions" in names and conn.execute("SELECT 1 FROM sessions LIMIT 1").fetchone():
            return "plaintext"
        return "new"
    except sqlite3.Error:
        return "plaintext"
    finally:
        conn.close()


async def write_crypto_state(conn: aiosqlite.Connection, state: dict[str, str]) -> None:
    """Replace the ``crypto.*`` entries (inside the caller's transaction)."""
    await conn.execute("DELETE FROM meta WHERE key LIKE 'crypto.%'")
    await conn.executemany("INSERT INTO meta (key, value) VALUES (?, ?)", sorted(state.items()))


def new_state(material: KeyMaterial) -> tuple[dict[str, str], MasterKey]:
    """The state of a database about to be encrypted with ``material``, and its key."""
    salt = os.urandom(_SALT_BYTES) if material.passphrase is not None else None
    master = material.master(salt)
    state = {"crypto.mode": material.mode, "crypto.check": master.check_value()}
    if salt is not None:
        state["crypto.salt"] = salt.hex()
    return state, master


def codec_for(state: dict[str, str], material: KeyMaterial | None, path: str) -> Codec:
    """The codec to read and write a database in ``state`` with ``material``.

    Raises:
        ConfigError: an encrypted database without a key, a wrong key, or a key for a
            plaintext database (which would otherwise mix plaintext and ciphertext).
    """
    if "crypto.pending" in state:
        op = orjson.loads(state["crypto.pending"]).get("op", "encryption")
        command = "encrypt" if op == "encrypt" else "rotate-key"
        raise ConfigError(
            f"the {op} of {path} was interrupted: run `sessiongraph {command}` again to finish it"
        )
    if not state:
        if material is not None:
            raise ConfigError(
                f"{path} is not encrypted, but a key was given: run `sessiongraph encrypt` "
                "to encrypt it, or open it without a key"
            )
        return PlainCodec()
    if material is None:
        raise ConfigError(
            f"{path} is encrypted: give its key (SESSIONGRAPH_KEY, SESSIONGRAPH_KEY_FILE or "
            "--key-file) or its passphrase (--passphrase-file)"
        )
    if state.get("crypto.mode") != material.mode:
        raise ConfigError(
            f"{path} is protected by a {state.get('crypto.mode')}, not a {material.mode}"
        )
    salt = bytes.fromhex(state["crypto.salt"]) if "crypto.salt" in state else None
    master = material.master(salt)
    if master.check_value() != state.get("crypto.check"):
        raise ConfigError(f"the key does not open {path} (it was encrypted with another)")
    return Cipher(master)
