"""Opening the store for commands nobody is watching: the hook and the MCP server.

Claude Code starts them with its own environment and no terminal, so there is nobody
to ask for a passphrase, and ``$SESSIONGRAPH_KEY_FILE`` may not be set there. The key
comes from the flags, the environment or the default key file that ``sessiongraph
keygen`` writes, as for every command (see :func:`graph.keys.resolve_key`).
"""

from __future__ import annotations

from pathlib import Path

from graph.keys import resolve_key
from graph.store import Store

__all__ = ["open_unattended"]


async def open_unattended(
    path: Path,
    *,
    key_file: Path | None = None,
    passphrase_file: Path | None = None,
    migrate: bool = False,
) -> Store:
    """Open ``path`` with the key the flags, the environment or the default key file give.

    Raises:
        ConfigError: no usable key for an encrypted database (or a key for a plain one).
        SchemaOutOfDate: migrations are pending and ``migrate`` is false.
    """
    key = resolve_key(key_file, passphrase_file, db=path)
    return await Store.open(path, key=key, migrate=migrate)
