"""Import benchmark: each fill of a fresh database in its own subprocess.

A subprocess per fill gives each one its own peak RSS (the child reports its
high-water mark) and a cold start, so a ~60 MB and a ~590 MB corpus compare fairly.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from bench.ingest import IngestResult, Mode

if TYPE_CHECKING:
    from bench.generate import Corpus

__all__ = ["ImportReport", "run_worker"]

_ROOT = Path(__file__).resolve().parent.parent  # where ``bench`` can be imported from


@dataclass(slots=True)
class ImportReport:
    """The fills of one corpus; ``results`` by mode."""

    label: str
    corpus: Corpus
    results: dict[str, IngestResult] = field(default_factory=dict)

    def ratio(self, mode: str = "importer") -> float | None:
        """How many times longer ``mode`` took than the raw executemany floor."""
        result, raw = self.results.get(mode), self.results.get("raw")
        if result is None or raw is None or not raw.seconds:
            return None
        return result.seconds / raw.seconds


def run_worker(mode: Mode, root: Path, db: Path) -> IngestResult:
    """Fill ``db`` (removed first if it exists) from ``root`` in a subprocess."""
    for suffix in ("", "-wal", "-shm"):
        db.with_name(db.name + suffix).unlink(missing_ok=True)
    done = subprocess.run(
        [sys.executable, "-m", "bench.import_worker", mode, str(root), str(db)],
        cwd=_ROOT,
        env={
            **os.environ,
            "PYTHONPATH": os.pathsep.join(filter(None, (str(_ROOT), os.environ.get("PYTHONPATH")))),
        },
        capture_output=True,
        text=True,
        check=False,
    )
    if done.returncode != 0:
        raise RuntimeError(f"bench.import_worker {mode} failed:\n{done.stderr[-3000:]}")
    return IngestResult(**json.loads(done.stdout.strip().splitlines()[-1]))
