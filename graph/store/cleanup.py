"""The clean-up a re-seal owes once its final state is committed.

After ``encrypt`` or ``rotate-key``, free pages (and the WAL) still hold the old values
(plaintext, or sealed with the retired key) until a VACUUM, and ``encrypt`` leaves its
plaintext copy. The final crypto state and ``reseal.cleanup`` commit in one
transaction, so a kill at any later point leaves the marker behind: whoever next
opens the database with its key finishes the work (``Store.finish_cleanup``), and
``doctor`` reports it until then.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Final

import orjson

if TYPE_CHECKING:
    import aiosqlite

__all__ = ["clear_cleanup", "pending_cleanup", "record_cleanup"]

_KEY: Final = "reseal.cleanup"


async def record_cleanup(conn: aiosqlite.Connection, copies: list[str]) -> None:
    """Record that a VACUUM and the removal of ``copies`` are owed (in the caller's
    transaction, the one that commits the final crypto state)."""
    await conn.execute(
        "INSERT INTO meta (key, value) VALUES (?, ?)"
        " ON CONFLICT (key) DO UPDATE SET value = excluded.value",
        (_KEY, orjson.dumps({"copies": copies}).decode()),
    )


async def pending_cleanup(conn: aiosqlite.Connection) -> list[Path] | None:
    """The copies still to remove when a clean-up is owed, else ``None``."""
    tables = await conn.execute_fetchall(
        "SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'meta'"
    )
    if not list(tables):
        return None
    rows = list(await conn.execute_fetchall("SELECT value FROM meta WHERE key = ?", (_KEY,)))
    if not rows:
        return None
    return [Path(copy) for copy in orjson.loads(rows[0][0])["copies"]]


async def clear_cleanup(conn: aiosqlite.Connection) -> None:
    """The clean-up is done (in the caller's transaction)."""
    await conn.execute("DELETE FROM meta WHERE key = ?", (_KEY,))
