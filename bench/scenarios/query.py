"""``query``: the four pages, and usage by day and model, through ``schema.execute`` beside
raw SQL + orjson, in process.

Both sides answer from the same file (the raw side from the plaintext twin with
``--encrypted``); a fresh :class:`Context` per request, as the HTTP endpoint makes one.
The answers are compared once (``same``); the two sides are timed in alternation, the raw
side producing the JSON bytes a server would send. SQL statements per request come from
the store's counter.
"""

from __future__ import annotations

from functools import partial
from typing import Any

import orjson

from bench.core import Outcome, Run, Table, interleaved, ratio
from bench.pages import RawPages, pages_of, usage_page
from graph.crypto import MasterKey
from graph.schema import Context, build_schema
from graph.settings import ServerSettings
from graph.store import Store
from graph.store.keyring import KeyMaterial


class SchemaClient:
    """``schema.execute`` on one store, a fresh context per request."""

    def __init__(self, store: Store) -> None:
        self.store = store
        self.schema = build_schema()
        self.settings = ServerSettings()

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


async def open_store(run: Run, size: int, encrypted: bool | None = None) -> Store:
    """A store on the imported database of ``size`` (keyed when encrypted)."""
    encrypted = run.options.encrypted if encrypted is None else encrypted
    db = run.database(size, encrypted)
    key = KeyMaterial(key=MasterKey.from_base64(run.key)) if encrypted and run.key else None
    return await Store.open(db, backup=False, key=key)


async def query(run: Run) -> Outcome:
    size = run.options.sizes[0]
    store = await open_store(run, size)
    raw = RawPages(run.database(size, encrypted=False))
    api = SchemaClient(store)
    table = Table(
        f"Pages in process, {run.label(size)} messages"
        + (" (encrypted)" if run.options.encrypted else "")
        + ", ms p50 / p95",
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

            times = await interleaved(
                {"api": partial(api.run, page.query, page.variables), "raw": raw_call}, run.plan
            )
            x = ratio(times["api"].p50_ms, times["raw"].p50_ms)
            statements = await api.statements(page.query, page.variables)
            table.rows.append(
                [
                    page.name,
                    str(times["api"]),
                    str(times["raw"]),
                    round(x, 2),
                    statements,
                    "yes" if same else "NO",
                ]
            )
            key = page.name.split(":")[0].split()[0]
            outcome.figures[f"query.{key}.p50_ms"] = times["api"].p50_ms
            outcome.figures[f"query.{key}.x_raw"] = x
            outcome.figures[f"query.{key}.p95_over_p50"] = times["api"].p95_ms / times["api"].p50_ms
            outcome.figures[f"query.{key}.same"] = float(same)
            outcome.figures[f"query.{key}.statements"] = float(statements)
    finally:
        raw.close()
        await store.close()
    return outcome
