"""The benchmark runs end to end at a tiny size and returns sane, structured figures.

No timing thresholds: only that every figure is there, positive, and measured on the
same rows (row counts agree, API and raw answers agree, statements were counted).
"""

from __future__ import annotations

from pathlib import Path

import orjson
import pytest

from bench.__main__ import QUICK_SIZES, parse_args
from bench.generate import Corpus, generate
from bench.imports import ImportReport, run_worker
from bench.ingest import ingest
from bench.queries import bench_queries
from bench.timing import Plan, summarize

SIZE = 300
TINY_PLAN = Plan(warmup=1, iterations=3, budget_s=0.05, minimum=2)


@pytest.fixture(scope="module")
def corpus(tmp_path_factory: pytest.TempPathFactory) -> Corpus:
    return generate(tmp_path_factory.mktemp("corpus"), SIZE, seed=3)


@pytest.fixture(scope="module")
def db_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("dbs")


@pytest.fixture(scope="module")
def imported(corpus: Corpus, db_dir: Path) -> ImportReport:
    """The corpus filled three ways, in process."""
    report = ImportReport("smoke", corpus)
    for mode in ("importer", "store", "raw"):
        report.results[mode] = ingest(mode, corpus.root, db_dir / f"{mode}.db")
    return report


def test_corpus_is_claude_code_shaped(corpus: Corpus) -> None:
    assert SIZE <= corpus.messages <= SIZE + 5
    assert 0.55 < corpus.event_share < 0.85
    mains = list(corpus.root.glob("*/*.jsonl"))
    assert len(mains) == corpus.sessions > 0
    assert corpus.files == len(list(corpus.root.rglob("*.jsonl")))
    kinds = set()
    for path in mains:
        for line in path.read_bytes().splitlines():
            record = orjson.loads(line)
            kinds.add(record["type"])
            if record["type"] == "assistant":
                assert len(record["message"]["content"]) == 1
                assert record["requestId"].startswith("req_")
    assert {"user", "assistant", "progress", "system", "file-history-snapshot"} <= kinds


def test_generation_is_deterministic(corpus: Corpus, tmp_path: Path) -> None:
    again = generate(tmp_path, SIZE, seed=3)
    first = sorted(p.relative_to(corpus.root) for p in corpus.root.rglob("*.jsonl"))
    assert first == sorted(p.relative_to(again.root) for p in again.root.rglob("*.jsonl"))
    for rel in first:
        assert (corpus.root / rel).read_bytes() == (again.root / rel).read_bytes()


def test_import_figures(imported: ImportReport) -> None:
    corpus = imported.corpus
    for mode, result in imported.results.items():
        assert result.messages == corpus.messages, mode
        assert result.events == corpus.events, mode
        assert result.nbytes == corpus.bytes
        assert result.seconds > 0 and result.messages_per_s > 0 and result.mb_per_s > 0
        assert result.peak_rss_mb > 0
    assert imported.results["raw"].statements > corpus.messages
    ratio = imported.ratio()
    assert ratio is not None and ratio > 0


def test_worker_subprocess_reports_its_own_rss(corpus: Corpus, tmp_path: Path) -> None:
    result = run_worker("raw", corpus.root, tmp_path / "worker.db")
    assert result.mode == "raw"
    assert result.messages == corpus.messages
    assert 0 < result.peak_rss_mb < 2_000


async def test_query_figures(imported: ImportReport, db_dir: Path) -> None:
    report = await bench_queries(db_dir / "importer.db", TINY_PLAN, "smoke")
    assert report.messages == imported.corpus.messages
    names = [case.name.split()[0] for case in report.cases]
    assert names == ["sessions(first:", "session", "nested:", "usage(groupBy:"]
    assert report.cases[-1].api_statements == 1  # the usage aggregate is one statement
    for case in report.cases:
        assert case.matches, case.name
        assert case.api_statements > 0 and case.raw_statements > 0
        assert case.ratio > 0 and case.http_ratio > 0
        for timing in (case.api, case.http, case.raw):
            assert timing.samples >= TINY_PLAN.minimum
            assert 0 < timing.p50_ms <= timing.p95_ms


def test_summarize_percentiles() -> None:
    timing = summarize([i / 1000 for i in range(1, 101)])
    assert (timing.samples, timing.p50_ms, timing.p95_ms) == (100, 50.0, 95.0)


def test_cli_options() -> None:
    quick = parse_args(["--quick"])
    assert quick.sizes == QUICK_SIZES and quick.keep is None
    custom = parse_args(["--messages", "10000,100_000", "--only", "import"])
    assert custom.sizes == [10_000, 100_000] and custom.only == "import"
    with pytest.raises(SystemExit):
        parse_args(["--messages", "ten"])
