"""``python -m bench`` (``make bench``): every scenario, or ``--only`` some, and one report:
each scenario's table as it ends, every figure at the end, with ``--json`` a JSON document."""

from __future__ import annotations

import argparse
import asyncio
import platform
import tempfile
from collections.abc import Callable, Coroutine
from functools import partial
from pathlib import Path
from typing import Any, Final

import orjson
from rich.console import Console
from rich.table import Table

from bench.core import Cell, Outcome, Plan, Run
from bench.scenarios.imports import imports
from bench.scenarios.live import live
from bench.scenarios.query import encryption, query, search
from bench.scenarios.serve import serve

# Run in this order: ``import`` first, so that its figures are of each corpus's first import.
SCENARIOS: Final[dict[str, Callable[[Run], Coroutine[Any, Any, Outcome]]]] = {
    "import": imports,
    "query": query,
    "search": search,
    "serve": serve,
    "encryption": encryption,
    "live": live,
    "codex": partial(imports, agent="codex"),
}


def _sizes(text: str) -> tuple[int, ...]:
    return tuple(map(int, text.split(",")))  # a ValueError names the option


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="python -m bench",
        description="Benchmark sessiongraph on generated transcripts, each figure beside its raw "
        "baseline (executemany, SQL + orjson, bare FTS5, a raw endpoint, plaintext).",
    )
    add, names = parser.add_argument, ", ".join(SCENARIOS)
    add("--quick", action="store_true", help="1k and 4k messages, few iterations (a minute)")
    add("--only", type=lambda text: text.split(","), metavar="NAME[,NAME]", help=names)
    add("--encrypted", action="store_true", help="encrypted databases")
    sizes = "corpus sizes in messages, ~5.9 KB each (default 10000,100000)"
    add("--sizes", type=_sizes, metavar="N[,N]", help=sizes)
    add("--rounds", type=int, help="serve: rounds (default 5, --quick 2)")
    requests = "serve: requests per page, server and round (default 400, --quick 60); live: lines"
    add("--requests", type=int, help=requests + " (at most 300)")
    add("--keep", type=Path, metavar="DIR", help="work in DIR and keep it (default: a temp dir)")
    add("--seed", type=int, default=7, help="generator seed (default 7)")
    add("--json", type=Path, metavar="PATH", help="also write figures as JSON")
    args = parser.parse_args(argv)
    if unknown := set(args.only or ()) - SCENARIOS.keys():
        parser.error(f"unknown scenario {', '.join(sorted(unknown))}; one of {names}")
    if args.sizes and min(args.sizes) < 50:
        parser.error("sizes are message counts of at least 50")
    return args


def run_from(args: argparse.Namespace, workdir: Path) -> Run:
    """The run the command line asks for, working in ``workdir``."""
    quick = bool(args.quick)
    sizes = args.sizes or ((1_000, 4_000) if quick else (10_000, 100_000))
    plan = Plan(warmup=2, iterations=30, budget_s=0.3, minimum=5) if quick else Plan()
    rounds, requests = args.rounds or (2 if quick else 5), args.requests or (60 if quick else 400)
    return Run(workdir, sizes, plan, args.encrypted, args.seed, rounds, requests)


def _cell(value: Cell) -> str:
    if value is None or isinstance(value, str):
        return value or ""
    if isinstance(value, bool):
        return "yes" if value else "[red]NO[/red]"
    if isinstance(value, float):
        return f"{value:,.2f}" if abs(value) < 100 else f"{value:,.0f}"
    return f"{value:,}"


def print_table(out: Console, outcome: Outcome) -> None:
    table = Table(title=outcome.title, caption=outcome.caption or None)
    for index, name in enumerate(outcome.columns):
        table.add_column(name, justify="left" if index == 0 else "right")
    for row in outcome.rows:
        table.add_row(*map(_cell, row))
    out.print(table)


async def run_scenarios(run: Run, names: list[str], out: Console) -> dict[str, Outcome]:
    """Run ``names`` in table order, one at a time (a figure is not to share the machine)."""
    outcomes: dict[str, Outcome] = {}
    for name in (n for n in SCENARIOS if n in names):
        with out.status(f"{name}..."):
            outcomes[name] = await SCENARIOS[name](run)
        print_table(out, outcomes[name])
    return outcomes


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    out = Console()
    if not out.is_terminal:  # piped: not squeezed to 80 columns
        out = Console(width=160)
    with tempfile.TemporaryDirectory(prefix="sg-bench-", ignore_cleanup_errors=True) as temp:
        run = run_from(args, (args.keep or Path(temp)).resolve())
        run.workdir.mkdir(parents=True, exist_ok=True)
        out.print(f"working in {run.workdir}" + ("" if args.keep else " (removed at the end)"))
        outcomes = asyncio.run(run_scenarios(run, args.only or list(SCENARIOS), out))
    figures: list[list[Cell]] = [[k, v] for o in outcomes.values() for k, v in o.figures.items()]
    print_table(out, Outcome("Figures of this run", ["figure", "value"], rows=figures))
    if args.json:
        context = dict(sizes=run.sizes, quick=args.quick, encrypted=run.encrypted)
        document = context | {"machine": platform.platform(), "scenarios": outcomes}
        args.json.write_bytes(orjson.dumps(document, option=orjson.OPT_INDENT_2))
        out.print(f"figures written to {args.json}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
