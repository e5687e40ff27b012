"""Query benchmark: GraphQL requests against raw ``sqlite3`` on the same file, same run.

Each case runs three ways on the database the import benchmark filled:

- ``api``: ``schema.execute`` with a fresh :class:`Context` per request (fresh loaders,
  as the HTTP endpoint makes them);
- ``http``: a POST to ``/graphql`` through the Starlette app (httpx ASGI transport, no
  socket), which adds request parsing, JSON encoding and middleware;
- ``raw``: :class:`bench.raw_queries.RawDb`, the minimal hand-written equivalent.

Reported: p50/p95 after warm-up, the API/raw ratio, and SQL statements per request
(the store's counter reset before one request and read after it). The answers of the
API and raw runs are compared once, so a ratio never compares different work.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from functools import partial
from typing import TYPE_CHECKING, Any

import httpx

from bench.raw_queries import RawDb
from bench.timing import Plan, Timing, measure, measure_async
from graph.app import create_app
from graph.schema import ApiSettings, Context, build_schema
from graph.store import Store

if TYPE_CHECKING:
    from pathlib import Path

__all__ = ["QueryCase", "QueryReport", "bench_queries"]

SESSION_PAGE = """{ sessions(first: 50) { edges { node {
  sessionId title startedAt messageCount eventCount
  tokenUsage { input output cacheRead cacheCreation } } } } }"""

SESSION_MESSAGES = """query One($id: ID!, $first: Int!) { session(id: $id) {
  sessionId messages(first: $first) { edges { node {
    id uuid role model timestamp text
    blocks { __typename
      ... on TextBlock { text } ... on ThinkingBlock { thinking }
      ... on ToolUseBlock { toolUseId name input }
      ... on ToolResultBlock { toolUseId content isError } } } } } } }"""

USAGE = """{ usage(groupBy: [DAY, MODEL], timeZone: "UTC", first: 500) { totalCount nodes {
  day model messageCount costUsd tokenUsage { input output cacheRead cacheCreation } } } }"""

NESTED = """{ sessions(first: 50) { edges { node { sessionId
  conversations { messages(first: 5) { edges { node { text blocks { __typename } } } } }
  events { totalCount } } } } }"""


@dataclass(frozen=True, slots=True)
class QueryCase:
    """One request, timed three ways."""

    name: str
    api: Timing
    http: Timing
    raw: Timing
    api_statements: int
    raw_statements: int
    matches: bool

    @property
    def ratio(self) -> float:
        """API p50 over raw p50."""
        return self.api.p50_ms / self.raw.p50_ms

    @property
    def http_ratio(self) -> float:
        return self.http.p50_ms / self.raw.p50_ms


@dataclass(frozen=True, slots=True)
class QueryReport:
    label: str
    sessions: int
    conversations: int
    messages: int
    events: int
    cases: list[QueryCase]


@dataclass(frozen=True, slots=True)
class _Case:
    name: str
    query: str
    variables: dict[str, Any] | None
    raw: Callable[[], Any]
    check: Callable[[Any, Any], bool]


class SchemaClient:
    """``schema.execute`` on one store, a fresh context per request (as the endpoint does)."""

    def __init__(self, store: Store) -> None:
        self.store = store
        self.schema = build_schema()
        self.settings = ApiSettings()

    async def run(self, query: str, variables: dict[str, Any] | None = None) -> Any:
        context = Context(store=self.store, settings=self.settings, request_id="bench")
        result = await self.schema.execute(query, variable_values=variables, context_value=context)
        if result.errors:
            raise RuntimeError(f"GraphQL errors: {[e.message for e in result.errors]}")
        return result.data

    async def statements(self, query: str, variables: dict[str, Any] | None = None) -> int:
        self.store.statements.count = 0
        await self.run(query, variables)
        return self.store.statements.count


async def bench_queries(db: Path, plan: Plan, label: str = "") -> QueryReport:
    """Time the three requests on ``db`` (filled, migrated)."""
    store = await Store.open(db, backup=False)
    raw = RawDb(db)
    api = SchemaClient(store)
    transport = httpx.ASGITransport(app=create_app(store=store))
    try:
        async with httpx.AsyncClient(transport=transport, base_url="http://127.0.0.1") as client:

            async def http(query: str, variables: dict[str, Any] | None = None) -> None:
                response = await client.post(
                    "/graphql", json={"query": query, "variables": variables or {}}
                )
                if response.status_code != 200 or "errors" in response.json():
                    raise RuntimeError(f"HTTP {response.status_code}: {response.text[:300]}")

            session_id, count = raw.pick_session(200)
            cases = [
                _Case("sessions(first: 50) page", SESSION_PAGE, None, raw.session_page, _same_page),
                _Case(
                    f"session with {min(count, 200)} messages",
                    SESSION_MESSAGES,
                    {"id": session_id, "first": 200},
                    partial(raw.session_messages, session_id, 200),
                    _same_messages,
                ),
                _Case(
                    "nested: 50 sessions > threads > 5 msgs + events",
                    NESTED,
                    None,
                    raw.nested,
                    _same_nested,
                ),
                _Case(
                    "usage(groupBy: [DAY, MODEL]) with costs",
                    USAGE,
                    None,
                    raw.usage_day_model,
                    _same_usage,
                ),
            ]
            results = []
            for case in cases:
                raw.counting(True)
                expected = case.raw()
                raw_statements = raw.statements
                raw.counting(False)
                matches = case.check(await api.run(case.query, case.variables), expected)
                results.append(
                    QueryCase(
                        name=case.name,
                        api=await measure_async(partial(api.run, case.query, case.variables), plan),
                        http=await measure_async(partial(http, case.query, case.variables), plan),
                        raw=measure(case.raw, plan),
                        api_statements=await api.statements(case.query, case.variables),
                        raw_statements=raw_statements,
                        matches=matches,
                    )
                )
        sizes = raw.sizes()
    finally:
        raw.close()
        await store.close()
    return QueryReport(label, *sizes, cases=results)


def _same_page(data: Any, rows: list[tuple[Any, ...]]) -> bool:
    ids = [edge["node"]["sessionId"] for edge in data["sessions"]["edges"]]
    return ids == [row[0] for row in rows]


def _same_messages(data: Any, rows: list[tuple[Any, ...]]) -> bool:
    edges = data["session"]["messages"]["edges"]
    return [edge["node"]["uuid"] for edge in edges] == [row[1] for row in rows]


def _same_usage(data: Any, rows: list[tuple[Any, ...]]) -> bool:
    nodes = data["usage"]["nodes"]
    got = [(n["day"], n["model"], n["messageCount"], *n["tokenUsage"].values()) for n in nodes]
    return got == [tuple(row) for row in rows] and data["usage"]["totalCount"] == len(rows)


def _same_nested(data: Any, expected: dict[str, Any]) -> bool:
    nodes = [edge["node"] for edge in data["sessions"]["edges"]]
    conversations = [c for node in nodes for c in node["conversations"]]
    messages = sum(len(c["messages"]["edges"]) for c in conversations)
    events = sum(node["events"]["totalCount"] for node in nodes)
    return (
        [node["sessionId"] for node in nodes] == expected["sessions"]
        and len(conversations) == expected["conversations"]
        and messages == len(expected["messages"])
        and events == sum(expected["events"].values())
    )
