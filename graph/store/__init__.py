"""Storage: every SQL statement sessiongraph runs lives in this package."""

from graph.store.filters import EventFilter, MessageFilter, SessionFilter, SessionOrder
from graph.store.inputs import FileState, NewConversation, NewEvent, NewMessage, NewSession
from graph.store.migrations import Migration, MigrationState, Migrator, load_migrations
from graph.store.pages import Page, PageRequest, SortKey
from graph.store.reads import Reader
from graph.store.rows import (
    ConversationRow,
    EventRow,
    MessageRow,
    SessionRow,
    StatsRow,
    TokenTotals,
)
from graph.store.searching import HitRow, SearchWhere
from graph.store.store import Store
from graph.store.writes import WriteHook, Writer

__all__ = [
    "ConversationRow",
    "EventFilter",
    "EventRow",
    "FileState",
    "HitRow",
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
    "Reader",
    "SearchWhere",
    "SessionFilter",
    "SessionOrder",
    "SessionRow",
    "SortKey",
    "StatsRow",
    "Store",
    "TokenTotals",
    "WriteHook",
    "Writer",
    "load_migrations",
]
