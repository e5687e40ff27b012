"""The figures as rich tables: corpora, imports, queries, and a summary with the targets."""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any

from rich.console import Console
from rich.table import Table

if TYPE_CHECKING:
    from pathlib import Path

    from bench.imports import ImportReport
    from bench.ingest import IngestResult
    from bench.queries import QueryReport
    from bench.search import SearchReport
    from bench.serve import ServeReport
    from bench.timing import Timing

__all__ = [
    "bound_table",
    "breakdown_table",
    "corpus_table",
    "import_table",
    "query_table",
    "search_summary_rows",
    "search_table",
    "search_target",
    "serve_summary_rows",
    "serve_table",
    "summary_table",
    "write_figures",
]

# Issue 3, "Speed and memory".
TARGET_MESSAGES_PER_S = 20_000
TARGET_MB_PER_S = 30.0
# Issue 4, "Speed (benchmarked)": search p50, top 20, end to end through the schema.
SEARCH_TARGET_100K_MS = 20.0  # at 100k messages (and below) ...
SEARCH_TARGET_RATIO = 2.0  # ... and within 2x of the bare FTS5 query
SEARCH_TARGET_1M_MS = 60.0  # at 1M messages (and above 100k)

_MODE_LABELS = {
    "importer": "import_paths (graph.importers)",
    "importer-here": "import_paths, read in its own process",
    "importer-nosearch": "import_paths, store without search hook",
    "store": "Store.write() API, rows pre-parsed",
    "raw": "raw sqlite3.executemany, rows pre-built",
    "idle": "idle worker (modules + open store)",
}


def _ms(t: Timing) -> str:
    return f"{t.p50_ms:.2f} / {t.p95_ms:.2f}"


def corpus_table(imports: list[ImportReport]) -> Table:
    table = Table(title="Generated corpora (Claude-Code-shaped JSONL)")
    for name in (
        "size",
        "MB",
        "API messages",
        "records",
        "events %",
        "sessions",
        "files (subagents)",
        "tool results",
    ):
        table.add_column(name, justify="right")
    for report in imports:
        c = report.corpus
        table.add_row(
            report.label,
            f"{c.megabytes:.1f}",
            f"{c.messages:,}",
            f"{c.records:,}",
            f"{100 * c.event_share:.0f}%",
            f"{c.sessions:,}",
            f"{c.files} ({c.subagent_files})",
            f"{c.tool_results:,}",
        )
    return table


def import_table(report: ImportReport) -> Table:
    c = report.corpus
    table = Table(
        title=f"Import, {report.label}: {c.megabytes:.0f} MB, {c.messages:,} messages "
        f"(fresh DB per row, one subprocess each)"
    )
    table.caption = (
        "x raw: seconds over the raw executemany floor. The importer detaches the statement "
        "counter while it writes (sqlite3 would expand every parameter for it). Peak RSS: "
        "the importing process + its worker process (reading, parsing, tokenizing)."
    )
    table.add_column("fill")
    for name in (
        "seconds",
        "messages/s",
        "records/s",
        "MB/s",
        "x raw",
        "SQL stmts",
        "stmts/msg",
        "rows ok",
        "DB MB",
        "peak RSS MB",
    ):
        table.add_column(name, justify="right")
    for mode, r in report.results.items():
        if mode == "idle":
            table.add_row(_MODE_LABELS[mode], *[""] * 9, f"{r.peak_rss_mb:.0f}")
            continue
        ratio = report.ratio(mode)
        # Writes through the store are not traced (tracing doubles their cost).
        counted = mode == "raw" and r.messages > 0
        table.add_row(
            _MODE_LABELS.get(mode, mode),
            f"{r.seconds:.2f}",
            f"{r.messages_per_s:,.0f}",
            f"{c.records / r.seconds:,.0f}" if r.seconds else "",
            f"{r.mb_per_s:.1f}",
            "" if ratio is None else f"{ratio:.2f}",
            f"{r.statements:,}" if counted else "",
            f"{r.statements / r.messages:.1f}" if counted else "",
            "yes" if r.messages == c.messages else f"NO ({r.messages:,})",
            f"{r.db_mb:,.0f}",
            _rss(r),
        )
    return table


def _rss(r: IngestResult) -> str:
    if not r.worker_rss_mb:
        return f"{r.peak_rss_mb:.0f}"
    return f"{r.peak_rss_mb:.0f} + {r.worker_rss_mb:.0f}"


def query_table(report: QueryReport) -> Table:
    table = Table(
        title=f"Queries, {report.label}: {report.sessions:,} sessions, {report.messages:,} "
        f"messages, {report.events:,} events (ms, p50 / p95)"
    )
    table.add_column("request")
    for name in (
        "schema.execute",
        "HTTP /graphql",
        "raw sqlite3",
        "API/raw",
        "HTTP/raw",
        "SQL stmts API/raw",
        "same answer",
    ):
        table.add_column(name, justify="right")
    for case in report.cases:
        table.add_row(
            case.name,
            _ms(case.api),
            _ms(case.http),
            _ms(case.raw),
            f"{case.ratio:.1f}x",
            f"{case.http_ratio:.1f}x",
            f"{case.api_statements} / {case.raw_statements}",
            "yes" if case.matches else "NO",
        )
    return table


