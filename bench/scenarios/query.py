"""In process, ``schema.execute`` with a fresh :class:`Context` per request (as the HTTP
endpoint makes one) beside a raw baseline on the same file, the two timed in alternation
(:func:`bench.core.interleaved`) after their answers were compared once.

- ``query``: the four pages and usage by day and model beside hand-written SQL + orjson
  (:mod:`bench.pages`, producing the JSON bytes a server would send), with the SQL
  statements per request from the store's counter.
- ``search``: the ``search`` field, top 20, per corpus size, beside the bare FTS5 query
  ``SELECT rowid ... MATCH ? ORDER BY rank LIMIT 20`` with the MATCH expression
  sessiongraph compiles: a common word, the rarest whole word of the index that still hits
  (read through ``fts5vocab``), a phrase and a prefix (not on encrypted databases, whose
  words are hashed).
- ``encryption``: the first size imported encrypted and plaintext (each in its own
  process); import rate, the nested page and two searches on both, answers compared.

The raw side always reads the plaintext twin; ``--encrypted`` opens the store encrypted.
"""

from __future__ import annotations

import sqlite3
from functools import partial
from typing import Any, Final

import orjson

from bench.core import Run, interleaved, ratio, yes
from bench.pages import NESTED, RawPages, pages_of, search_expression, usage_page
from bench.report import Outcome, Table
from graph.crypto import MasterKey
from graph.schema import Context, build_schema
from graph.settings import ServerSettings
from graph.store import Store
from graph.store.keyring import KeyMaterial

SEARCH: Final = """query Search($q: String!) { search(query: $q, first: 20) { edges { node {
  score snippet highlights { start end } node { __typename } session { sessionId } } } } }"""
BARE: Final = "SELECT rowid FROM search_fts WHERE search_fts MATCH ? ORDER BY rank LIMIT 20"


class SchemaClient:
    """``schema.execute`` on one store, a fresh context per request."""

    def __init__(self, store: Store) -> None:
        self.store, self.schema, self.settings = store, build_schema(), ServerSettings()

    async def run(self, query: str, variables: dict[str, Any] | None = None) -> Any:
        context = Context(store=self.store, settings=self.settings, request_id="bench")
        result = await self.schema.execute(query, variable_values=variables, context_value=context)
        if result.errors:
            raise RuntimeError(f"GraphQL errors: {[e.message for e in result.errors]}")
        return result.data

    async def statements(self, query: str, variables: dict[str, Any] | None = None) -> int:
        before = self.store.statements.count
        await self.run(query, variables)
        return self.store.statements.count - before


async def open_client(run: Run, size: int, encrypted: bool | None = None) -> SchemaClient:
    """A client on a store on the imported database of ``size`` (keyed when encrypted)."""
    encrypted = run.options.encrypted if encrypted is None else encrypted
    key = KeyMaterial(key=MasterKey.from_base64(run.key)) if encrypted and run.key else None
    return SchemaClient(
        await Store.open(await run.database(size, encrypted), backup=False, key=key)
    )


def _encrypted(run: Run) -> str:
    return " (encrypted)" if run.options.encrypted else ""


