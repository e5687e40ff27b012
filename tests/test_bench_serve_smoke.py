"""The serving benchmark runs end to end at a tiny scale and returns sane, structured figures.

No timing thresholds: only that every case ran its requests against real uvicorn
processes on loopback, got 200s with the expected content, and that the processes are
gone afterwards, whatever happened.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from bench.__main__ import FULL_SERVE, QUICK_SERVE, parse_args
from bench.generate import generate
from bench.ingest import ingest
from bench.run import _run_sizes
from bench.serve import ServePlan, _server, bench_serve

TINY = ServePlan(requests=50, warmup=5, concurrency=8, max_seconds=5.0)


def _children() -> list[int]:
    """Live ``bench.serve_app`` processes started by this one."""
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
            cmdline = (entry / "cmdline").read_bytes()
        except OSError:
            continue
        fields = stat.rpartition(")")[2].split()
        if int(fields[1]) == os.getpid() and b"bench.serve_app" in cmdline and fields[0] != "Z":
            found.append(int(entry.name))
    return found


@pytest.fixture(scope="module")
def db(tmp_path_factory: pytest.TempPathFactory) -> Path:
    corpus = generate(tmp_path_factory.mktemp("corpus"), 300, seed=3)
    path = tmp_path_factory.mktemp("db") / "serve.db"
    ingest("importer", corpus.root, path)
    return path


@pytest.mark.skipif(not Path("/proc/self/stat").exists(), reason="reads /proc")
async def test_serve_figures(db: Path) -> None:
    report = await bench_serve(db, TINY, "smoke")
    assert report.sessions > 0 and report.messages >= 300
    assert "uvicorn" in report.stack and report.plan == TINY
    names = [(case.name, case.server) for case in report.cases]
    assert names == [
        ("trivial: { health { ok } }", "sessiongraph"),
        ("50-session page", "sessiongraph"),
        ("50-session page, gzip", "sessiongraph"),
        ("constant JSON", "bare Starlette"),
    ]
    for case in report.cases:
        assert 0 < case.requests <= TINY.requests, case.name
        assert case.failures == 0, case.name
        assert case.seconds > 0 and case.per_second > 0
        assert case.latency.samples == case.requests
        assert 0 < case.latency.p50_ms <= case.latency.p95_ms
        assert case.response_bytes > 0
        assert case.client_cpu >= 0
        assert case.server_cpu is None or case.server_cpu >= 0
        assert report.ratio(case) > 0
    assert report.ratio(report.bare) == 1.0
    page = report.cases[1]
    assert page.response_bytes > report.cases[0].response_bytes  # a page, not an error
    data = report.to_dict()
    assert [c["name"] for c in data["cases"]] == [name for name, _ in names]
    assert all(c["ratio_to_bare"] > 0 and c["per_second"] > 0 for c in data["cases"])
    assert _children() == []


async def test_a_server_that_cannot_start_is_reported_and_reaped(tmp_path: Path) -> None:
    # "graph" without a database: the child exits with a usage error before binding.
    with pytest.raises(RuntimeError, match="did not start"):
        async with _server("graph", None, "token", tmp_path / "server.log"):
            pytest.fail("should not get here")
    assert _children() == []


async def test_the_server_is_stopped_when_the_load_fails(tmp_path: Path) -> None:
    seen: list[int] = []

    async def failing_load() -> None:
        async with _server("bare", None, "token", tmp_path / "server.log") as (port, pid):
            assert port > 0
            seen.extend(child for child in _children() if child == pid)
            raise ZeroDivisionError

    with pytest.raises(ZeroDivisionError):
        await failing_load()
    assert len(seen) == 1
    assert _children() == []


def test_cli_options() -> None:
    serve = parse_args(["--only", "serve"])
    assert serve.only == "serve" and serve.serve == FULL_SERVE
    assert FULL_SERVE.concurrency == 8 and FULL_SERVE.requests >= 2_000
    assert _run_sizes(serve) == serve.sizes[:1]
    quick = parse_args(["--quick"])
    assert quick.serve == QUICK_SERVE and quick.only is None
    assert _run_sizes(quick) == quick.sizes
