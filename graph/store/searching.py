"""Full-text search queries over ``search_fts`` / ``search_docs`` (see migration 0002).

The MATCH expression comes from :mod:`graph.search.fts`, built from quoted tokens only;
everything else here is a bound parameter.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Final

from graph.store.filters import Where, json_list
from graph.store.pages import PageRequest, keyset

if TYPE_CHECKING:
    pass

__all__ = [
    "BM25_WEIGHTS",
    "RANK_WINDOW",
    "SESSION_DOCS",
    "HitRow",
    "SearchWhere",
    "count_sql",
    "search_sql",
]

# bm25 weight per FTS column, in table order: what a person wrote or read counts most,
# the bulk of tool output least.
BM25_WEIGHTS: Final = {
    "text": 10.0,
    "thinking": 4.0,
    "tool_input": 3.0,
    "tool_output": 1.0,
    "title": 12.0,
    "event": 1.5,
}
# Session documents are numbered from here (messages and events: pk * 4 + kind), so they
# are the newest documents of all and always inside the ranking window.
SESSION_DOCS: Final = 1 << 50
RANK_WINDOW: Final = 1_000  # newest matching documents a query ranks (see search_sql)
_BM25: Final = "bm25(search_fts, " + ", ".join(map(str, BM25_WEIGHTS.values())) + ")"


@dataclass(frozen=True, slots=True)
class SearchWhere:
    """Which documents may match: kinds, and every filter that is set."""

    kinds: tuple[str, ...] = ("message", "session")
    project: str | None = None
    source: str | None = None
    session_pk: int | None = None
    role: str | None = None
    model: str | None = None
    since: str | None = None
    until: str | None = None

    @property
    def kinds_only(self) -> bool:
        """No filter but the kinds, which a document's rowid tells (see ``doc_rowid``)."""
        return all(
            value is None
            for value in (
                self.project,
                self.source,
                self.session_pk,
                self.role,
                self.model,
                self.since,
                self.until,
            )
        )

    def rowid_kinds(self) -> str:
        """The kinds filter as arithmetic on ``search_fts.rowid`` (no join needed)."""
        tests = {
            "message": f"(search_fts.rowid < {SESSION_DOCS} AND (search_fts.rowid & 3) = 0)",
            "event": f"(search_fts.rowid < {SESSION_DOCS} AND (search_fts.rowid & 3) = 1)",
            "session": f"search_fts.rowid >= {SESSION_DOCS}",
        }
        chosen = [tests[kind] for kind in dict.fromkeys(self.kinds) if kind in tests]
        return "(" + " OR ".join(chosen) + ")" if chosen else "0"

    def where(self) -> Where:
        clauses = ["d.kind IN (SELECT value FROM json_each(?))"]
        params: list[Any] = [json_list(self.kinds)]
        for column, value in (
            ("d.session_pk", self.session_pk),
            ("d.role", self.role),
            ("d.model", self.model),
        ):
            if value is not None:
                clauses.append(f"{column} = ?")
                params.append(value)
        if self.since is not None:
            clauses.append("d.timestamp >= ?")
            params.append(self.since)
        if self.until is not None:
            clauses.append("d.timestamp < ?")
            params.append(self.until)
        if self.project is not None:
            clauses.append("d.session_pk IN (SELECT id FROM sessions WHERE project = ?)")
            params.append(self.project)
        if self.source is not None:
            clauses.append("d.session_pk IN (SELECT id FROM sessions WHERE source = ?)")
            params.append(self.source)
        return " AND ".join(clauses), params


@dataclass(frozen=True, slots=True)
class HitRow:
    """One matching document; ``score`` is bm25 (lower is better, as SQLite has it)."""

    rowid: int
    kind: str
    session_pk: int
    score: float

    @property
    def pk(self) -> int:
        """The pk of the message, event or session (see ``graph.store.indexing.doc_rowid``)."""
        return self.rowid - SESSION_DOCS if self.kind == "session" else self.rowid >> 2


def search_sql(
    expression: str, where: SearchWhere, request: PageRequest, window: int = RANK_WINDOW
) -> tuple[str, list[Any]]:
    """One page of hits (limit + 1 rows), best first, ties broken by document id.

    bm25 is computed for every candidate, which is what a common word makes expensive
    (FTS5 looks each one's size up). So only the newest ``window`` matching documents
    (that pass the filters) are ranked: their floor is found by walking the matches in
    rowid order, which needs no bm25, and FTS5 then ranks above it. A query with fewer
    matches is ranked exactly. Session documents have the highest rowids, so a title
    always competes.
    """
    if where.kinds_only:
        return _kinds_only_sql(expression, where, request, window)
    filter_sql, filter_params = where.where()
    page_sql, page_params, order = keyset(["score", "d.rowid"], False, request)
    floor = (
        "coalesce((SELECT d.rowid FROM search_fts JOIN search_docs AS d"
        " ON d.rowid = search_fts.rowid"
        f" WHERE search_fts MATCH ? AND {filter_sql}"
        " ORDER BY search_fts.rowid DESC LIMIT 1 OFFSET ?), 0)"
    )
    return (
        f"SELECT d.rowid, d.kind, d.session_pk, {_BM25} AS score"
        " FROM search_fts JOIN search_docs AS d ON d.rowid = search_fts.rowid"
        f" WHERE search_fts MATCH ? AND search_fts.rowid >= {floor}"
        f" AND {filter_sql} AND {page_sql} ORDER BY {order} LIMIT ?",
        [
            expression,
            expression,
            *filter_params,
            window - 1,
            *filter_params,
            *page_params,
            request.limit + 1,
        ],
    )


def _kinds_only_sql(
    expression: str, where: SearchWhere, request: PageRequest, window: int
) -> tuple[str, list[Any]]:
    """:func:`search_sql` when only kinds are filtered, the common case: the kinds are
    read off the rowids, so the window's floor and the ranking touch ``search_docs``
    only for the page's own rows (not for each of the ``window`` candidates)."""
    kinds = where.rowid_kinds()
    page_sql, page_params, order = keyset(["score", "search_fts.rowid"], False, request)
    _, _, outer = keyset(["h.score", "h.rowid"], False, request)
    floor = (
        "coalesce((SELECT search_fts.rowid FROM search_fts"
        f" WHERE search_fts MATCH ? AND {kinds}"
        " ORDER BY search_fts.rowid DESC LIMIT 1 OFFSET ?), 0)"
    )
    return (
        "SELECT h.rowid, d.kind, d.session_pk, h.score FROM ("
        f"SELECT search_fts.rowid AS rowid, {_BM25} AS score FROM search_fts"
        f" WHERE search_fts MATCH ? AND search_fts.rowid >= {floor}"
        f" AND {kinds} AND {page_sql} ORDER BY {order} LIMIT ?"
        f") AS h JOIN search_docs AS d ON d.rowid = h.rowid ORDER BY {outer}",
        [expression, expression, window - 1, *page_params, request.limit + 1],
    )


def count_sql(expression: str, where: SearchWhere) -> tuple[str, list[Any]]:
    """How many documents match (no ranking: counting needs no bm25)."""
    filter_sql, filter_params = where.where()
    return (
        "SELECT count(*) FROM search_fts JOIN search_docs AS d ON d.rowid = search_fts.rowid"
        f" WHERE search_fts MATCH ? AND {filter_sql}",
        [expression, *filter_params],
    )