def search_target(size: int) -> tuple[float, float | None]:
    """(p50 ms, ratio to bare or None) the issue asks for at ``size`` messages."""
    if size <= 100_000:
        return SEARCH_TARGET_100K_MS, SEARCH_TARGET_RATIO
    return SEARCH_TARGET_1M_MS, None


def _target_text(size: int) -> str:
    ms, ratio = search_target(size)
    return f"<= {ms:.0f} ms" + (f", <= {ratio:.0f}x bare" if ratio else "")


def _met(report: SearchReport, p50_ms: float, ratio: float) -> str:
    """Which parts of the target a p50 meets."""
    ms, most = search_target(report.size)
    fast, close = p50_ms <= ms, most is None or ratio <= most
    if fast and close:
        return "[green]yes[/green]"
    if fast:
        return f"[yellow]ms yes, {ratio:.0f}x > {most:.0f}x[/yellow]"
    return "[red]no[/red]"


def search_table(report: SearchReport) -> Table:
    table = Table(
        title=f"Search, {report.label}: {report.messages:,} messages, {report.events:,} "
        f"events, {report.sessions:,} sessions, {report.documents:,} documents, "
        f"{report.db_mb:,.0f} MB (top 20, ms p50 / p95)"
    )
    table.caption = (
        "API: schema.execute (fresh Context) selecting score, snippet, highlights, "
        "node { __typename }, session { sessionId }. store: search_hits alone on a store "
        "reader. bare: SELECT rowid FROM search_fts WHERE search_fts MATCH ? ORDER BY rank "
        "LIMIT 20 (sqlite3), same MATCH expression. matches: documents of any kind; hits: "
        "messages and sessions (the default scopes). (!): the API's scores differ from "
        "search_hits'."
    )
    table.add_column("query")
    for name in (
        "matches",
        "hits",
        "API",
        "store",
        "bare FTS5",
        "API/bare",
        "store/bare",
        "SQL stmts",
        "target p50",
        "met?",
    ):
        table.add_column(name, justify="right")
    for case in report.cases:
        table.add_row(
            f"{case.name}: {case.query}" + ("" if case.same_as_store else " [red](!)[/red]"),
            f"{case.matches:,}",
            f"{case.hits:,}",
            _ms(case.api),
            _ms(case.store),
            _ms(case.bare),
            f"{case.ratio:.1f}x",
            f"{case.store_ratio:.1f}x",
            str(case.api_statements),
            _target_text(report.size),
            _met(report, case.api.p50_ms, case.ratio),
        )
    return table


def breakdown_table(report: SearchReport) -> Table | None:
    cases = [case for case in report.cases if case.breakdown is not None]
    if not cases:
        return None
    table = Table(title=f"Search, {report.label}: where the time goes (ms p50 / p95)")
    table.caption = (
        "count: SELECT count(*) ... MATCH (iterate every match, rank none). unranked: MATCH "
        "... LIMIT 20. ranked SQL: what search_hits runs, on sqlite3. untraced / store: "
        "search_hits on aiosqlite without / with the store's statement counter (a Python "
        "trace callback, called for each of the nested statements too: FTS5 looks up each "
        "ranked row's size). fetch: load and decode the 20 hits. snippets: cut 20 snippets."
    )
    table.add_column("query")
    for name in (
        "count",
        "unranked",
        "bare rank",
        "ranked SQL",
        "untraced",
        "store",
        "nested stmts",
        "fetch 20",
        "snippets 20",
        "API",
    ):
        table.add_column(name, justify="right")
    for case in cases:
        b = case.breakdown
        assert b is not None
        table.add_row(
            case.name,
            _ms(b.count),
            _ms(b.unranked),
            _ms(case.bare),
            _ms(b.ranked),
            _ms(b.untraced),
            _ms(case.store),
            f"{b.nested:,}",
            _ms(b.fetch),
            _ms(b.snippets),
            _ms(case.api),
        )
    return table


def bound_table(report: SearchReport) -> Table | None:
    if not report.bounds:
        return None
    table = Table(
        title=f"Search, {report.label}: bounding the bm25 work (ranked SQL on sqlite3, ms "
        "p50, and how many of the unbounded top 20 it still returns)"
    )
    table.caption = (
        "newest K: AND search_fts.rowid >= coalesce((SELECT rowid FROM search_fts WHERE "
        "search_fts MATCH :q ORDER BY rowid DESC LIMIT 1 OFFSET :k - 1), 0)"
    )
    table.add_column("variant")
    names = [case.name for case in report.cases]
    for name in names:
        table.add_column(name, justify="right")
    for bound in report.bounds:
        cells = []
        for name in names:
            r = bound.results.get(name)
            cells.append("" if r is None else f"{r.timing.p50_ms:.2f} ({r.overlap}/{r.returned})")
        table.add_row(bound.name, *cells)
    return table


