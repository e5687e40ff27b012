"""A session's transcript as markdown pages of bounded size, for ``get_session``.

A page holds whole messages while they fit; a message longer than what is left of the
page is cut, and the next page starts where it was cut. The continuation cursor says
where (thread, last message shown, characters of the next one already shown) and whose
session it is, so a cursor is only ever good for the session that issued it.
"""

from __future__ import annotations

import base64
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING, Final

import orjson

from graph.content import records_of
from graph.errors import UserInputError
from graph.export import session_document
from graph.export_markdown import clip, render_message, session_header, truncate
from graph.importers.formats import TranscriptFormat, format_named
from graph.secrets import default_scanner
from graph.store import MessageFilter, PageRequest
from graph.store.prompt_history import HISTORY_THREAD

if TYPE_CHECKING:
    from graph.store import ConversationRow, MessageRow, Reader, SessionRow, Store

__all__ = ["Position", "transcript_page"]

_FETCH: Final = 50  # messages read at a time
_MIN_CUT: Final = 200  # below this much room, a long message goes to the next page whole
# A header's facts, each on one line cut to this many characters: a title or a summary
# can be any size (a custom title of 240 KB made a 1,000-character page 565 KB).
_FACT_CHARS: Final = 300
_SUMMARY_CHARS: Final = 1_000


@dataclass(frozen=True, slots=True)
class Position:
    """Where a page starts: thread index, last message shown in it, characters skipped."""

    session_id: str
    thread: int = 0
    after: tuple[int, int] | None = None  # (seq, id) of the last message shown
    skip: int = 0

    @property
    def at_start(self) -> bool:
        return self.thread == 0 and self.after is None and self.skip == 0

    def encode(self) -> str:
        raw = orjson.dumps([self.session_id, self.thread, self.after, self.skip])
        return base64.urlsafe_b64encode(raw).decode().rstrip("=")

    @classmethod
    def decode(cls, cursor: str, session_id: str) -> Position:
        """The position in ``cursor``.

        Raises:
            UserInputError: not a cursor ``get_session`` gave for this session.
        """
        try:
            raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4))
            sid, thread, after, skip = orjson.loads(raw)
            position = cls(
                str(sid), int(thread), (int(after[0]), int(after[1])) if after else None, int(skip)
            )
        except (ValueError, TypeError, IndexError, orjson.JSONDecodeError) as exc:
            raise UserInputError("this cursor is not one get_session gave") from exc
        if position.session_id != session_id or position.thread < 0 or position.skip < 0:
            raise UserInputError(f"this cursor was not given for session {session_id}")
        return position


async def transcript_page(
    store: Store, session_id: str, cursor: str | None, max_chars: int
) -> tuple[str, str | None]:
    """The page of the session's markdown at ``cursor``, and the cursor of the next one.

    Raises:
        UserInputError: no such session, or a cursor it did not issue.
    """
    position = Position.decode(cursor, session_id) if cursor else Position(session_id)
    async with store.read() as reader:
        [session] = await reader.sessions_by_session_id([session_id])
        if session is None:
            raise UserInputError(
                f"no session with id {session_id!r}; search or list_sessions give the ids"
            )
        threads = (await reader.conversations_of_sessions([session.id]))[0]
        agent = format_named(session.source)
        page = _Page(max_chars)
        if position.at_start:
            # The messages keep at least a cut's worth of the page.
            page.add(truncate(_header(store, session), max_chars - _MIN_CUT))
        while position.thread < len(threads) and not page.full:
            thread = threads[position.thread]
            if position.after is None and position.skip == 0:
                page.add(_thread_heading(thread))
            position = await _fill(store, reader, agent, thread, position, page)
            if not page.full:
                position = Position(session_id, position.thread + 1)
    if position.thread >= len(threads):
        return page.text + "\n*(end of the transcript)*\n", None
    return page.text, position.encode()


class _Page:
    def __init__(self, budget: int) -> None:
        self.budget = budget
        self.parts: list[str] = []
        self.size = 0
        self.messages = 0  # a page always shows some of a message, however long
        self.full = False

    @property
    def room(self) -> int:
        return self.budget - self.size

    @property
    def text(self) -> str:
        return "".join(self.parts)

    def add(self, text: str) -> None:
        self.parts.append(text)
        self.size += len(text)


async def _fill(
    store: Store,
    reader: Reader,
    agent: TranscriptFormat,
    thread: ConversationRow,
    position: Position,
    page: _Page,
) -> Position:
    """Add the thread's messages from ``position`` until the thread or the page ends."""
    while True:
        request = PageRequest(limit=_FETCH, after=position.after)
        [rows] = await reader.message_pages("conversation", [thread.id], MessageFilter(), request)
        for row in rows.rows:
            text = _render(store, agent, row)[position.skip :]
            if len(text) <= page.room:
                page.add(text)
                page.messages += 1
                position = replace(position, after=(row.seq, row.id), skip=0)
                continue
            page.full = True
            if page.room >= _MIN_CUT or page.messages == 0:
                cut = max(page.room, _MIN_CUT)
                page.add(text[:cut] + "\n… *(cut here; the next page goes on)*\n")
                position = replace(position, skip=position.skip + cut)
            return position
        if not rows.has_next:
            return position


def _render(store: Store, agent: TranscriptFormat, row: MessageRow) -> str:
    """A message as markdown, secrets masked as everywhere the API serves them."""
    raw = store.codec.open("messages", "content", row.row_key, row.records)
    scanner = default_scanner()
    if scanner.could_contain_json(raw):
        raw = orjson.dumps(scanner.mask_json(orjson.loads(raw)))
    records = records_of(raw)
    return render_message(
        row.role, row.timestamp, agent.shown_model(row.model), agent.blocks(records)
    )


def _header(store: Store, session: SessionRow) -> str:
    facts = session_document(session, store.codec, default_scanner().mask_json)
    for name in ("title", "project", "cwd", "gitBranch"):
        if isinstance(facts.get(name), str):
            facts[name] = clip(facts[name], _FACT_CHARS)
    if isinstance(facts.get("summary"), str):
        facts["summary"] = clip(facts["summary"], _SUMMARY_CHARS)
    text = session_header(facts)
    if session.history_only:
        text += (
            "\n*Known only from Claude Code's prompt history: the transcript was deleted "
            "before it was imported, so below are the prompts typed, without answers.*\n"
        )
    return text


def _thread_heading(thread: ConversationRow) -> str:
    if thread.agent_id == HISTORY_THREAD:
        return "\n## Prompts (from the prompt history)\n"
    if thread.is_sidechain:
        parent = thread.parent_tool_use_id
        started = f" (started by tool call `{parent}`)" if parent else ""
        return f"\n## Subagent `{thread.agent_id}`{started}\n"
    return "\n## Main conversation\n"
