"""In process, ``schema.execute`` with a fresh :class:`Context` per request (as the HTTP
endpoint makes one), timed in alternation with a baseline: ``query``, the pages and usage
beside hand-written SQL + orjson (:mod:`bench.pages`); ``search``, beside the bare FTS5
query sessiongraph compiles; ``encryption``, encrypted beside plaintext."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager, closing
from functools import partial
from typing import Any, Final

from bench.core import Outcome, Run, interleaved
from bench.floor import FloorSchema
from bench.pages import FLAT, NESTED, USAGE_PAGE, RawPages, search_expression
from graph.crypto import MasterKey
from graph.schema import Context, build_schema
from graph.settings import ServerSettings
from graph.store import Store
from graph.store.keyring import KeyMaterial

SEARCH: Final = """query Search($q: String!) { search(query: $q, first: 20) { edges { node {
  score snippet highlights { start end } node { __typename } session { sessionId } } } } }"""
BARE: Final = "SELECT rowid FROM search_fts WHERE search_fts MATCH ? ORDER BY rank LIMIT 20"
COUNT: Final = "SELECT count(*) FROM search_fts WHERE search_fts MATCH ?"


class Client:
    """``schema.execute`` on one store, a fresh context per request; ``statements``: the
    SQL statements of the last request."""

    def __init__(self, store: Store) -> None:
        self.store, self.schema, self.settings = store, build_schema(), ServerSettings()
        self.statements = 0

    async def run(self, query: str, variables: dict[str, Any] | None = None) -> Any:
        context = Context(store=self.store, settings=self.settings, request_id="bench")
        before = self.store.statements.count
        result = await self.schema.execute(query, variable_values=variables, context_value=context)
        self.statements = self.store.statements.count - before
        if result.errors:
            raise RuntimeError(f"GraphQL errors: {[e.message for e in result.errors]}")
        return result.data


@asynccontextmanager
async def client(run: Run, size: int, encrypted: bool | None = None) -> AsyncIterator[Client]:
    """A client on the imported database of ``size`` (keyed when encrypted), closed after."""
    encrypted = run.encrypted if encrypted is None else encrypted
    key = KeyMaterial(key=MasterKey.from_base64(run.key)) if encrypted else None
    store = await Store.open(await run.database(size, encrypted), backup=False, key=key)
    try:
        yield Client(store)
    finally:
        await store.close()


async def query(run: Run) -> Outcome:
    size = run.sizes[0]
    outcome = Outcome(
        f"Pages in process, {run.label(size)} messages{run.tag}, ms p50 / p95",
        ["page", "schema.execute", "raw SQL + orjson", "x raw p50", "SQL stmts", "same"],
        caption="raw: hand-written SQL over the same file, orjson; the two timed in turns. "
        "floor: a minimal strawberry schema of the flat page's fields, objects built from "
        "the raw rows, strawberry's schema.execute (bench/floor.py).",
    )
    with closing(RawPages(await run.database(size, False))) as raw:
        async with client(run, size) as api:
            for page in [*raw.pages(), USAGE_PAGE]:
                ask = partial(api.run, page.query, page.variables)
                same = await ask() == raw.answer(page.query, page.variables)
                raw_json = partial(raw.response, page.query, page.variables)
                ours, theirs, x = await interleaved(ask, raw_json, run.plan)
                statements = api.statements  # of the last request interleaved timed
                outcome.rows.append([page.name, str(ours), str(theirs), x, statements, same])
                prefix = f"query.{page.key}"
                outcome.add(prefix, p50_ms=ours.p50_ms, p95_over_p50=ours.tail, x_raw=x, same=same)
                outcome.add(prefix, statements=statements)
            # strawberry's own path for the flat page, timed against the same raw side.
            floor = FloorSchema(raw).flat
            same = await floor() == raw.answer(FLAT, {})
            ours, theirs, x = await interleaved(floor, partial(raw.response, FLAT, {}), run.plan)
            name = "flat: strawberry's own (floor)"
            outcome.rows.append([name, str(ours), str(theirs), x, 1, same])
            outcome.add("query.flat_floor", p50_ms=ours.p50_ms, x_raw=x, same=same)
    return outcome


def rare_word(raw: RawPages) -> str:
    """The rarest word of 6+ letters that matches in the default fields (ties: alphabetical)."""
    raw.rows("CREATE VIRTUAL TABLE IF NOT EXISTS temp.vocab USING fts5vocab(main, search_fts, row)")
    for (term,) in raw.rows(
        "SELECT term FROM temp.vocab WHERE length(term) >= 6 AND term NOT GLOB '*[^a-z]*'"
        " ORDER BY doc, term LIMIT 200"
    ):
        if raw.rows(BARE, search_expression(term)):
            return str(term)
    return "zanzibar"


async def search(run: Run) -> Outcome:
    outcome = Outcome(
        f"Search, top 20{run.tag}, ms p50 / p95",
        ["size", "query", "matches", "API", "bare FTS5", "x bare p50", "hits", "SQL stmts"],
        caption="matches: documents of any kind matching (bare count); hits: edges returned.",
    )
    for size in run.sizes:
        with closing(RawPages(await run.database(size, False))) as raw:
            async with client(run, size) as api:
                queries = {"common": "session", "rare": rare_word(raw), "phrase": '"the session"'}
                if not run.encrypted:  # words are hashed there
                    queries["prefix"] = "migrat*"
                for kind, text in queries.items():
                    expression, ask = search_expression(text), partial(api.run, SEARCH, {"q": text})
                    [(matches,)] = raw.rows(COUNT, expression)
                    hits = len((await ask())["search"]["edges"])
                    bare = partial(raw.rows, BARE, expression)
                    ours, theirs, x = await interleaved(ask, bare, run.plan)
                    row = [run.label(size), f"{kind}: {text}", matches, str(ours), str(theirs), x]
                    outcome.rows.append([*row, hits, api.statements])
                    prefix = f"search.{run.label(size)}.{kind}"
                    outcome.add(prefix, p50_ms=ours.p50_ms, x_bare=x)
                    if kind in ("common", "rare"):  # a phrase may miss in a tiny corpus
                        outcome.add(prefix, hits=hits)
    return outcome


async def encryption(run: Run) -> Outcome:
    size, corpus = run.sizes[0], run.corpus(run.sizes[0])
    plain, sealed = (await run.fill(size, False))[1], (await run.fill(size, True))[1]
    import_x = plain.seconds / sealed.seconds  # rate ratio: encrypted / plaintext
    outcome = Outcome(
        f"Encryption at rest, {run.label(size)} messages: encrypted vs plaintext",
        ["figure", "plaintext", "encrypted", "ratio", "same"],
        caption="import: MB/s (ratio: encrypted / plaintext); requests: ms p50 / p95, in turns.",
    )
    rates = [corpus.megabytes / fill.seconds for fill in (plain, sealed)]
    outcome.rows.append(["import MB/s", *rates, import_x, plain.messages == sealed.messages])
    outcome.add("encryption", import_ratio=import_x)
    async with client(run, size, False) as plain_api, client(run, size, True) as sealed_api:
        for key, name, query, variables in (
            ("nested", "nested page", NESTED, None),
            ("common", "search: common word", SEARCH, {"q": "session"}),
            ("phrase", "search: phrase", SEARCH, {"q": '"the session"'}),
        ):
            ask = [partial(api.run, query, variables) for api in (sealed_api, plain_api)]
            same = await ask[0]() == await ask[1]()
            sealed_t, plain_t, x = await interleaved(ask[0], ask[1], run.plan)
            outcome.rows.append([name, str(plain_t), str(sealed_t), x, same])
            outcome.add(f"encryption.{key}", ratio=x, same=same)
    return outcome
