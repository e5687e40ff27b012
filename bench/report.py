"""The figures as rich tables: corpora, imports, queries, and a summary with the targets."""

from __future__ import annotations

from typing import TYPE_CHECKING

from rich.console import Console
from rich.table import Table

if TYPE_CHECKING:
    from bench.imports import ImportReport
    from bench.queries import QueryReport
    from bench.timing import Timing

__all__ = ["corpus_table", "import_table", "query_table", "summary_table"]

# Issue 3, "Speed and memory".
TARGET_MESSAGES_PER_S = 20_000
TARGET_MB_PER_S = 30.0

_MODE_LABELS = {
    "importer": "import_paths (graph.importers)",
    "importer-nosearch": "import_paths, store without search hook",
    "store": "Store.write() API, rows pre-parsed",
    "raw": "raw sqlite3.executemany, rows pre-built",
    "idle": "idle worker (modules + open store)",
}


def _ms(t: Timing) -> str:
    return f"{t.p50_ms:.2f} / {t.p95_ms:.2f}"


def corpus_table(imports: list[ImportReport]) -> Table:
    table = Table(title="Generated corpora (Claude-Code-shaped JSONL)")
    for name in ("size", "MB", "API messages", "records", "events %", "sessions",
                 "files (subagents)", "tool results"):  # fmt: skip
        table.add_column(name, justify="right")
    for report in imports:
        c = report.corpus
        table.add_row(
            report.label, f"{c.megabytes:.1f}", f"{c.messages:,}", f"{c.records:,}",
            f"{100 * c.event_share:.0f}%", f"{c.sessions:,}", f"{c.files} ({c.subagent_files})",
            f"{c.tool_results:,}",
        )  # fmt: skip
    return table


def import_table(report: ImportReport) -> Table:
    c = report.corpus
    table = Table(
        title=f"Import, {report.label}: {c.megabytes:.0f} MB, {c.messages:,} messages "
        f"(fresh DB per row, one subprocess each)"
    )
    table.caption = (
        "x raw: seconds over the raw executemany floor. The importer detaches the statement "
        "counter while it writes (sqlite3 would expand every parameter for it)."
    )
    table.add_column("fill")
    for name in ("seconds", "messages/s", "MB/s", "x raw", "SQL stmts", "stmts/msg",
                 "rows ok", "DB MB", "peak RSS MB"):  # fmt: skip
        table.add_column(name, justify="right")
    for mode, r in report.results.items():
        if mode == "idle":
            table.add_row(_MODE_LABELS[mode], *[""] * 8, f"{r.peak_rss_mb:.0f}")
            continue
        ratio = report.ratio(mode)
        # Writes through the store are not traced (tracing doubles their cost).
        counted = mode == "raw" and r.messages > 0
        table.add_row(
            _MODE_LABELS.get(mode, mode),
            f"{r.seconds:.2f}",
            f"{r.messages_per_s:,.0f}",
            f"{r.mb_per_s:.1f}",
            "" if ratio is None else f"{ratio:.2f}",
            f"{r.statements:,}" if counted else "",
            f"{r.statements / r.messages:.1f}" if counted else "",
            "yes" if r.messages == c.messages else f"NO ({r.messages:,})",
            f"{r.db_mb:,.0f}",
            f"{r.peak_rss_mb:.0f}",
        )
    return table


def query_table(report: QueryReport) -> Table:
    table = Table(
        title=f"Queries, {report.label}: {report.sessions:,} sessions, {report.messages:,} "
        f"messages, {report.events:,} events (ms, p50 / p95)"
    )
    table.add_column("request")
    for name in ("schema.execute", "HTTP /graphql", "raw sqlite3", "API/raw", "HTTP/raw",
                 "SQL stmts API/raw", "same answer"):  # fmt: skip
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
        table.add_row(f"{label}: messages/s", f"{r.messages_per_s:,.0f}", ">= 20,000",
                      _yes(met))  # fmt: skip
        table.add_row(f"{label}: MB/s", f"{r.mb_per_s:.1f}", ">= 30", _yes(r.mb_per_s >= 30))
        ratio = report.ratio()
        if ratio is not None:
            table.add_row(f"{label}: time vs raw executemany", f"{ratio:.2f}x", "(ratio)", "")
        table.add_row(f"{label}: peak RSS", f"{r.peak_rss_mb:.0f} MB", "flat", "")
    rss = [(rep.corpus.megabytes, rep.results["importer"].peak_rss_mb) for rep in imports
           if "importer" in rep.results]  # fmt: skip
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


def console() -> Console:
    return Console()
