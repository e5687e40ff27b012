"""Search benchmark: the ``search`` field against the bare FTS5 query, same file, same run.

A database of N generated messages (:mod:`bench.search_corpus`, written through the
store's write API, so the index is the one the search hook builds) is queried four ways
for each query kind (a common term, a rare term, a phrase, a prefix), top 20:

- ``api``: ``schema.execute`` of a ``search(query:, first: 20)`` request selecting
  ``score snippet highlights node { __typename } session { sessionId }``, a fresh
  :class:`Context` per request (fresh loaders, as the HTTP endpoint makes them);
- ``store``: ``Reader.search`` alone, on a reader of the store
  (as the API gets it, statement counter attached): our ranked SQL (weighted bm25,
  joined to ``search_docs``, scope filter) and aiosqlite's thread hop, no schema;
- ``bare``: ``SELECT rowid FROM search_fts WHERE search_fts MATCH ? ORDER BY rank
  LIMIT 20`` on a plain ``sqlite3`` connection, with the MATCH expression our compiler
  makes for the query (``compile_query(parse(q), DEFAULT_FIELDS)``);

and reported with p50/p95, API/bare, how many documents match, and SQL statements per
request. With ``diagnostics`` the time of a search is taken apart (iterating the
matches, ranking them, the statement counter's trace callback, fetching the hits,
cutting snippets), and variants of the ranked SQL that bound the bm25 work are timed on
the same file, with how many of the unbounded top 20 each one still returns.
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from functools import partial
from typing import TYPE_CHECKING, Any, Final

import orjson

from bench.queries import SchemaClient
from bench.search_corpus import (
    COMMON_TERM,
    GENERATOR_VERSION,
    PHRASE,
    PREFIX,
    RARE_TERM,
    fill_search_db,
)
from bench.timing import Plan, Timing, measure, measure_async
from graph.content import records_of
from graph.schema.search import DEFAULT_FIELDS
from graph.search.analysis import INDEX_VERSION
from graph.search.documents import Fields, event_fields, message_fields, session_fields
from graph.search.fts import Compiled, compile_query
from graph.search.query import parse
from graph.search.snippets import make_snippet
from graph.store import Page, PageRequest, Reader, SearchWhere, Store
from graph.store.connection import open_connection
from graph.store.searching import BM25_WEIGHTS, RANK_WINDOW

if TYPE_CHECKING:
    from pathlib import Path

    from rich.console import Console

__all__ = [
    "BOUND_KS",
    "QUERIES",
    "TOP",
    "BoundCase",
    "BoundResult",
    "Breakdown",
    "SearchCase",
    "SearchReport",
    "bench_search",
    "newest_k_sql",
    "ranked_sql",
    "search_db",
]

TOP: Final = 20
# (name, query as a user types it)
QUERIES: Final = (
    ("common term", COMMON_TERM),
    ("rare term", RARE_TERM),
    ("phrase", f'"{PHRASE}"'),
    ("prefix", f"{PREFIX}*"),
)
BOUND_KS: Final = (1_000, 5_000, 20_000)

SEARCH = """query Search($q: String!, $first: Int!) { search(query: $q, first: $first) {
  edges { node { score snippet highlights { start end } node { __typename }
  session { sessionId } } } } }"""

BARE = "SELECT rowid FROM search_fts WHERE search_fts MATCH ? ORDER BY rank LIMIT ?"
_COUNT = "SELECT count(*) FROM search_fts WHERE search_fts MATCH ?"
_COUNT_HITS = (
    "SELECT count(*) FROM search_fts JOIN search_docs AS d ON d.rowid = search_fts.rowid"
    " WHERE search_fts MATCH :q AND d.kind IN (SELECT value FROM json_each(:kinds))"
)
_UNRANKED = "SELECT rowid FROM search_fts WHERE search_fts MATCH ? LIMIT ?"
_WEIGHTS: Final = ", ".join(map(str, BM25_WEIGHTS.values()))
_KINDS: Final = json.dumps(["message", "session"])  # the default scopes
# What search_hits runs for a first page in the default scopes (checked against it).
_RANKED = (
    f"SELECT d.rowid, d.kind, d.session_pk, bm25(search_fts, {_WEIGHTS}) AS score"
    " FROM search_fts JOIN search_docs AS d ON d.rowid = search_fts.rowid"
    " WHERE search_fts MATCH :q AND d.kind IN (SELECT value FROM json_each(:kinds)){bound}"
    " ORDER BY score, d.rowid LIMIT :n"
)
# Rank only the newest :k matches: FTS5 walks the doclist backwards to the k-th match's
# rowid (no ranking), then ranks the rows at or above it. Fewer than k matches: no bound.
_NEWEST_K = (
    " AND search_fts.rowid >= coalesce((SELECT rowid FROM search_fts WHERE search_fts"
    " MATCH :q ORDER BY rowid DESC LIMIT 1 OFFSET :k - 1), 0)"
)
# The same, keeping session documents (pk * 4 + 2, so small rowids: "old") in the ranking;
# the OR stops FTS5 from using the rowid bound, so every match is iterated again.
_NEWEST_K_AND_SESSIONS = (
    " AND (search_fts.rowid >= coalesce((SELECT rowid FROM search_fts WHERE search_fts"
    " MATCH :q ORDER BY rowid DESC LIMIT 1 OFFSET :k - 1), 0) OR search_fts.rowid % 4 = 2)"
)


@dataclass(frozen=True, slots=True)
class Breakdown:
    """Where the time of one search goes (ms p50 / p95 each), on plain sqlite3 unless said."""

    count: Timing  # SELECT count(*) ... MATCH: iterate every match, rank none
    unranked: Timing  # MATCH ... LIMIT 20, no ORDER BY: the first 20 matches
    ranked: Timing  # our ranked SQL (bm25 with weights, join, scope filter)
    untraced: Timing  # search_hits on an aiosqlite reader without the statement counter
    nested: int  # statements SQLite runs inside one ranked query (FTS5's own lookups)
    fetch: Timing  # load and decode the 20 hits' rows (one SELECT ... IN)
    snippets: Timing  # cut the 20 snippets (Python, rows already decoded)


@dataclass(frozen=True, slots=True)
class SearchCase:
    """One query, timed through the schema, the store and bare FTS5."""

    name: str
    query: str
    expression: str
    matches: int  # documents of any kind matching the expression
    hits: int  # of those, in the default scopes (messages and sessions)
    returned: int  # edges in the API's answer
    api: Timing
    store: Timing
    bare: Timing
    api_statements: int
    # The API returned the scores search_hits ranked, in its order.
    same_as_store: bool
    breakdown: Breakdown | None = None

    @property
    def ratio(self) -> float:
        """API p50 over bare p50."""
        return self.api.p50_ms / self.bare.p50_ms

    @property
    def store_ratio(self) -> float:
        return self.store.p50_ms / self.bare.p50_ms


@dataclass(frozen=True, slots=True)
class BoundResult:
    timing: Timing
    returned: int
    overlap: int  # how many of the unbounded top 20 it returns


@dataclass(frozen=True, slots=True)
class BoundCase:
    """A variant of the ranked SQL, run for every query."""

    name: str
    sql: str
    k: int | None
    results: dict[str, BoundResult]


@dataclass(slots=True)
class SearchReport:
    label: str
    size: int
    sessions: int
    messages: int
    events: int
    documents: int
    db_mb: float
    fill_seconds: float
    reused: bool
    cases: list[SearchCase] = field(default_factory=list)
    bounds: list[BoundCase] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        data = asdict(self)
        data["cases"] = [
            {**asdict(c), "ratio": c.ratio, "store_ratio": c.store_ratio} for c in self.cases
        ]
        return data


# ---------------------------------------------------------------------------- database


def _db_name(size: int, seed: int) -> str:
    return f"search-{size}-seed{seed}-g{GENERATOR_VERSION}-i{INDEX_VERSION}.db"


def _remove(db: Path) -> None:
    for suffix in ("", "-wal", "-shm"):
        db.with_name(db.name + suffix).unlink(missing_ok=True)


async def search_db(
    workdir: Path, size: int, seed: int, console: Console | None = None
) -> tuple[Path, dict[str, Any]]:
    """The filled database of ``size`` messages in ``workdir``, and its fill manifest.

    A database with a manifest beside it is reused (``--keep``); anything else is
    refilled from scratch.
    """
    db = workdir / _db_name(size, seed)
    manifest = db.with_suffix(".json")
    if manifest.exists() and db.exists():
        data: dict[str, Any] = json.loads(manifest.read_text())
        if console:
            console.print(f"reusing {db} ({data['db_mb']:.0f} MB)")
        return db, {**data, "reused": True}
    _remove(db)
    manifest.unlink(missing_ok=True)
    store = await Store.open(db, backup=False)
    try:
        if console:
            with console.status(f"filling {db.name} with {size:,} messages..."):
                stats = await fill_search_db(store, size, seed)
        else:
            stats = await fill_search_db(store, size, seed)
        await store.checkpoint()
    finally:
        await store.close()
    data = {
        "size": size, "seed": seed, "sessions": stats.sessions, "messages": stats.messages,
        "events": stats.events, "fill_seconds": stats.seconds,
        "write_seconds": stats.write_seconds, "db_mb": db.stat().st_size / 1e6,
    }  # fmt: skip
    manifest.write_text(json.dumps(data))
    if console:
        console.print(
            f"filled {stats.messages:,} messages ({stats.sessions:,} sessions, "
            f"{stats.events:,} events) in {stats.seconds:.1f}s "
            f"({stats.messages / stats.seconds:,.0f} msgs/s), {data['db_mb']:.0f} MB: {db}"
        )
    return db, {**data, "reused": False}


# ---------------------------------------------------------------------------- timing


class _Api:
    """The search query through the schema (see :class:`bench.queries.SchemaClient`)."""

    def __init__(self, store: Store) -> None:
        self.client = SchemaClient(store)

    async def run(self, query: str) -> Any:
        return await self.client.run(SEARCH, {"q": query, "first": TOP})

    async def statements(self, query: str) -> int:
        return await self.client.statements(SEARCH, {"q": query, "first": TOP})


class _Raw:
    """A read-only plain sqlite3 connection on the benchmark database."""

    def __init__(self, db: Path) -> None:
        self.conn = sqlite3.connect(f"file:{db}?mode=ro", uri=True)

    def close(self) -> None:
        self.conn.close()

    def bare(self, expression: str) -> list[Any]:
        return self.conn.execute(BARE, (expression, TOP)).fetchall()

    def count(self, expression: str) -> int:
        return int(self.conn.execute(_COUNT, (expression,)).fetchone()[0])

    def count_hits(self, expression: str) -> int:
        row = self.conn.execute(_COUNT_HITS, {"q": expression, "kinds": _KINDS}).fetchone()
        return int(row[0])

    def nested(self, sql: str, params: dict[str, Any]) -> int:
        """How many statements SQLite runs inside ``sql`` (trace lines starting ``--``)."""
        seen = [0]

        def trace(statement: str) -> None:
            seen[0] += statement.startswith("--")

        self.conn.set_trace_callback(trace)
        try:
            self.conn.execute(sql, params).fetchall()
        finally:
            self.conn.set_trace_callback(None)
        return seen[0]

    def unranked(self, expression: str) -> list[Any]:
        return self.conn.execute(_UNRANKED, (expression, TOP)).fetchall()

    def ranked(self, sql: str, params: dict[str, Any]) -> list[Any]:
        return self.conn.execute(sql, params).fetchall()

    def documents(self, rows: list[Any]) -> list[Fields]:
        """The searchable fields of hits ``(rowid, kind, session_pk, ...)``, as the API
        rebuilds them for snippets (a SELECT per kind)."""
        by_kind: dict[str, list[int]] = {}
        for row in rows:
            by_kind.setdefault(row[1], []).append(row[0] >> 2 if row[1] != "session" else row[2])
        fields: list[Fields] = []
        for kind, pks in by_kind.items():
            marks = ", ".join("?" * len(pks))
            if kind == "message":
                sql = f"SELECT content FROM messages WHERE id IN ({marks})"
                fields += [message_fields(records_of(r[0])) for r in self.conn.execute(sql, pks)]
            elif kind == "event":
                sql = f"SELECT data FROM events WHERE id IN ({marks})"
                fields += [event_fields(orjson.loads(r[0])) for r in self.conn.execute(sql, pks)]
            else:
                sql = f"SELECT title, summary FROM sessions WHERE id IN ({marks})"
                fields += [session_fields(*r) for r in self.conn.execute(sql, pks)]
        return fields

    def sizes(self) -> tuple[int, int, int, int, int]:
        """(sessions, messages, events, search documents, database bytes)."""
        row = self.conn.execute(
            "SELECT (SELECT count(*) FROM sessions), (SELECT count(*) FROM messages),"
            " (SELECT count(*) FROM events), (SELECT count(*) FROM search_docs),"
            " (SELECT page_count * page_size FROM pragma_page_count(), pragma_page_size())"
        ).fetchone()
        return int(row[0]), int(row[1]), int(row[2]), int(row[3]), int(row[4])


def ranked_sql(bound: str = "") -> str:
    """Our ranked query (what search_hits runs for a first page), with an extra bound.

    Named parameters: ``:q`` the MATCH expression, ``:kinds`` a JSON list of kinds,
    ``:n`` the limit (page size + 1).
    """
    return _RANKED.format(bound=bound)


def newest_k_sql(*, keep_sessions: bool = False) -> str:
    """The ranked query over the newest ``:k`` matches only (all of them if fewer)."""
    return ranked_sql(_NEWEST_K_AND_SESSIONS if keep_sessions else _NEWEST_K)


def _snippets(fields: list[Fields], compiled: Compiled) -> int:
    cut = [make_snippet(f, compiled.highlight, compiled.highlight_prefixes) for f in fields]
    return sum(1 for snippet in cut if snippet is not None)


async def bench_search(
    db: Path,
    plan: Plan,
    label: str = "",
    *,
    size: int = 0,
    fill: dict[str, Any] | None = None,
    diagnostics: bool = True,
) -> SearchReport:
    """Time the four queries on ``db`` (filled by :func:`search_db`)."""
    fill = fill or {}
    store = await Store.open(db, backup=False)
    untraced = await open_connection(db, readonly=True)
    raw = _Raw(db)
    api = _Api(store)
    where = SearchWhere()
    page = PageRequest(limit=TOP)

    async def store_hits(expression: str) -> Page[Any]:
        async with store.read() as reader:
            return await reader.search(expression, where, page)

    sessions, messages, events, documents, nbytes = raw.sizes()
    report = SearchReport(
        label=label, size=size or messages, sessions=sessions, messages=messages,
        events=events, documents=documents, db_mb=nbytes / 1e6,
        fill_seconds=float(fill.get("fill_seconds", 0.0)), reused=bool(fill.get("reused")),
    )  # fmt: skip
    try:
        unbounded: dict[str, tuple[list[Any], Timing | None]] = {}
        for name, query in QUERIES:
            compiled = compile_query(parse(query), DEFAULT_FIELDS)
            expression = compiled.expression
            params = {"q": expression, "kinds": _KINDS, "n": TOP + 1}
            edges = (await api.run(query))["search"]["edges"]
            hits = (await store_hits(expression)).rows
            expected = raw.ranked(ranked_sql(), params)[:TOP]
            # The API must return what the store ranked (how the bounded ranking compares
            # with the unbounded one is the bounds table's business).
            same = [edge["node"]["score"] for edge in edges] == [-h.score for h in hits][:TOP]
            breakdown = None
            if diagnostics:
                decoded = raw.documents(expected)
                breakdown = Breakdown(
                    count=measure(partial(raw.count, expression), plan),
                    unranked=measure(partial(raw.unranked, expression), plan),
                    ranked=measure(partial(raw.ranked, ranked_sql(), params), plan),
                    untraced=await measure_async(
                        partial(Reader(untraced).search, expression, where, page), plan
                    ),
                    nested=raw.nested(ranked_sql(), params),
                    fetch=measure(partial(raw.documents, expected), plan),
                    snippets=measure(partial(_snippets, decoded, compiled), plan),
                )
            unbounded[name] = (expected, breakdown.ranked if breakdown else None)
            report.cases.append(
                SearchCase(
                    name=name,
                    query=query,
                    expression=expression,
                    matches=raw.count(expression),
                    hits=raw.count_hits(expression),
                    returned=len(edges),
                    api=await measure_async(partial(api.run, query), plan),
                    store=await measure_async(partial(store_hits, expression), plan),
                    bare=measure(partial(raw.bare, expression), plan),
                    api_statements=await api.statements(query),
                    same_as_store=same,
                    breakdown=breakdown,
                )
            )
        if diagnostics:
            report.bounds = _bounds(raw, plan, unbounded)
    finally:
        raw.close()
        await untraced.close()
        await store.close()
    return report


def _bounds(
    raw: _Raw, plan: Plan, unbounded: dict[str, tuple[list[Any], Timing | None]]
) -> list[BoundCase]:
    """Variants of the ranked SQL that bound the bm25 work, on every query."""
    variants: list[tuple[str, str, int | None]] = [
        ("unbounded (every match ranked)", ranked_sql(), None),
        *(
            (
                f"newest {k:,} matches ranked" + (" (the API)" if k == RANK_WINDOW else ""),
                newest_k_sql(),
                k,
            )
            for k in BOUND_KS
        ),
        (f"newest {BOUND_KS[1]:,}, sessions kept (OR)", newest_k_sql(keep_sessions=True),
         BOUND_KS[1]),
    ]  # fmt: skip
    cases = []
    for name, sql, k in variants:
        results = {}
        for query_name, query in QUERIES:
            expression = compile_query(parse(query), DEFAULT_FIELDS).expression
            params: dict[str, Any] = {"q": expression, "kinds": _KINDS, "n": TOP + 1}
            if k is not None:
                params["k"] = k
            run: Callable[[], list[Any]] = partial(raw.ranked, sql, params)
            rows = run()[:TOP]
            best, timing = unbounded[query_name]
            if k is not None or timing is None:
                timing = measure(run, plan)
            top = {row[0] for row in best}
            results[query_name] = BoundResult(
                timing=timing,
                returned=len(rows),
                overlap=sum(1 for row in rows if row[0] in top),
            )
        cases.append(BoundCase(name, sql, k, results))
    return cases
