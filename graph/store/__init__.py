"""Storage: every SQL statement sessiongraph runs lives in this package.

The names below are loaded on first use (PEP 562): the importer's worker process needs
only the input types, and loading the store with them (aiosqlite, asyncio) would double
the time it takes to start.
"""

from __future__ import annotations

from importlib import import_module
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from graph.store.changes import ChangeRow, ChangeWatch
    from graph.store.connection import StatementCounter
    from graph.store.filters import EventFilter, MessageFilter, SessionFilter, SessionOrder
    from graph.store.findings import KindCount, ReportRow
    from graph.store.inputs import FileState, NewConversation, NewEvent, NewMessage, NewSession
    from graph.store.keyring import KeyMaterial
    from graph.store.migrations import Migration, MigrationState, Migrator, load_migrations
    from graph.store.pages import Page, PageRequest, SortKey
    from graph.store.reads import Parent, Reader
    from graph.store.rows import (
        ConversationRow,
        EventRow,
        MessageRow,
        SessionRow,
        StatsRow,
        TokenTotals,
    )
    from graph.store.searching import RANK_WINDOW, HitRow, SearchWhere
    from graph.store.store import Store
    from graph.store.writes import Added, WriteHook, Writer

_MODULES: dict[str, str] = {
    "ChangeRow": "graph.store.changes",
    "ChangeWatch": "graph.store.changes",
    "Added": "graph.store.writes",
    "ConversationRow": "graph.store.rows",
    "EventFilter": "graph.store.filters",
    "EventRow": "graph.store.rows",
    "FileState": "graph.store.inputs",
    "HitRow": "graph.store.searching",
    "KeyMaterial": "graph.store.keyring",
    "KindCount": "graph.store.findings",
    "MessageFilter": "graph.store.filters",
    "MessageRow": "graph.store.rows",
    "Migration": "graph.store.migrations",
    "MigrationState": "graph.store.migrations",
    "Migrator": "graph.store.migrations",
    "NewConversation": "graph.store.inputs",
    "NewEvent": "graph.store.inputs",
    "NewMessage": "graph.store.inputs",
    "NewSession": "graph.store.inputs",
    "Page": "graph.store.pages",
    "PageRequest": "graph.store.pages",
    "Parent": "graph.store.reads",
    "RANK_WINDOW": "graph.store.searching",
    "Reader": "graph.store.reads",
    "ReportRow": "graph.store.findings",
    "SearchWhere": "graph.store.searching",
    "SessionFilter": "graph.store.filters",
    "SessionOrder": "graph.store.filters",
    "SessionRow": "graph.store.rows",
    "SortKey": "graph.store.pages",
    "StatementCounter": "graph.store.connection",
    "StatsRow": "graph.store.rows",
    "Store": "graph.store.store",
    "TokenTotals": "graph.store.rows",
    "WriteHook": "graph.store.writes",
    "Writer": "graph.store.writes",
    "load_migrations": "graph.store.migrations",
}


def __getattr__(name: str) -> Any:
    module = _MODULES.get(name)
    if module is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(import_module(module), name)
    globals()[name] = value  # once loaded, a plain attribute
    return value


def __dir__() -> list[str]:
    return sorted({*globals(), *_MODULES})


__all__ = [
    "RANK_WINDOW",
    "Added",
    "ChangeRow",
    "ChangeWatch",
    "ConversationRow",
    "EventFilter",
    "EventRow",
    "FileState",
    "HitRow",
    "KeyMaterial",
    "KindCount",
    "MessageFilter",
    "MessageRow",
    "Migration",
    "MigrationState",
    "Migrator",
    "NewConversation",
    "NewEvent",
    "NewMessage",
    "NewSession",
    "Page",
    "PageRequest",
    "Parent",
    "Reader",
    "ReportRow",
    "SearchWhere",
    "SessionFilter",
    "SessionOrder",
    "SessionRow",
    "SortKey",
    "StatementCounter",
    "StatsRow",
    "Store",
    "TokenTotals",
    "WriteHook",
    "Writer",
    "load_migrations",
]
