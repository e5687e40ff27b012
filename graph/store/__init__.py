"""Storage: every SQL statement sessiongraph runs lives in this package.

These names are the store's whole contract (``tests/store_contract`` runs against them).
What a writer is given to store comes from :mod:`graph.inputs`, a leaf module outside
this package, so the import worker builds it without loading the store.
"""

from __future__ import annotations

from graph.inputs import (
    FileState,
    NewConversation,
    NewEvent,
    NewMessage,
    NewSession,
    TokenTotals,
)
from graph.store.changes import ChangeRow, ChangeWatch
from graph.store.connection import StatementCounter
from graph.store.filters import EventFilter, MessageFilter, SessionFilter, SessionOrder
from graph.store.findings import KindCount, ReportRow
from graph.store.keyring import KeyMaterial
from graph.store.migrations import Migration, MigrationState, Migrator, load_migrations
from graph.store.pages import Page, PageRequest, SortKey
from graph.store.reads import Parent, Reader
from graph.store.rows import (
    ConversationRow,
    EventRow,
    MessageRow,
    SessionRow,
    SourceCount,
    StatsRow,
)
from graph.store.searching import RANK_WINDOW, HitRow, SearchWhere
from graph.store.store import Store
from graph.store.usage import (
    Clock,
    Dimension,
    FilterOptions,
    ProjectCells,
    UsageCell,
    UsageFilter,
)
from graph.store.writes import Added, WriteHook, Writer

__all__ = [
    "RANK_WINDOW",
    "Added",
    "ChangeRow",
    "ChangeWatch",
    "Clock",
    "ConversationRow",
    "Dimension",
    "EventFilter",
    "EventRow",
    "FileState",
    "FilterOptions",
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
    "ProjectCells",
    "Reader",
    "ReportRow",
    "SearchWhere",
    "SessionFilter",
    "SessionOrder",
    "SessionRow",
    "SortKey",
    "SourceCount",
    "StatementCounter",
    "StatsRow",
    "Store",
    "TokenTotals",
    "UsageCell",
    "UsageFilter",
    "WriteHook",
    "Writer",
    "load_migrations",
]
