"""``import``: ``import_paths`` on each corpus size, beside a raw ``executemany`` floor.

Both fills run in their own process on a fresh database (:mod:`bench.worker`), so each
has its own peak RSS and a cold start. The importer's fill is the database the other
scenarios then query. x raw: the importer's seconds over the raw floor's, which inserts
the same final rows (sessions, conversations, messages, events) without a search index.
"""

from __future__ import annotations

from bench.core import Outcome, Run, Table, ratio


async def imports(run: Run) -> Outcome:
    table = Table(
        "Import (fresh database per fill, one process each)"
        + (", encrypted" if run.options.encrypted else ""),
        [
            "corpus",
            "fill",
            "seconds",
            "MB/s",
            "lines/s",
            "messages/s",
            "x raw",
            "rows ok",
            "DB MB",
            "peak RSS MB",
        ],
        caption="lines: JSONL records. Peak RSS: the importing process + its reading worker "
        "(started for imports of 16 MB or more).",
    )
    outcome = Outcome([table])
    for size in run.options.sizes:
        corpus = run.corpus(size)
        db = run.database(size)
        imported = run.imports[size, run.options.encrypted][1]
        floor = run.worker("raw", db, run.workdir / "raw-floor.db")
        label = f"{run.label(size)} ({corpus.megabytes:.0f} MB)"
        x = ratio(imported.seconds, floor.seconds)
        for name, fill in (("import_paths", imported), ("raw executemany", floor)):
            mb_s = corpus.bytes / 1e6 / fill.seconds
            rss = f"{fill.peak_rss_mb:.0f}" + (
                f" + {fill.child_rss_mb:.0f}" if fill.child_rss_mb else ""
            )
            table.rows.append(
                [
                    label,
                    name,
                    round(fill.seconds, 2),
                    round(mb_s, 1),
                    round(corpus.records / fill.seconds),
                    round(fill.messages / fill.seconds),
                    round(x, 2) if fill is imported else 1.0,
                    "yes" if fill.messages == corpus.messages else f"NO ({fill.messages})",
                    round(fill.db_mb),
                    rss,
                ]
            )
        prefix = f"import.{run.label(size)}"
        outcome.figures |= {
            f"{prefix}.mb_per_s": corpus.bytes / 1e6 / imported.seconds,
            f"{prefix}.lines_per_s": corpus.records / imported.seconds,
            f"{prefix}.messages_per_s": imported.messages / imported.seconds,
            f"{prefix}.x_raw": x,
            f"{prefix}.rss_mb": imported.peak_rss_mb + imported.child_rss_mb,
            f"{prefix}.rows_ok": float(imported.messages == floor.messages == corpus.messages),
        }
        for suffix in ("", "-wal", "-shm"):
            (run.workdir / f"raw-floor.db{suffix}").unlink(missing_ok=True)
    return outcome
