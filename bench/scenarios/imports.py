"""``import`` (Claude Code) and ``codex`` (Codex CLI): ``import_paths`` of each corpus, in a
process of its own on a fresh database, beside an ``executemany`` floor inserting the same
rows without a search index (:mod:`bench.worker`). The others query the Claude Code fills."""

from __future__ import annotations

from bench.core import Ingest, Outcome, Run, remove_db
from bench.corpus import Corpus

_COLUMNS = ["corpus", "fill", "seconds", "MB/s", "lines/s", "messages/s", "x raw", "rows ok"]
_CAPTION = "lines: JSONL records. Peak RSS: the import + its reading worker (from 16 MB on)."
_CODEX = " Codex: cli 0.146 rollouts (prompt, reasoning, shell calls, answer, token counts)."


def _rates(corpus: Corpus, fill: Ingest) -> dict[str, float]:
    return {
        "mb_per_s": corpus.megabytes / fill.seconds,
        "lines_per_s": corpus.records / fill.seconds,
        "messages_per_s": fill.messages / fill.seconds,
    }


async def imports(run: Run, agent: str = "claude-code") -> Outcome:
    outcome = Outcome(
        f"Import, {agent}{run.tag} (fresh database per fill, one process each)",
        [*_COLUMNS, "DB MB", "peak RSS MB"],
        caption=_CAPTION + (_CODEX if agent == "codex" else ""),
    )
    for size in run.sizes:
        corpus, (db, imported) = run.corpus(size, agent), await run.fill(size, agent=agent)
        floor_db = run.workdir / f"raw-{agent}-{size}.db"
        floor = await run.worker("raw", db, floor_db)
        remove_db(floor_db)
        label = f"{run.label(size)} ({corpus.megabytes:.0f} MB)"
        for name, fill in (("import_paths", imported), ("raw executemany", floor)):
            rates, x = _rates(corpus, fill).values(), fill.seconds / floor.seconds
            ok = fill.messages == corpus.messages
            rss = f"{fill.peak_rss_mb:.0f}"
            rss += f" + {fill.child_rss_mb:.0f}" if fill.child_rss_mb else ""
            outcome.rows.append([label, name, fill.seconds, *rates, x, ok, round(fill.db_mb), rss])
        prefix = f"{'codex' if agent == 'codex' else 'import'}.{run.label(size)}"
        rows_ok = imported.messages == floor.messages == corpus.messages
        outcome.add(prefix, **_rates(corpus, imported), x_raw=imported.seconds / floor.seconds)
        outcome.add(prefix, rss_mb=imported.peak_rss_mb + imported.child_rss_mb, rows_ok=rows_ok)
    return outcome
