"""``search``: the ``search`` field, top 20, beside the bare FTS5 query on the same file.

Per corpus size, four queries: a common word, a rare one (the rarest whole word of the
index that still has a hit, read through ``fts5vocab``), a phrase and a prefix. API:
``schema.execute`` selecting score, snippet, highlights, node and session, fresh context.
bare: ``SELECT rowid FROM search_fts WHERE search_fts MATCH ? ORDER BY rank LIMIT 20`` on
plain ``sqlite3``, with the MATCH expression sessiongraph compiles from the query. The two
alternate. With ``--encrypted`` the API searches the encrypted database (hashed words; no
prefix query there) and bare the plaintext twin.
"""

from __future__ import annotations

import sqlite3
from functools import partial
from typing import Final

from bench.core import Outcome, Run, Table, interleaved, ratio
from bench.pages import search_expression
from bench.scenarios.query import SchemaClient, open_store

SEARCH: Final = """query Search($q: String!) { search(query: $q, first: 20) { edges { node {
  score snippet highlights { start end } node { __typename } session { sessionId } } } } }"""
BARE: Final = "SELECT rowid FROM search_fts WHERE search_fts MATCH ? ORDER BY rank LIMIT 20"


def rare_word(conn: sqlite3.Connection) -> str:
    """The rarest letters-only word of 6+ characters that still matches in the default
    fields (ties: alphabetical, so a corpus always gives the same word)."""
    conn.execute(
        "CREATE VIRTUAL TABLE IF NOT EXISTS temp.vocab USING fts5vocab(main, search_fts, row)"
    )
    for (term,) in conn.execute(
        "SELECT term FROM temp.vocab WHERE length(term) >= 6 AND term NOT GLOB '*[^a-z]*'"
        " ORDER BY doc, term LIMIT 200"
    ).fetchall():
        if conn.execute(BARE, (search_expression(term),)).fetchone():
            return str(term)
    return "zanzibar"


async def search(run: Run) -> Outcome:
    table = Table(
        "Search, top 20" + (" (encrypted)" if run.options.encrypted else "") + ", ms p50 / p95",
        ["size", "query", "matches", "API", "bare FTS5", "x bare p50", "hits", "SQL stmts"],
        caption="matches: documents of any kind matching (bare count); hits: edges returned.",
    )
    outcome = Outcome([table])
    for size in run.options.sizes:
        conn = sqlite3.connect(f"file:{run.database(size, False)}?mode=ro", uri=True)
        store = await open_store(run, size)
        api = SchemaClient(store)
        queries = [("common", "session"), ("rare", rare_word(conn)), ("phrase", '"the session"')]
        if not run.options.encrypted:
            queries.append(("prefix", "migrat*"))
        try:
            for kind, text in queries:
                expression = search_expression(text)
                [(matches,)] = conn.execute(
                    "SELECT count(*) FROM search_fts WHERE search_fts MATCH ?", (expression,)
                ).fetchall()

                async def bare(
                    expression: str = expression, conn: sqlite3.Connection = conn
                ) -> object:
                    return conn.execute(BARE, (expression,)).fetchall()

                variables = {"q": text}
                data = await api.run(SEARCH, variables)
                times = await interleaved(
                    {"api": partial(api.run, SEARCH, variables), "bare": bare}, run.plan
                )
                x = ratio(times["api"].p50_ms, times["bare"].p50_ms)
                table.rows.append(
                    [
                        run.label(size),
                        f"{kind}: {text}",
                        matches,
                        str(times["api"]),
                        str(times["bare"]),
                        round(x, 1),
                        len(data["search"]["edges"]),
                        await api.statements(SEARCH, variables),
                    ]
                )
                prefix = f"search.{run.label(size)}.{kind}"
                outcome.figures[f"{prefix}.p50_ms"] = times["api"].p50_ms
                outcome.figures[f"{prefix}.x_bare"] = x
                if kind in ("common", "rare"):  # a phrase may miss in a tiny corpus
                    outcome.figures[f"{prefix}.hits"] = len(data["search"]["edges"])
        finally:
            conn.close()
            await store.close()
    return outcome
