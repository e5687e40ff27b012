"""The pages the query and serve scenarios time, as GraphQL requests and as what a minimal
endpoint would do over the same (plaintext) file for the same JSON ``data``: the fewest
statements (per-parent pages with a correlated ``LIMIT``), text joined as sessiongraph joins
it, the search ranked by the same bm25 weights over the same window of newest matches."""

from __future__ import annotations

import sqlite3
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Final

import orjson
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from graph.blocks import blocks_for
from graph.content import readable_text, records_of
from graph.schema.ids import encode_id
from graph.schema.search import DEFAULT_FIELDS
from graph.search.fts import compile_query
from graph.search.query import parse
from graph.store.searching import BM25_WEIGHTS, RANK_WINDOW, SESSION_DOCS

Data = dict[str, Any]

NESTED: Final = """{ sessions(first: 50) { totalCount edges { node { id
  messages(first: 5) { totalCount edges { node { id role text } } } } } } }"""
FLAT: Final = """{ sessions(first: 50) { edges { node { id sessionId title project
  messageCount eventCount tokenUsage { input output } } } } }"""
SESSION: Final = """query One($id: ID!) { session(id: $id) { id sessionId
  messages(first: 20) { edges { node { id role model text } } } } }"""
SEARCH: Final = """query Search($q: String!) { search(query: $q, first: 20) { edges { node {
  score node { ... on Message { id } ... on Session { id } } session { sessionId } } } } }"""
USAGE: Final = """{ usage(groupBy: [DAY, MODEL], timeZone: "UTC", first: 500) { totalCount
  nodes { day model messageCount tokenUsage { input output cacheRead cacheCreation } } } }"""

_ORDER: Final = "ORDER BY started_at DESC, id DESC LIMIT 50"  # the default session order
_BM25: Final = "bm25(search_fts, " + ", ".join(map(str, BM25_WEIGHTS.values())) + ")"
_KINDS: Final = f"(search_fts.rowid >= {SESSION_DOCS} OR (search_fts.rowid & 3) = 0)"
_SEARCH_SQL: Final = (
    "SELECT h.rowid, h.score, s.session_id FROM ("
    f" SELECT search_fts.rowid AS rowid, {_BM25} AS score FROM search_fts"
    " WHERE search_fts MATCH :q AND search_fts.rowid >= coalesce((SELECT search_fts.rowid"
    f" FROM search_fts WHERE search_fts MATCH :q AND {_KINDS} ORDER BY search_fts.rowid DESC"
    f" LIMIT 1 OFFSET :window - 1), 0) AND {_KINDS} ORDER BY score, search_fts.rowid LIMIT 20"
    ") AS h JOIN search_docs AS d ON d.rowid = h.rowid JOIN sessions AS s ON s.id ="
    " d.session_pk ORDER BY h.score, h.rowid"
)


def search_expression(query: str) -> str:
    """The FTS5 MATCH expression sessiongraph makes of ``query`` (default fields)."""
    return compile_query(parse(query), DEFAULT_FIELDS).expression


def _text(source: str, content: bytes | str) -> str:
    return readable_text(blocks_for(source)(records_of(content)))


def _edge(**node: Any) -> Data:
    return {"node": node}


def _doc_id(rowid: int) -> str:
    """A search document's global id (sessions from ``SESSION_DOCS`` on, messages pk << 2)."""
    if rowid >= SESSION_DOCS:
        return encode_id("Session", rowid - SESSION_DOCS)
    return encode_id("Message", rowid >> 2)


