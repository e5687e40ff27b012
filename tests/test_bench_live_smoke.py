"""The live benchmark runs end to end at a tiny size and returns sane figures.

A real server and a real ``import --watch`` (subprocesses on 127.0.0.1), a real
graphql-transport-ws client. No timing thresholds: only that every line arrived exactly
once and in order, and that the change feed ran as many statements per tick with 100
subscribers as with 1.
"""

from __future__ import annotations

import json
import os

import pytest

from bench.live import LiveOptions, LiveReport, SeriesPlan, bench_live, live_tables, parse_args
from bench.live_feed import SUBSCRIBER_COUNTS
from bench.timing import Plan

TINY = LiveOptions(
    series=(
        SeriesPlan("steady", "import --watch", 12, 20.0),
        SeriesPlan("sparse", "import --watch", 3, 250.0),
        SeriesPlan("in-process import", "in-process import", 6, 50.0),
    ),
    ticks=3,
    tick_plan=Plan(warmup=1, iterations=5, budget_s=0.05, minimum=2),
)


@pytest.fixture(scope="module")
def report(tmp_path_factory: pytest.TempPathFactory) -> LiveReport:
    return bench_live(tmp_path_factory.mktemp("live-bench"), TINY)


def test_every_line_arrives_once_in_order(report: LiveReport) -> None:
    assert [s.name for s in report.series] == [p.name for p in TINY.series]
    for series, plan in zip(report.series, TINY.series, strict=True):
        assert series.sent == plan.lines, series.name
        assert series.complete, (series.name, series.errors)
        assert series.received == series.sent and series.duplicates == 0
        # Messages and events each arrive as written. (Across kinds, one import that
        # takes several lines commits their messages before their events.)
        assert series.in_order_by_kind, series.name
        assert len(series.delays_ms) == series.sent
        assert all(delay > 0 for delay in series.delays_ms), series.name
        timing = series.timing
        assert timing is not None and timing.p50_ms <= timing.p95_ms <= series.max_ms
    # One line per import: commit order is the order written.
    assert report.series[-1].in_order and report.series[-1].overtaken == 0
    assert report.server_start_s > 0


def test_tick_cost_does_not_grow_with_subscribers(report: LiveReport) -> None:
    assert [t.subscribers for t in report.ticks] == list(SUBSCRIBER_COUNTS)
    for cost in report.ticks:
        assert cost.delivered and cost.steady, cost.subscribers
        assert cost.idle_per_tick >= 1 and cost.busy_per_tick > cost.idle_per_tick
        assert cost.changes_per_tick > 0
        assert 0 < cost.idle.p50_ms <= cost.idle.p95_ms
        assert 0 < cost.busy.p50_ms <= cost.busy.p95_ms
    one, hundred = report.ticks[0], report.ticks[-1]
    assert (one.idle_per_tick, one.busy_per_tick) == (hundred.idle_per_tick, hundred.busy_per_tick)


def test_tables_and_json(report: LiveReport) -> None:
    delays, ticks = live_tables(report)
    assert delays.row_count == len(report.series)
    assert ticks.row_count == len(report.ticks) + 1
    data = json.loads(json.dumps(report.to_dict()))
    assert all(s["complete"] and s["p50_ms"] > 0 for s in data["series"])


def test_cli_options() -> None:
    assert parse_args(["--quick", "--lines", "50"]).lines == 50
    with pytest.raises(SystemExit):
        parse_args(["--lines", "0"])


def test_processes_are_gone(report: LiveReport) -> None:
    assert len(report.pids) == 2  # serve and import --watch, terminated and reaped
    for pid in report.pids:
        with pytest.raises(ProcessLookupError):
            os.kill(pid, 0)
