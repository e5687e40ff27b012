"""One benchmark run: per size, generate a corpus, fill databases, time queries (and, on the
first size, serving over HTTP); then search."""

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
from bench.search import SearchReport, bench_search, search_db
from bench.serve import ServePlan, ServeReport, bench_serve
from bench.timing import Plan

__all__ = ["Options", "Results", "run"]

Only = Literal["queries", "import", "search", "serve"] | None


@dataclass(frozen=True, slots=True)
class Options:
    sizes: list[int]
    plan: Plan
    only: Only = None
    keep: Path | None = None
    seed: int = 7
    diagnostics: bool = True
    json_out: Path | None = None
    search_sizes: list[int] = field(default_factory=lambda: [100_000])
    serve: ServePlan = field(default_factory=ServePlan)


@dataclass(slots=True)
class Results:
    imports: list[ImportReport] = field(default_factory=list)
    queries: list[QueryReport] = field(default_factory=list)
    search: list[SearchReport] = field(default_factory=list)
    serve: list[ServeReport] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        return {
            "imports": [
                {
                    "label": r.label,
                    "corpus": {**asdict(r.corpus), "root": str(r.corpus.root)},
                    "results": {m: x.to_dict() for m, x in r.results.items()},
                    "ratio_to_raw": r.ratio(),
                }
                for r in self.imports
            ],
            "queries": [
                {**asdict(q), "cases": [{**asdict(c), "ratio": c.ratio} for c in q.cases]}
                for q in self.queries
            ],
            "search": [s.to_dict() for s in self.search],
            "serve": [s.to_dict() for s in self.serve],
        }


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
        worker = f" + {result.worker_rss_mb:.0f} MB (worker)" if result.worker_rss_mb else ""
        console.print(
            f"  {mode}: {result.seconds:.2f}s, {result.peak_rss_mb:.0f} MB peak RSS{worker}"
        )
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


async def _search(options: Options, workdir: Path, results: Results, console: Console) -> None:
    """Per search size: fill (or reuse) a database through the store, time the queries."""
    for size in options.search_sizes:
        db, fill = await search_db(workdir, size, options.seed, console)
        with console.status(f"{_label(size)}: timing search..."):
            searched = await bench_search(
                db,
                options.plan,
                _label(size),
                size=size,
                fill=fill,
                diagnostics=options.diagnostics,
            )
        results.search.append(searched)
        for table in (
            report.search_table(searched),
            report.breakdown_table(searched),
            report.bound_table(searched),
        ):
            if table is not None:
                console.print(table)


async def _serve(
    db: Path, label: str, options: Options, results: Results, console: Console
) -> None:
    """uvicorn on loopback: the app over ``db`` and bare Starlette, under the same load."""
    with console.status(
        f"{label}: serving over HTTP (uvicorn, concurrency {options.serve.concurrency})..."
    ):
        served = await bench_serve(db, options.serve, label)
    results.serve.append(served)
    console.print(report.serve_table(served))


def _run_sizes(options: Options) -> list[int]:
    """The corpus sizes to generate and fill (serving needs only the first)."""
    if options.only == "search":
        return []
    return options.sizes[:1] if options.only == "serve" else options.sizes


async def run(options: Options, console: Console | None = None) -> Results:
    console = console or wide_console()
    results = Results()
    workdir = options.keep or Path(tempfile.mkdtemp(prefix="sessiongraph-bench-"))
    workdir.mkdir(parents=True, exist_ok=True)
    console.print(f"working in {workdir}" + ("" if options.keep else " (removed at the end)"))
    modes: list[Mode] = ["importer"]
    if options.only not in ("queries", "serve"):
        modes += ["raw", "importer-here", "importer-nosearch"] if options.diagnostics else ["raw"]
    try:
        for index, size in enumerate(_run_sizes(options)):
            corpus = _corpus(workdir, size, options.seed, console)
            imported = ImportReport(_label(size), corpus)
            first = index == 0 and options.only not in ("queries", "serve")
            db = _fill(imported, [*modes, "idle"] if first else modes, workdir, console)
            if options.only != "serve":  # a fill for serving, not an import benchmark
                results.imports.append(imported)
            if options.only not in ("queries", "serve"):
                console.print(report.import_table(imported))
            if options.only not in ("import", "serve"):
                with console.status(f"{imported.label}: timing queries..."):
                    queried = await bench_queries(db, options.plan, imported.label)
                results.queries.append(queried)
                console.print(report.query_table(queried))
            if index == 0 and options.only in (None, "serve"):
                await _serve(db, imported.label, options, results, console)
            if options.keep is None:
                shutil.rmtree(corpus.root.parent, ignore_errors=True)
        if options.only in (None, "search"):
            await _search(options, workdir, results, console)
    finally:
        if options.keep is None:
            shutil.rmtree(workdir, ignore_errors=True)
    if results.imports:
        console.print(report.corpus_table(results.imports))
    summary = report.summary_table(results.imports, results.queries)
    report.search_summary_rows(summary, results.search)
    report.serve_summary_rows(summary, results.serve)
    console.print(summary)
    report.write_figures(console, options.json_out, results.to_dict())
    return results
