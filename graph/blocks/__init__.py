"""Each transcript format's content blocks, by the ``source`` of its sessions.

A leaf below the store: the store, the search documents and :mod:`graph.inputs` read
blocks out of stored records through :func:`blocks_for`, knowing a session's ``source``
but no format. Each format's rules live in its own module here, and its importer's
:class:`~graph.importers.formats.TranscriptFormat` hands them out as ``blocks``
(a test keeps the two registries in step).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Final

from graph.blocks import claude_code, codex, gemini
from graph.content import BlocksOf

__all__ = ["BLOCKS", "blocks_for"]

BLOCKS: Final[Mapping[str, BlocksOf]] = {
    "claude-code": claude_code.blocks,
    "codex": codex.blocks,
    "gemini-cli": gemini.blocks,
}


def blocks_for(source: str) -> BlocksOf:
    """How the records of a session with ``source`` become content blocks.

    Raises:
        KeyError: no format writes sessions of ``source``.
    """
    return BLOCKS[source]
