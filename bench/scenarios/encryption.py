"""``encryption``: an encrypted database beside a plaintext one, same corpus, same run.

The first corpus size is imported into both (each in its own process, see
:func:`bench.core.Run.database`); then the nested page and two searches run through
``schema.execute`` on both files in alternation, their answers compared. Figures are
encrypted over plaintext: import rate, and p50 per request.
"""

from __future__ import annotations

from functools import partial

from bench.core import Outcome, Run, Table, interleaved, ratio
from bench.pages import NESTED
from bench.scenarios.query import SchemaClient, open_store
from bench.scenarios.search import SEARCH


async def encryption(run: Run) -> Outcome:
    size = run.options.sizes[0]
    corpus = run.corpus(size)
    run.database(size, False), run.database(size, True)
    plain, sealed = run.imports[size, False][1], run.imports[size, True][1]
    import_x = ratio(plain.seconds, sealed.seconds)  # rate ratio: encrypted / plaintext
    table = Table(
        f"Encryption at rest, {run.label(size)} messages: encrypted vs plaintext",
        ["figure", "plaintext", "encrypted", "ratio", "same"],
        caption="import: MB/s of import_paths (ratio: encrypted rate / plaintext rate). "
        "Requests: schema.execute, ms p50 / p95, the two databases alternating.",
    )
    table.rows.append(
        [
            "import MB/s",
            round(corpus.megabytes / plain.seconds, 1),
            round(corpus.megabytes / sealed.seconds, 1),
            round(import_x, 2),
            "yes" if plain.messages == sealed.messages else "NO",
        ]
    )
    outcome = Outcome([table], {"encryption.import_ratio": import_x})
    stores = [await open_store(run, size, False), await open_store(run, size, True)]
    clients = [SchemaClient(store) for store in stores]
    try:
        for name, query, variables in (
            ("nested page", NESTED, None),
            ("search: common word", SEARCH, {"q": "session"}),
            ("search: phrase", SEARCH, {"q": '"the session"'}),
        ):
            same = await clients[0].run(query, variables) == await clients[1].run(query, variables)
            times = await interleaved(
                {
                    side: partial(client.run, query, variables)
                    for side, client in zip(("plain", "encrypted"), clients, strict=True)
                },
                run.plan,
            )
            x = ratio(times["encrypted"].p50_ms, times["plain"].p50_ms)
            table.rows.append(
                [
                    name,
                    str(times["plain"]),
                    str(times["encrypted"]),
                    round(x, 2),
                    "yes" if same else "NO",
                ]
            )
            key = name.split(":")[-1].strip().split()[0]
            outcome.figures[f"encryption.{key}.ratio"] = x
            outcome.figures[f"encryption.{key}.same"] = float(same)
    finally:
        for store in stores:
            await store.close()
    return outcome
