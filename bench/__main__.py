"""``python -m bench``: import, query and search benchmarks on generated Claude Code data.

python -m bench                      # full run: 10k and 100k messages (~60 / ~590 MB),
                                     # then search at 100k and 1M messages
python -m bench --quick              # tiny corpora, few iterations (seconds)
python -m bench --only queries       # skip the import baselines
python -m bench --only serve         # HTTP req/s on loopback (uvicorn), 10k messages
python -m bench --only search        # search only, 100k and 1M messages (~2.6 GB of DBs)
python -m bench --only search --search-sizes 100000 --keep .bench   # 100k, DB kept for reuse
python -m bench --messages 50000 --keep .bench --json .bench/figures.json
"""

from __future__ import annotations

import argparse
import asyncio
from pathlib import Path

from bench.run import Options, run
from bench.serve import ServePlan
from bench.timing import Plan

FULL_SIZES = [10_000, 100_000]
QUICK_SIZES = [1_000, 4_000]
# The search benchmark fills its own databases through the store's write API (no JSONL):
# 100k messages take ~30 s and ~240 MB, 1M ~6 min and ~2.4 GB (cached under --keep).
SEARCH_SIZES = [100_000, 1_000_000]
QUICK_SEARCH_SIZES = [2_000]
FULL_PLAN = Plan(warmup=5, iterations=300, budget_s=2.0, minimum=20)
QUICK_PLAN = Plan(warmup=2, iterations=30, budget_s=0.3, minimum=5)
# Serving: per request kind, 2,000 requests or 10 s, over 8 keep-alive connections.
FULL_SERVE = ServePlan(requests=2_000, warmup=200, concurrency=8, max_seconds=10.0)
QUICK_SERVE = ServePlan(requests=300, warmup=30, concurrency=8, max_seconds=3.0)


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
        "SQL statements per request (issue 2), search latency against bare FTS5 (issue 4), "
        "requests per second over loopback against bare Starlette (issue 6). "
        "Figures only; nothing is asserted.",
    )
    parser.add_argument(
        "--messages",
        type=_sizes,
        metavar="N[,N...]",
        help=f"corpus sizes in API messages (default {','.join(map(str, FULL_SIZES))}; "
        f"about 5.9 KB of JSONL per message)",
    )
    parser.add_argument(
        "--quick",
        action="store_true",
        help=f"tiny run: sizes {','.join(map(str, QUICK_SIZES))} unless --messages, few "
        "iterations, no diagnostic fills",
    )
    parser.add_argument(
        "--only", choices=("queries", "import", "search", "serve"), help="run one benchmark"
    )
    parser.add_argument(
        "--search-sizes",
        type=_sizes,
        metavar="N[,N...]",
        help=f"search benchmark sizes in API messages (default "
        f"{','.join(map(str, SEARCH_SIZES))}; 1M takes a ~6 min fill and ~2.4 GB, cached "
        f"under --keep: --search-sizes 100000 leaves it out)",
    )
    parser.add_argument(
        "--keep",
        type=Path,
        metavar="DIR",
        help="work in DIR and keep corpora and databases (a kept corpus is reused); "
        "default: a temp dir, removed at the end",
    )
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
        search_sizes=args.search_sizes or (QUICK_SEARCH_SIZES if args.quick else SEARCH_SIZES),
        serve=QUICK_SERVE if args.quick else FULL_SERVE,
    )


def main(argv: list[str] | None = None) -> int:
    asyncio.run(run(parse_args(argv)))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
