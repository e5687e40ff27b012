"""Run one fill of a fresh database in its own process and print the result as JSON.

    python -m bench.import_worker MODE PROJECTS_DIR DB

MODE is ``importer``, ``store``, ``raw`` or ``idle`` (see :mod:`bench.ingest`). The
last line of stdout is the :class:`IngestResult` as JSON; its ``peak_rss_mb`` is this
process's own high-water mark (``VmHWM``), so each fill is measured alone.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Sequence
from pathlib import Path

from bench.ingest import MODES, ingest


def worker_args(
    prog: str, modes: Sequence[str], argv: list[str] | None
) -> tuple[argparse.ArgumentParser, argparse.Namespace]:
    """``MODE ROOT DB`` of an import worker, DB checked to be a fresh file."""
    parser = argparse.ArgumentParser(prog=prog)
    parser.add_argument("mode", choices=modes)
    parser.add_argument("root", type=Path, help="the projects dir of a corpus")
    parser.add_argument("db", type=Path, help="a database file that does not exist yet")
    args = parser.parse_args(argv)
    if args.db.exists():
        parser.error(f"{args.db} exists: the worker fills a fresh database")
    return parser, args


def main(argv: list[str] | None = None) -> int:
    _, args = worker_args("python -m bench.import_worker", MODES, argv)
    result = ingest(args.mode, args.root, args.db)
    sys.stdout.write(json.dumps(result.to_dict()) + "\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