def search_summary_rows(table: Table, searched: list[SearchReport]) -> None:
    """Add the search figures to the summary table."""
    for report in searched:
        for case in report.cases:
            table.add_row(
                f"search {report.label}: {case.name} ({case.matches:,} matches)",
                f"{case.api.p50_ms:.2f} ms = {case.ratio:.1f}x bare, {case.api_statements} stmts",
                _target_text(report.size),
                _met(report, case.api.p50_ms, case.ratio),
            )


def serve_table(report: ServeReport) -> Table:
    plan = report.plan
    table = Table(
        title=f"Serving, {report.label}: {report.sessions:,} sessions, {report.messages:,} "
        f"messages; uvicorn on 127.0.0.1, concurrency {plan.concurrency}, "
        f"{plan.requests:,} requests or {plan.max_seconds:.0f} s per row"
    )
    table.caption = (
        f"{report.stack}, same settings for both apps; sessiongraph with a bearer token, "
        "its middleware and access log as served. Closed loop: each connection sends its "
        "next POST when the last answer is in (keep-alive, HTTP/1.1). x bare: req/s over "
        "bare Starlette's. CPU: seconds per second (1.00 = one core), server process / load "
        "generator."
    )
    table.add_column("request")
    table.add_column("server")
    for name in (
        "req/s",
        "x bare",
        "p50 ms",
        "p95 ms",
        "bytes",
        "requests",
        "non-200",
        "CPU server / client",
    ):
        table.add_column(name, justify="right")
    for case in report.cases:
        cpu = "" if case.server_cpu is None else f"{case.server_cpu:.2f}"
        table.add_row(
            case.name,
            case.server,
            f"{case.per_second:,.0f}",
            f"{report.ratio(case):.2f}",
            f"{case.latency.p50_ms:.2f}",
            f"{case.latency.p95_ms:.2f}",
            f"{case.response_bytes:,}",
            f"{case.requests:,}",
            str(case.failures) if not case.failures else f"[red]{case.failures}[/red]",
            f"{cpu} / {case.client_cpu:.2f}",
        )
    return table


def serve_summary_rows(table: Table, served: list[ServeReport]) -> None:
    """Add the serving figures to the summary table."""
    for report in served:
        for case in report.cases:
            table.add_row(
                f"serve {report.label}: {case.name} ({case.server})",
                f"{case.per_second:,.0f} req/s = {report.ratio(case):.2f}x bare, "
                f"p50 {case.latency.p50_ms:.2f} ms",
                "req/s beside bare Starlette",
                "",
            )


def summary_table(imports: list[ImportReport], queries: list[QueryReport]) -> Table:
    table = Table(title="Summary (figures, not assertions)")
    table.add_column("figure")
    table.add_column("measured", justify="right")
    table.add_column("target")
    table.add_column("met?", justify="center")
    for report in imports:
        r = report.results.get("importer")
        if r is None:
            continue
        label = f"import {report.label} ({report.corpus.megabytes:.0f} MB)"
        met = r.messages_per_s >= TARGET_MESSAGES_PER_S
        table.add_row(f"{label}: messages/s", f"{r.messages_per_s:,.0f}", ">= 20,000", _yes(met))
        records = report.corpus.records / r.seconds if r.seconds else 0.0
        table.add_row(
            f"{label}: records (JSONL lines)/s",
            f"{records:,.0f}",
            ">= 20,000 if 'messages' means lines",
            _yes(records >= 20_000),
        )
        table.add_row(f"{label}: MB/s", f"{r.mb_per_s:.1f}", ">= 30", _yes(r.mb_per_s >= 30))
        ratio = report.ratio()
        if ratio is not None:
            table.add_row(f"{label}: time vs raw executemany", f"{ratio:.2f}x", "(ratio)", "")
        table.add_row(f"{label}: peak RSS (process + worker)", f"{_rss(r)} MB", "flat", "")
    rss = [
        (
            rep.corpus.megabytes,
            rep.results["importer"].peak_rss_mb + rep.results["importer"].worker_rss_mb,
        )
        for rep in imports
        if "importer" in rep.results
    ]
    if len(rss) >= 2:
        (mb0, rss0), (mb1, rss1) = min(rss), max(rss)
        growth = rss1 - rss0
        table.add_row(
            f"peak RSS growth, {mb0:.0f} MB -> {mb1:.0f} MB corpus",
            f"{growth:+.0f} MB ({rss1 / rss0:.2f}x for {mb1 / mb0:.0f}x data)",
            "flat (no growth with file size)",
            _yes(growth < 0.1 * rss0 + 10),
        )
    for queried in queries:
        for case in queried.cases:
            table.add_row(
                f"{queried.label}: {case.name}",
                f"{case.api.p50_ms:.2f} ms = {case.ratio:.1f}x raw, {case.api_statements} stmts",
                "ratio + statements",
                "",
            )
    return table


def _yes(ok: bool) -> str:
    return "[green]yes[/green]" if ok else "[red]no[/red]"


def write_figures(console: Console, path: Path | None, figures: dict[str, Any]) -> None:
    """Write a run's figures to ``path`` as JSON (``--json``), and say so."""
    if path is not None:
        path.write_text(json.dumps(figures, indent=2))
        console.print(f"figures written to {path}")


def console() -> Console:
    return Console()
