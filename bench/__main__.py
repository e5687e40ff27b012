"""``python -m bench``: import and query benchmarks on generated Claude Code transcripts.

python -m bench                      # full run: 10k and 100k messages (~60 / ~590 MB)
python -m bench --quick              # tiny corpora, few iterations (seconds)
python -m bench --only queries       # skip the import baselines
python -m bench --messages 50000 --keep .bench --json .bench/figures.json
"""

from __future__ import annotations

import argparse
import asyncio
from pathlib import Path

from bench.run import Options, run
from bench.timing import Plan

FULL_SIZES = [10_000, 100_000]
QUICK_SIZES = [1_000, 4_000]
FULL_PLAN = Plan(warmup=5, iterations=300, budget_s=2.0, minimum=20)
QUICK_PLAN = Plan(warmup=2, iterations=30, budget_s=0.3, minimum=5)


def _sizes(text: str) -> list[int]:
    try:
        sizes = [int(part.replace("_", "")) for part in text.split(",") if part.strip()]
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a list of numbers: {text!r}") from None
    if not sizes or min(sizes) < 50:
        raise argparse.ArgumentTypeError("sizes are message counts of at least 50")
    return sizes


def parse_args(argv: list[str] | None = None) -> Options:
    parser = argparse.ArgumentParser(
        prog="python -m bench",
        description="Benchmark sessiongraph against raw sqlite3 on generated Claude Code "
        "transcripts: import throughput and memory (issue 3), GraphQL query latency and "
        "SQL statements per request (issue 2). Figures only; nothing is asserted.",
    )
    parser.add_argument(
        "--messages", type=_sizes, metavar="N[,N...]",
        help=f"corpus sizes in API messages (default {','.join(map(str, FULL_SIZES))}; "
        f"about 5.9 KB of JSONL per message)",
    )  # fmt: skip
    parser.add_argument(
        "--quick", action="store_true",
        help=f"tiny run: sizes {','.join(map(str, QUICK_SIZES))} unless --messages, few "
        "iterations, no diagnostic fills",
    )  # fmt: skip
    parser.add_argument("--only", choices=("queries", "import"), help="run one benchmark")
    parser.add_argument(
        "--keep", type=Path, metavar="DIR",
        help="work in DIR and keep corpora and databases (a kept corpus is reused); "
        "default: a temp dir, removed at the end",
    )  # fmt: skip
    parser.add_argument("--seed", type=int, default=7, help="generator seed (default 7)")
    parser.add_argument("--json", type=Path, metavar="FILE", help="also write figures as JSON")
    args = parser.parse_args(argv)
    return Options(
        sizes=args.messages or (QUICK_SIZES if args.quick else FULL_SIZES),
        plan=QUICK_PLAN if args.quick else FULL_PLAN,
        only=args.only,
        keep=args.keep.resolve() if args.keep else None,
        seed=args.seed,
        json_out=args.json,
        diagnostics=not args.quick,
    )


def main(argv: list[str] | None = None) -> int:
    asyncio.run(run(parse_args(argv)))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
