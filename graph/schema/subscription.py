"""Subscriptions: a running session's activity, and session lists that stay fresh."""

from __future__ import annotations

from collections.abc import AsyncGenerator
from typing import Annotated, TypeAlias

import strawberry

from graph.errors import UserInputError
from graph.feed import Activity, ChangeFeed, Subscriber, is_closed, load_rows
from graph.loaders import Loaders
from graph.schema.context import Info
from graph.schema.ids import decode_cursor, encode_cursor
from graph.schema.lookups import session_pk
from graph.schema.query import SessionFilter
from graph.schema.types import Event, Message, Session
from graph.store import EventRow, MessageRow, SessionRow

__all__ = ["Subscription"]

ActivityNode: TypeAlias = Annotated[Message | Event, strawberry.union("ActivityNode")]
_REPLAY_PAGE = 500


@strawberry.type(description="A message written or rewritten, or an event written.")
class SessionActivity:
    cursor: str = strawberry.field(description="Resubscribe with `after: cursor` to resume.")
    node: ActivityNode


def _feed(info: Info) -> ChangeFeed:
    feed = info.context.feed
    if feed is None:
        raise UserInputError("subscriptions are served over WebSocket only")
    return feed


def _fresh(info: Info) -> None:
    """Each pushed item is resolved from what is stored at its commit: fresh loaders, and
    no value opened for an earlier item (a message that grew has the same row key, and
    the cache would otherwise grow with the subscription)."""
    info.context.loaders = Loaders(info.context.store)
    info.context.forget()


def _activity(info: Info, seq: int, row: MessageRow | EventRow) -> SessionActivity:
    _fresh(info)
    node: Message | Event = (
        Message.of(row, info.context)
        if isinstance(row, MessageRow)
        else Event.of(row, info.context)
    )
    return SessionActivity(cursor=encode_cursor("a", (seq,)), node=node)


@strawberry.type
class Subscription:
    @strawberry.subscription(
        description="New and rewritten messages and new events of one session, as they are "
        "committed. With `after` (a cursor), what came since is replayed first: nothing is "
        "lost and nothing comes twice."
    )
    async def session_activity(
        self, info: Info, session_id: strawberry.ID, after: str | None = None
    ) -> AsyncGenerator[SessionActivity, None]:
        feed = _feed(info)
        pk = await session_pk(info, session_id)
        if pk is None:
            raise UserInputError(f"no session {session_id!r}")
        since = decode_cursor(after, "a", (int,))[0] if after is not None else None
        subscriber = feed.subscribe(Subscriber(session_pk=pk, wants_sessions=False))
        try:
            # Subscribed first, so nothing committed from here on is missed; replayed up
            # to what the feed had dispatched before, so nothing comes twice.
            boundary = feed.last
            last = boundary if since is None else since
            while last < boundary:
                async with info.context.store.read() as reader:
                    changes = [
                        c
                        for c in await reader.changes_after(last, _REPLAY_PAGE, pk)
                        if c.seq <= boundary
                    ]
                    rows = await load_rows(reader, changes)
                if not changes:
                    break
                for change, row in zip(changes, rows, strict=True):
                    last = change.seq
                    if row is not None:
                        yield _activity(info, change.seq, row)
            while True:
                item = await subscriber.next()
                if is_closed(item):
                    return
                assert isinstance(item, Activity)
                if item.change.seq <= last:
                    continue
                last = item.change.seq
                if item.row is not None:
                    yield _activity(info, item.change.seq, item.row)
        finally:
            feed.unsubscribe(subscriber)

    @strawberry.subscription(
        description="A session was created or gained activity (its counts and "
        "lastActivityAt are current), for session lists that stay fresh."
    )
    async def sessions_changed(
        self, info: Info, filter: SessionFilter | None = None
    ) -> AsyncGenerator[Session, None]:
        feed = _feed(info)
        subscriber = feed.subscribe(
            Subscriber(
                session_pk=None,
                wants_sessions=True,
                where=None if filter is None else filter.to_store(info.context.store.codec),
            )
        )
        try:
            while True:
                item = await subscriber.next()
                if is_closed(item):
                    return
                assert isinstance(item, SessionRow)
                _fresh(info)
                yield Session.of(item, info.context)
        finally:
            feed.unsubscribe(subscriber)
