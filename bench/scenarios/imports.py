"""``import`` and ``codex``: ``import_paths`` of each corpus size, in a worker process on a
fresh database per fill (:mod:`bench.worker`), so each has its own peak RSS and a cold start.

``import`` sets it beside a raw ``executemany`` floor, which inserts the same final rows
(sessions, conversations, messages, events) without a search index; x raw is the importer's
seconds over the floor's. The importer's fill is the database the other scenarios query.
``codex`` imports a generated Codex CLI corpus of the same size beside the Claude one.
"""

from __future__ import annotations

from bench.core import Ingest, Run, ratio, remove_db, yes
from bench.generate import Corpus
from bench.report import Cell, Outcome, Table

_TITLE = "Import{} (fresh database per fill, one process each)"
_RATES = ["seconds", "MB/s", "lines/s", "messages/s"]


def _row(run: Run, size: int, corpus: Corpus, name: str, fill: Ingest) -> list[Cell]:
    """The corpus, ``name`` and the :data:`_RATES` of ``fill`` reading ``corpus``."""
    label, s = f"{run.label(size)} ({corpus.megabytes:.0f} MB)", fill.seconds
    rates = [round(s, 2), round(corpus.megabytes / s, 1), round(corpus.records / s)]
    return [label, name, *rates, round(fill.messages / s)]


def _ok(corpus: Corpus, fill: Ingest) -> str:
    return yes(fill.messages == corpus.messages, f"NO ({fill.messages})")


async def imports(run: Run) -> Outcome:
    table = Table(
        _TITLE.format(run.tag),
        ["corpus", "fill", *_RATES, "x raw", "rows ok", "DB MB", "peak RSS MB"],
        caption="lines: JSONL records. Peak RSS: the importing process + its reading worker "
        "(started for imports of 16 MB or more).",
    )
    outcome = Outcome([table])
    for size in run.options.sizes:
        corpus = run.corpus(size)
        db, imported = await run.fill(size)
        floor = await run.worker("raw", db, run.workdir / "raw-floor.db")
        remove_db(run.workdir / "raw-floor.db")
        x = ratio(imported.seconds, floor.seconds)
        for name, fill, x_cell in (("import_paths", imported, x), ("raw executemany", floor, 1.0)):
            child = f" + {fill.child_rss_mb:.0f}" if fill.child_rss_mb else ""
            cells = [*_row(run, size, corpus, name, fill), round(x_cell, 2), _ok(corpus, fill)]
            table.rows.append([*cells, round(fill.db_mb), f"{fill.peak_rss_mb:.0f}{child}"])
        prefix, s = f"import.{run.label(size)}", imported.seconds
        outcome.figures |= {
            f"{prefix}.mb_per_s": corpus.megabytes / s,
            f"{prefix}.lines_per_s": corpus.records / s,
            f"{prefix}.messages_per_s": imported.messages / s,
            f"{prefix}.x_raw": x,
            f"{prefix}.rss_mb": imported.peak_rss_mb + imported.child_rss_mb,
            f"{prefix}.rows_ok": float(imported.messages == floor.messages == corpus.messages),
        }
    return outcome


async def codex(run: Run) -> Outcome:
    table = Table(
        _TITLE.format(" by agent"),
        ["corpus", "agent", *_RATES, "rows ok"],
        caption="Codex: generated cli 0.146 rollouts (turns of prompt, reasoning, shell "
        "calls and outputs, answer, repeated token_count).",
    )
    outcome = Outcome([table])
    for size in run.options.sizes:
        claude, claude_fill = run.corpus(size), (await run.fill(size))[1]
        corpus, db = run.corpus(size, "codex"), run.workdir / f"codex-{size}.db"
        fill = await run.worker("import", corpus.root, db, encrypted=run.options.encrypted)
        for agent, source, ingest in (
            ("claude-code", claude, claude_fill),
            ("codex", corpus, fill),
        ):
            table.rows.append([*_row(run, size, source, agent, ingest), _ok(source, ingest)])
        rate, prefix = corpus.megabytes / fill.seconds, f"codex.{run.label(size)}"
        outcome.figures |= {
            f"{prefix}.mb_per_s": rate,
            f"{prefix}.x_claude": ratio(rate, claude.megabytes / claude_fill.seconds),
            f"{prefix}.rows_ok": float(fill.messages == corpus.messages),
        }
    return outcome
