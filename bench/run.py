"""One benchmark run: per size, generate a corpus, fill databases, time queries."""

from __future__ import annotations

import json
import shutil
import tempfile
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, Literal

from rich.console import Console

from bench import report
from bench.generate import Corpus, generate
from bench.imports import ImportReport, run_worker
from bench.ingest import Mode
from bench.queries import QueryReport, bench_queries
from bench.timing import Plan

__all__ = ["Options", "Results", "run"]

Only = Literal["queries", "import"] | None


@dataclass(frozen=True, slots=True)
class Options:
    sizes: list[int]
    plan: Plan
    only: Only = None
    keep: Path | None = None
    seed: int = 7
    diagnostics: bool = True
    json_out: Path | None = None


@dataclass(slots=True)
class Results:
    imports: list[ImportReport] = field(default_factory=list)
    queries: list[QueryReport] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        return {
            "imports": [
                {"label": r.label, "corpus": {**asdict(r.corpus), "root": str(r.corpus.root)},
                 "results": {m: x.to_dict() for m, x in r.results.items()},
                 "ratio_to_raw": r.ratio()}
                for r in self.imports
            ],
            "queries": [
                {**asdict(q), "cases": [{**asdict(c), "ratio": c.ratio} for c in q.cases]}
                for q in self.queries
            ],
        }  # fmt: skip


def _label(size: int) -> str:
    return f"{size // 1000}k msgs" if size % 1000 == 0 else f"{size} msgs"


def _corpus(workdir: Path, size: int, seed: int, console: Console) -> Corpus:
    """Generate (or, in a kept directory, reuse) the corpus of ``size`` messages."""
    folder = workdir / f"corpus-{size}-seed{seed}"
    manifest = folder / "corpus.json"
    if manifest.exists():
        data = json.loads(manifest.read_text())
        console.print(f"reusing {folder} ({data['bytes'] / 1e6:.0f} MB)")
        return Corpus(**{**data, "root": Path(data["root"])})
    shutil.rmtree(folder, ignore_errors=True)
    started = time.perf_counter()
    with console.status(f"generating {_label(size)}..."):
        corpus = generate(folder, size, seed=seed)
    console.print(
        f"generated {corpus.messages:,} messages, {corpus.megabytes:.0f} MB in "
        f"{time.perf_counter() - started:.1f}s: {folder}"
    )
    manifest.write_text(json.dumps({**asdict(corpus), "root": str(corpus.root)}))
    return corpus


def _fill(report_: ImportReport, modes: list[Mode], workdir: Path, console: Console) -> Path:
    """Run each fill in a subprocess; the importer's database is kept for the queries."""
    db = workdir / f"{report_.label.replace(' ', '-')}.db"
    root = report_.corpus.root
    for mode in modes:
        target = db if mode == "importer" else workdir / f"scratch-{mode}.db"
        with console.status(f"{report_.label}: {mode} fill..."):
            try:
                result = run_worker(mode, root, target)
            except RuntimeError as exc:
                console.print(f"[red]{mode} fill failed[/red]\n{exc}")
                if mode != "importer":
                    continue
                console.print("[red]filling the query database through the store API[/red]")
                mode, result = "store", run_worker("store", root, target)
        report_.results[mode] = result
        console.print(f"  {mode}: {result.seconds:.2f}s, {result.peak_rss_mb:.0f} MB peak RSS")
        if target != db:
            for suffix in ("", "-wal", "-shm"):
                target.with_name(target.name + suffix).unlink(missing_ok=True)
    return db


def wide_console() -> Console:
    """A console that does not squeeze the tables to 80 columns when piped."""
    console = Console()
    if not console.is_terminal:
        console = Console(width=150)
    return console


async def run(options: Options, console: Console | None = None) -> Results:
    console = console or wide_console()
    results = Results()
    workdir = options.keep or Path(tempfile.mkdtemp(prefix="sessiongraph-bench-"))
    workdir.mkdir(parents=True, exist_ok=True)
    console.print(f"working in {workdir}" + ("" if options.keep else " (removed at the end)"))
    modes: list[Mode] = ["importer"]
    if options.only != "queries":
        modes += ["raw", "importer-nosearch"] if options.diagnostics else ["raw"]
    try:
        for index, size in enumerate(options.sizes):
            corpus = _corpus(workdir, size, options.seed, console)
            imported = ImportReport(_label(size), corpus)
            first = index == 0 and options.only != "queries"
            db = _fill(imported, [*modes, "idle"] if first else modes, workdir, console)
            results.imports.append(imported)
            if options.only != "queries":
                console.print(report.import_table(imported))
            if options.only != "import":
                with console.status(f"{imported.label}: timing queries..."):
                    queried = await bench_queries(db, options.plan, imported.label)
                results.queries.append(queried)
                console.print(report.query_table(queried))
            if options.keep is None:
                shutil.rmtree(corpus.root.parent, ignore_errors=True)
    finally:
        if options.keep is None:
            shutil.rmtree(workdir, ignore_errors=True)
    console.print(report.corpus_table(results.imports))
    console.print(report.summary_table(results.imports, results.queries))
    if options.json_out is not None:
        options.json_out.write_text(json.dumps(results.to_dict(), indent=2))
        console.print(f"figures written to {options.json_out}")
    return results
