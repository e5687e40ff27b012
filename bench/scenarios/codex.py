"""``codex``: ``import_paths`` of a generated Codex CLI corpus beside the Claude Code one.

Same sizes (in stored messages), same worker process and fresh database per fill as
``import`` (:mod:`bench.scenarios.imports`); the Claude Code fill is the one ``import``
made, when it ran first.
"""

from __future__ import annotations

from bench.core import Outcome, Run, Table, ratio
from bench.generate_codex import generate_codex


async def codex(run: Run) -> Outcome:
    table = Table(
        "Import by agent (fresh database per fill, one process each)",
        ["corpus", "agent", "seconds", "MB/s", "lines/s", "messages/s", "rows ok"],
        caption="Codex: generated cli 0.146 rollouts (turns of prompt, reasoning, shell "
        "calls and outputs, answer, repeated token_count).",
    )
    outcome = Outcome([table])
    for size in run.options.sizes:
        claude = run.corpus(size)
        run.database(size)
        claude_fill = run.imports[size, run.options.encrypted][1]
        corpus = generate_codex(run.workdir / f"codex-{size}", size, seed=run.options.seed)
        db = run.workdir / f"codex-{size}.db"
        fill = run.worker("import", corpus.root, db, encrypted=run.options.encrypted)
        for agent, source, ingest in (
            ("claude-code", claude, claude_fill),
            ("codex", corpus, fill),
        ):
            table.rows.append(
                [
                    f"{run.label(size)} ({source.megabytes:.0f} MB)",
                    agent,
                    round(ingest.seconds, 2),
                    round(source.megabytes / ingest.seconds, 1),
                    round(source.records / ingest.seconds),
                    round(ingest.messages / ingest.seconds),
                    "yes" if ingest.messages == source.messages else f"NO ({ingest.messages})",
                ]
            )
        prefix = f"codex.{run.label(size)}"
        outcome.figures |= {
            f"{prefix}.mb_per_s": corpus.megabytes / fill.seconds,
            f"{prefix}.x_claude": ratio(
                corpus.megabytes / fill.seconds, claude.megabytes / claude_fill.seconds
            ),
            f"{prefix}.rows_ok": float(fill.messages == corpus.messages),
        }
    return outcome
