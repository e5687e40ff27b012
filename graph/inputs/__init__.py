"""What a :class:`~graph.store.Writer` is given to store: sessions, threads, messages, events.

A leaf package, outside the store package: an importer builds these (in the import
worker process too) without loading the store, its SQLite driver or asyncio. Importers
and the store take every name from here:

- :mod:`graph.inputs.sessions`: the small inputs (a session, a thread, token totals,
  how far a file was read, an event to look up);
- :mod:`graph.inputs.records`: messages and events, the packable record carriers;
- :mod:`graph.inputs.masking`: the secret rules their text is masked with.
"""

from __future__ import annotations

from graph.inputs.masking import Masker, masked_text
from graph.inputs.records import DOCUMENT, REMOVED, Document, NewEvent, NewMessage
from graph.inputs.sessions import (
    FILE_LINES,
    EventLookup,
    FileState,
    NewConversation,
    NewSession,
    TokenTotals,
)

__all__ = [
    "DOCUMENT",
    "FILE_LINES",
    "REMOVED",
    "Document",
    "EventLookup",
    "FileState",
    "Masker",
    "NewConversation",
    "NewEvent",
    "NewMessage",
    "NewSession",
    "TokenTotals",
    "masked_text",
]