async def query(run: Run) -> Outcome:
    size = run.options.sizes[0]
    api, raw = await open_client(run, size), RawPages(await run.database(size, encrypted=False))
    table = Table(
        f"Pages in process, {run.label(size)} messages{_encrypted(run)}, ms p50 / p95",
        ["page", "schema.execute", "raw SQL + orjson", "x raw p50", "SQL stmts", "same"],
        caption="raw: hand-written SQL over the same file, answer serialized with orjson; "
        "the two alternate, so each ratio is taken under the same load.",
    )
    outcome = Outcome([table])
    try:
        for page in [*pages_of(raw.busiest_session()), usage_page()]:
            same = await api.run(page.query, page.variables) == page.raw(raw)

            async def raw_call(page: Any = page) -> bytes:
                return orjson.dumps({"data": page.raw(raw)})

            ours, theirs, x = await interleaved(
                partial(api.run, page.query, page.variables), raw_call, run.plan
            )
            statements = await api.statements(page.query, page.variables)
            table.rows.append(
                [page.name, str(ours), str(theirs), round(x, 2), statements, yes(same)]
            )
            outcome.figures |= {
                f"query.{page.key}.p50_ms": ours.p50_ms,
                f"query.{page.key}.x_raw": x,
                f"query.{page.key}.p95_over_p50": ours.p95_ms / ours.p50_ms,
                f"query.{page.key}.same": float(same),
                f"query.{page.key}.statements": float(statements),
            }
    finally:
        raw.close()
        await api.store.close()
    return outcome


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
        f"Search, top 20{_encrypted(run)}, ms p50 / p95",
        ["size", "query", "matches", "API", "bare FTS5", "x bare p50", "hits", "SQL stmts"],
        caption="matches: documents of any kind matching (bare count); hits: edges returned.",
    )
    outcome = Outcome([table])
    for size in run.options.sizes:
        conn = sqlite3.connect(f"file:{await run.database(size, False)}?mode=ro", uri=True)
        api = await open_client(run, size)
        queries = [("common", "session"), ("rare", rare_word(conn)), ("phrase", '"the session"')]
        queries += [] if run.options.encrypted else [("prefix", "migrat*")]
        try:
            for kind, text in queries:
                expression, variables = search_expression(text), {"q": text}
                count = "SELECT count(*) FROM search_fts WHERE search_fts MATCH ?"
                [(matches,)] = conn.execute(count, (expression,)).fetchall()

                async def bare(
                    expression: str = expression, conn: sqlite3.Connection = conn
                ) -> object:
                    return conn.execute(BARE, (expression,)).fetchall()

                hits = len((await api.run(SEARCH, variables))["search"]["edges"])
                ours, theirs, x = await interleaved(
                    partial(api.run, SEARCH, variables), bare, run.plan
                )
                statements = await api.statements(SEARCH, variables)
                table.rows.append(
                    [
                        run.label(size),
                        f"{kind}: {text}",
                        matches,
                        str(ours),
                        str(theirs),
                        round(x, 1),
                        hits,
                        statements,
                    ]
                )
                prefix = f"search.{run.label(size)}.{kind}"
                outcome.figures |= {f"{prefix}.p50_ms": ours.p50_ms, f"{prefix}.x_bare": x}
                if kind in ("common", "rare"):  # a phrase may miss in a tiny corpus
                    outcome.figures[f"{prefix}.hits"] = hits
        finally:
            conn.close()
            await api.store.close()
    return outcome


async def encryption(run: Run) -> Outcome:
    size = run.options.sizes[0]
    corpus, plain, sealed = (
        run.corpus(size),
        (await run.fill(size, False))[1],
        (await run.fill(size, True))[1],
    )
    import_x = ratio(plain.seconds, sealed.seconds)  # rate ratio: encrypted / plaintext
    table = Table(
        f"Encryption at rest, {run.label(size)} messages: encrypted vs plaintext",
        ["figure", "plaintext", "encrypted", "ratio", "same"],
        caption="import: MB/s of import_paths (ratio: encrypted rate / plaintext rate). "
        "Requests: schema.execute, ms p50 / p95, the two databases alternating.",
    )
    rates = [round(corpus.megabytes / fill.seconds, 1) for fill in (plain, sealed)]
    table.rows.append(
        ["import MB/s", *rates, round(import_x, 2), yes(plain.messages == sealed.messages)]
    )
    outcome = Outcome([table], {"encryption.import_ratio": import_x})
    clients = [await open_client(run, size, False), await open_client(run, size, True)]
    try:
        for key, name, query, variables in (
            ("nested", "nested page", NESTED, None),
            ("common", "search: common word", SEARCH, {"q": "session"}),
            ("phrase", "search: phrase", SEARCH, {"q": '"the session"'}),
        ):
            calls = [partial(client.run, query, variables) for client in clients]
            same = await calls[0]() == await calls[1]()
            plain_t, sealed_t, _ = await interleaved(calls[0], calls[1], run.plan)
            x = ratio(sealed_t.p50_ms, plain_t.p50_ms)
            table.rows.append([name, str(plain_t), str(sealed_t), round(x, 2), yes(same)])
            outcome.figures |= {f"encryption.{key}.ratio": x, f"encryption.{key}.same": float(same)}
    finally:
        for client in clients:
            await client.store.close()
    return outcome
