"""The search benchmark runs end to end at a tiny size and returns sane, structured figures.

No timing thresholds: only that every figure is there and positive, that the planted
terms match what they were planted for, and that the API, search_hits and the ranked
SQL the benchmark times agree.
"""

from __future__ import annotations

import asyncio
import json
from pathlib import Path

import orjson
import pytest

from bench.__main__ import QUICK_SEARCH_SIZES, SEARCH_SIZES, parse_args
from bench.report import bound_table, breakdown_table, search_summary_rows, search_table
from bench.search import BOUND_KS, QUERIES, TOP, SearchReport, bench_search, search_db
from bench.search_corpus import RARE_DOCS, search_sessions
from bench.timing import Plan

SIZE = 500
TINY_PLAN = Plan(warmup=1, iterations=3, budget_s=0.05, minimum=2)


@pytest.fixture(scope="module")
def workdir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("search-bench")


async def _fill_and_bench(workdir: Path) -> SearchReport:
    db, fill = await search_db(workdir, SIZE, seed=3)
    assert not fill["reused"] and fill["messages"] == SIZE
    return await bench_search(db, TINY_PLAN, "smoke", size=SIZE, fill=fill)


@pytest.fixture(scope="module")
def report(workdir: Path) -> SearchReport:
    """Filled and benchmarked once for the module (its own event loop, as the CLI runs it)."""
    return asyncio.run(_fill_and_bench(workdir))


def test_figures_are_there(report: SearchReport) -> None:
    assert report.messages == SIZE and report.sessions > 0 and report.events > 0
    # Every message, the events that are searched (not progress), titled sessions.
    assert report.messages < report.documents <= report.messages + report.events + report.sessions
    assert report.db_mb > 0 and report.fill_seconds > 0
    assert [case.name for case in report.cases] == [name for name, _ in QUERIES]
    for case in report.cases:
        assert case.same_as_store, case.name
        assert case.matches >= case.hits > 0, case.name
        assert case.returned == min(TOP, case.hits), case.name
        assert case.api_statements > 0
        assert case.ratio > 0 and case.store_ratio > 0
        for timing in (case.api, case.store, case.bare):
            assert timing.samples >= TINY_PLAN.minimum
            assert 0 < timing.p50_ms <= timing.p95_ms
        assert case.breakdown is not None
        assert case.breakdown.nested >= 0 and case.breakdown.snippets.p50_ms > 0


def test_planted_terms(report: SearchReport) -> None:
    by_name = {case.name: case for case in report.cases}
    common, rare = by_name["common term"], by_name["rare term"]
    assert 0 < rare.matches <= RARE_DOCS < common.matches
    assert common.matches > report.messages // 5  # a large share of the messages
    assert by_name["phrase"].matches < common.matches
    assert by_name["prefix"].expression.endswith("*")


def test_bound_variants(report: SearchReport) -> None:
    assert report.bounds[0].k is None
    assert [b.k for b in report.bounds[1 : 1 + len(BOUND_KS)]] == list(BOUND_KS)
    for bound in report.bounds:
        assert set(bound.results) == {name for name, _ in QUERIES}
        for result in bound.results.values():
            assert 0 <= result.overlap <= result.returned <= TOP
            assert result.timing.p50_ms > 0
    # Fewer matches than any K: every bound ranks all of them, so nothing changes.
    for bound in report.bounds:
        for name, result in bound.results.items():
            hits = next(case.hits for case in report.cases if case.name == name)
            if hits < BOUND_KS[0]:
                assert result.overlap == result.returned == min(TOP, hits), (bound.name, name)


def test_tables_and_json(report: SearchReport) -> None:
    table = search_table(report)
    assert table.row_count == len(QUERIES)
    for extra in (breakdown_table(report), bound_table(report)):
        assert extra is not None and extra.row_count > 0
    search_summary_rows(table, [report])
    assert table.row_count == 2 * len(QUERIES)
    data = json.loads(json.dumps(report.to_dict()))
    assert data["cases"][0]["ratio"] > 0


def test_filled_database_is_reused(report: SearchReport, workdir: Path) -> None:
    _, fill = asyncio.run(search_db(workdir, SIZE, seed=3))
    assert fill["reused"] and fill["messages"] == report.messages


def test_generation_is_deterministic() -> None:
    first, again = list(search_sessions(300, 5)), list(search_sessions(300, 5))
    assert sum(len(s.messages) for s in first) == 300
    for one, other in zip(first, again, strict=True):
        assert one.title == other.title
        assert orjson.dumps([m.records for m in one.messages]) == orjson.dumps(
            [m.records for m in other.messages]
        )
        assert orjson.dumps([e.record for e in one.events]) == orjson.dumps(
            [e.record for e in other.events]
        )


def test_cli_options() -> None:
    options = parse_args(["--only", "search", "--search-sizes", "1000,20_000"])
    assert options.only == "search" and options.search_sizes == [1_000, 20_000]
    assert parse_args([]).search_sizes == SEARCH_SIZES
    assert parse_args(["--quick"]).search_sizes == QUICK_SEARCH_SIZES