class RawPages:
    """The raw side of every page, on a read-only plain ``sqlite3`` connection."""

    def __init__(self, db: Path) -> None:
        self.conn = sqlite3.connect(f"file:{db}?mode=ro", uri=True, check_same_thread=False)

    def close(self) -> None:
        self.conn.close()

    def rows(self, sql: str, *parameters: object) -> list[Any]:
        return self.conn.execute(sql, parameters).fetchall()

    def nested(self) -> Data:
        sessions = self.rows(f"SELECT id, message_count, source FROM sessions {_ORDER}")
        sources = {pk: source for pk, _, source in sessions}
        rows = self.rows(
            "SELECT k.value, m.id, m.role, m.content FROM json_each(?) AS k JOIN messages AS m"
            " ON m.id IN (SELECT x.id FROM messages AS x WHERE x.session_pk = k.value"
            " ORDER BY x.timestamp, x.id LIMIT 5) ORDER BY k.key, m.timestamp, m.id",
            orjson.dumps([pk for pk, _, _ in sessions]).decode(),
        )
        by_session: dict[int, list[Data]] = {}
        for session_pk, pk, role, content in rows:
            text = _text(sources[session_pk], content)
            node = {"id": encode_id("Message", pk), "role": role, "text": text}
            by_session.setdefault(session_pk, []).append({"node": node})
        [(total,)] = self.rows("SELECT count(*) FROM sessions")
        edges = []
        for pk, n, _ in sessions:
            messages = {"totalCount": n, "edges": by_session.get(pk, [])}
            edges.append(_edge(id=encode_id("Session", pk), messages=messages))
        return {"sessions": {"totalCount": total, "edges": edges}}

    def flat_rows(self) -> list[Any]:
        """The flat page's rows: (pk, sessionId, title, project, messages, events, input
        tokens, output tokens), newest first."""
        return self.rows(
            "SELECT id, session_id, title, project, message_count, event_count, input_tokens,"
            f" output_tokens FROM sessions {_ORDER}"
        )

    def flat(self) -> Data:
        edges = []
        for pk, sid, title, project, m, e, i, o in self.flat_rows():
            node = {"id": encode_id("Session", pk), "sessionId": sid, "title": title}
            node |= {"project": project, "messageCount": m, "eventCount": e}
            edges.append(_edge(**node, tokenUsage={"input": i, "output": o}))
        return {"sessions": {"edges": edges}}

    def session(self, session_id: str) -> Data:
        rows = self.rows("SELECT id, source FROM sessions WHERE session_id = ?", session_id)
        if not rows:
            return {"session": None}
        row = rows[0]
        messages = self.rows(
            "SELECT id, role, model, content FROM messages WHERE session_pk = ?"
            " ORDER BY timestamp, id LIMIT 20",
            row[0],
        )
        edges = [
            _edge(id=encode_id("Message", pk), role=role, model=model, text=_text(row[1], content))
            for pk, role, model, content in messages
        ]
        node = {"id": encode_id("Session", row[0]), "sessionId": session_id}
        return {"session": node | {"messages": {"edges": edges}}}

    def search(self, query: str) -> Data:
        rows = self.conn.execute(
            _SEARCH_SQL, {"q": search_expression(query), "window": RANK_WINDOW}
        ).fetchall()
        edges = [
            _edge(score=-score, node={"id": _doc_id(rowid)}, session={"sessionId": session_id})
            for rowid, score, session_id in rows
        ]
        return {"search": {"edges": edges}}

    def usage(self) -> Data:
        """The bare aggregate by UTC day and model (no prices, no local days)."""
        rows = self.rows(
            "SELECT substr(timestamp, 1, 10), model, count(*), sum(input_tokens),"
            " sum(output_tokens), sum(cache_read_tokens), sum(cache_creation_tokens)"
            " FROM messages WHERE counted = 1 GROUP BY 1, 2 ORDER BY 1, 2"
        )
        nodes = []
        for day, model, count, i, o, r, c in rows[:500]:
            usage = {"input": i, "output": o, "cacheRead": r, "cacheCreation": c}
            nodes.append({"day": day, "model": model, "messageCount": count, "tokenUsage": usage})
        return {"usage": {"totalCount": len(rows), "nodes": nodes}}

    def pages(self) -> list[Page]:
        """The four page kinds of issue 17 (one session: one with 20 messages if any)."""
        row = self.conn.execute(
            "SELECT session_id FROM sessions ORDER BY message_count >= 20 DESC, id LIMIT 1"
        ).fetchone()
        return [
            Page("nested", "nested: 50 sessions x 5 messages", NESTED, {}),
            Page("flat", "flat: 50 sessions", FLAT, {}),
            Page("one", "one session, 20 messages", SESSION, {"id": row[0] if row else ""}),
            Page("search", "search top 20", SEARCH, {"q": "session"}),  # a fifth of messages
        ]

    def response(self, query: str, variables: Data) -> bytes:
        """The body a server would send: :meth:`answer` as JSON ``data``."""
        return orjson.dumps({"data": self.answer(query, variables)})

    def answer(self, query: str, variables: Data) -> Data:
        """The JSON ``data`` of the page asking ``query`` (variables: its method's arguments)."""
        pages: dict[str, Callable[..., Data]] = {NESTED: self.nested, FLAT: self.flat}
        pages |= {SESSION: self.session, SEARCH: self.search, USAGE: self.usage}
        return pages[query](*variables.values())


@dataclass(frozen=True, slots=True)
class Page:
    """One page kind: its name in figures (``query.KEY...``), in tables, and its request."""

    key: str
    name: str
    query: str
    variables: Data


# Usage by UTC day and model (issue 16), timed in process only: serve keeps to the four pages.
USAGE_PAGE: Final = Page("usage", "usage: by day and model", USAGE, {})


def raw_app(db: Path) -> Starlette:
    """The raw endpoint of the serve scenario: Starlette, one route, no middleware, no
    token, sqlite3 on the event loop, orjson; the page is picked by its query text."""
    pages = RawPages(db)

    async def graphql(request: Request) -> Response:
        body = orjson.loads(await request.body())
        answer = pages.response(body["query"], body.get("variables") or {})
        return Response(answer, media_type="application/json")

    return Starlette(routes=[Route("/graphql", graphql, methods=["POST"])])
