"""The encryption benchmark runs end to end at a tiny size and returns sane figures.

No timing thresholds: only that both imports stored the whole corpus, that the encrypted
database really is one, that every request was timed in both databases with a ratio,
and that both databases gave the same answers.
"""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path

import pytest

from bench.encryption import (
    COMMON_WORD,
    PHRASE,
    EncryptionReport,
    bench_encryption,
    encryption_tables,
    parse_args,
    pick_rare_word,
)
from bench.timing import Plan

SIZE = 150
TINY_PLAN = Plan(warmup=1, iterations=3, budget_s=0.05, minimum=2)


@pytest.fixture(scope="module")
def workdir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("encryption-bench")


@pytest.fixture(scope="module")
def report(workdir: Path) -> EncryptionReport:
    return bench_encryption(workdir, SIZE, TINY_PLAN, seed=3, rounds=1)


def _crypto_meta(db: Path) -> list[str]:
    conn = sqlite3.connect(f"file:{db}?mode=ro", uri=True)
    try:
        return [row[0] for row in conn.execute("SELECT key FROM meta WHERE key LIKE 'crypto.%'")]
    finally:
        conn.close()


def test_both_imports_stored_the_corpus(report: EncryptionReport, workdir: Path) -> None:
    corpus = report.corpus
    assert SIZE <= corpus.messages <= SIZE + 5
    for mode in ("plain", "encrypted"):
        [result] = report.imports[mode]
        assert result.mode == mode
        assert (result.messages, result.events) == (corpus.messages, corpus.events)
        assert result.nbytes == corpus.bytes
        assert result.seconds > 0 and result.messages_per_s > 0 and result.mb_per_s > 0
        assert result.peak_rss_mb > 0 and result.db_mb > 0
    assert report.import_ratio > 0
    assert _crypto_meta(workdir / "plain.db") == []
    assert "crypto.check" in _crypto_meta(workdir / "encrypted.db")


def test_requests_timed_in_both(report: EncryptionReport) -> None:
    names = [case.name for case in report.cases]
    assert names[0] == "search: common word" and names[-1].startswith("50 sessions")
    assert "search: phrase" in names
    queries = {case.query for case in report.cases}
    assert {COMMON_WORD, PHRASE} <= queries
    if report.rare_word:
        assert report.rare_word in queries
    for case in report.cases:
        assert case.same_answer, case.name
        assert case.ratio > 0 and case.p95_ratio > 0
        assert case.plain_statements > 0 and case.encrypted_statements > 0
        if case.hits or not case.query:  # the encrypted answer was decrypted
            assert case.decryptions > 0, case.name
        for timing in (case.plain, case.encrypted):
            assert timing.samples >= TINY_PLAN.minimum
            assert 0 < timing.p50_ms <= timing.p95_ms
    # A corpus this small may not hold the phrase; the common word it does.
    assert report.cases[0].hits > 0


def test_rare_word_is_rarer_than_the_common_one(report: EncryptionReport, workdir: Path) -> None:
    rare = pick_rare_word(workdir / "plain.db")
    assert rare == (report.rare_word or None)
    by_query = {case.query: case for case in report.cases}
    if rare is not None:
        assert 0 < by_query[rare].hits <= by_query[COMMON_WORD].hits


def test_tables_and_json(report: EncryptionReport) -> None:
    imports, requests = encryption_tables(report)
    assert imports.row_count >= 2 and requests.row_count == len(report.cases)
    data = json.loads(json.dumps(report.to_dict()))
    assert data["import_ratio"] > 0
    assert all(case["ratio"] > 0 for case in data["cases"])


def test_cli_options() -> None:
    assert parse_args(["--quick"]).quick
    assert parse_args(["--messages", "2000", "--rounds", "3"]).rounds == 3
    with pytest.raises(SystemExit):
        parse_args(["--messages", "10"])
