"""Every benchmark scenario runs end to end at a tiny size and reports sane figures.

No timing thresholds: only that each figure is there and positive, that every raw
baseline answered the same data as sessiongraph, that every row and every live line
arrived, and that no process the benchmark started outlives it. The scenarios run at the
same time here (``python -m bench`` runs them one by one): their figures are not read,
and most of their time is spent starting processes.
"""

from __future__ import annotations

import asyncio
import os
from dataclasses import replace
from pathlib import Path

import pytest

from bench.__main__ import SCENARIOS, parse_args, run_from
from bench.core import Plan
from bench.generate import AGENTS, generate

TINY = Plan(warmup=1, iterations=3, budget_s=0.05, minimum=2)


def _children() -> list[int]:
    """Live processes whose parent is this one."""
    found = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                fields = (entry / "stat").read_text().rpartition(")")[2].split()
            except OSError:
                continue
            if int(fields[1]) == os.getpid() and fields[0] != "Z":
                found.append(int(entry.name))
    return found


async def test_every_scenario_reports_sane_figures(tmp_path: Path) -> None:
    args = parse_args(["--quick", "--sizes", "300", "--rounds", "1", "--requests", "16"])
    run = replace(run_from(args, tmp_path), plan=TINY)
    before = set(_children())
    async with asyncio.TaskGroup() as group:  # a failure cancels the others (and their processes)
        tasks = {name: group.create_task(scenario(run)) for name, scenario in SCENARIOS.items()}
    outcomes = {name: task.result() for name, task in tasks.items()}
    figures = {k: v for outcome in outcomes.values() for k, v in outcome.figures.items()}
    for name, value in figures.items():
        assert value > 0, name
        if name.endswith((".same", ".rows_ok", ".received")):
            assert value == 1.0, name
    for key in ("mb_per_s", "lines_per_s", "messages_per_s", "x_raw", "rss_mb"):
        assert f"import.300.{key}" in figures
    for page in ("nested", "flat", "one", "search"):
        assert f"query.{page}.x_raw" in figures and f"serve.{page}.ratio" in figures
    # strawberry's own path for the flat page (the floor), answering the same data
    assert figures["query.flat_floor.same"] == 1.0 and figures["query.flat_floor.x_raw"] > 0
    # usage(groupBy: [DAY, MODEL]) beside the bare aggregate, in one statement (issue 16)
    assert figures["query.usage.same"] == 1.0 and figures["query.usage.statements"] == 1.0
    for kind in ("common", "rare", "phrase", "prefix"):
        assert f"search.300.{kind}.x_bare" in figures
    assert {"encryption.import_ratio", "encryption.nested.ratio"} <= set(figures)
    assert {"live.steady.p50_ms", "live.sparse.p50_ms"} <= set(figures)
    # A Codex corpus imported beside the Claude one (issue 21), every message stored.
    assert figures["codex.300.rows_ok"] == 1.0 and figures["codex.300.x_raw"] > 0
    assert all(outcome.rows for outcome in outcomes.values())
    assert set(_children()) <= before


@pytest.mark.parametrize("agent", AGENTS)
def test_generation_is_deterministic(tmp_path: Path, agent: str) -> None:
    first = generate(tmp_path / "a", 200, seed=3, agent=agent)
    again = generate(tmp_path / "b", 200, seed=3, agent=agent)
    files = sorted(p.relative_to(first.root) for p in first.root.rglob("*.jsonl"))
    assert files and files == sorted(p.relative_to(again.root) for p in again.root.rglob("*.jsonl"))
    assert all((first.root / f).read_bytes() == (again.root / f).read_bytes() for f in files)
    assert first.records == sum(
        len(p.read_bytes().splitlines()) for p in first.root.rglob("*.jsonl")
    )
    if agent == "claude-code":
        assert 200 <= first.messages <= 205 and 0.55 < first.events / first.records < 0.85


def test_cli_options() -> None:
    args = parse_args(["--only", "import,serve", "--encrypted", "--json", "out.json"])
    assert args.only == ["import", "serve"] and args.encrypted and args.json == Path("out.json")
    with pytest.raises(SystemExit):
        parse_args(["--only", "nope"])
