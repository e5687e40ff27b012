"""Each transcript format's reading of stored records, by the ``source`` of its sessions.

A leaf below the store: the store, the search documents and :mod:`graph.inputs` read
blocks out of stored records through :func:`blocks_for` (and the store reads 1-hour
cache writes through :func:`cache_writes_1h_for`), knowing a session's ``source`` but
no format. Each format's rules live in its own module here, and its importer's
:class:`~graph.importers.formats.TranscriptFormat` hands them out as ``blocks`` and
``cache_writes_1h`` (a test keeps the registries in step).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Final

from graph.blocks import claude_code, codex, gemini
from graph.content import BlocksOf, Record, TokensOf

__all__ = ["BLOCKS", "CACHE_WRITES_1H", "blocks_for", "cache_writes_1h_for", "no_cache_ttl"]

BLOCKS: Final[Mapping[str, BlocksOf]] = {
    "claude-code": claude_code.blocks,
    "codex": codex.blocks,
    "gemini-cli": gemini.blocks,
}


def no_cache_ttl(records: list[tuple[int, Record]]) -> int:
    """None of the cache writes has a 1-hour TTL (for formats that record no TTL)."""
    return 0


CACHE_WRITES_1H: Final[Mapping[str, TokensOf]] = {
    "claude-code": claude_code.cache_writes_1h,
    "codex": no_cache_ttl,
    "gemini-cli": no_cache_ttl,
}


def blocks_for(source: str) -> BlocksOf:
    """How the records of a session with ``source`` become content blocks.

    Raises:
        KeyError: no format writes sessions of ``source``.
    """
    return BLOCKS[source]


def cache_writes_1h_for(source: str) -> TokensOf:
    """How the 1-hour cache writes of a message of a session with ``source`` are read
    out of its records.

    Raises:
        KeyError: no format writes sessions of ``source``.
    """
    return CACHE_WRITES_1H[source]
