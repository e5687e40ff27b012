"""Reading in a worker process: the same rows and index as reading here, and its failures."""

from __future__ import annotations

import os
import site
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

import graph.importers.importer as importer_module
import graph.importers.reading as reading_module
from graph.importers.batch import UNREADABLE
from graph.importers.importer import import_paths
from graph.importers.reading import FileJob, Limits, read_here
from graph.importers.worker import WorkerError, WorkerReader, worker_environment
from graph.search.analysis import Analysis
from graph.store import Store
from tests.test_import_support import copy_samples, query, snapshot


async def search_index(store: Store) -> dict[str, list[tuple[Any, ...]]]:
    """The index as FTS5 sees it (every token at every place), and the documents' table.

    Logical, not the segments' bytes: the worker groups batches into transactions
    differently (smaller first and last groups), which lays the segments out otherwise.
    """
    async with store.write() as writer:
        conn = writer.connection
        await conn.execute(
            "CREATE VIRTUAL TABLE IF NOT EXISTS temp.vocab"
            " USING fts5vocab(main, search_fts, instance)"
        )
        tokens = await conn.execute_fetchall(
            "SELECT term, doc, col, offset FROM temp.vocab ORDER BY 1, 2, 3, 4"
        )
    docs = await query(store, "SELECT * FROM search_docs ORDER BY rowid")
    return {"tokens": [tuple(row) for row in tokens], "docs": docs}


async def imported(tmp_path: Path, tree: Path, name: str, *, worker: bool) -> dict[str, Any]:
    store = await Store.open(tmp_path / f"{name}.db")
    try:
        summary = await import_paths(store, [tree], worker=worker)
        return {
            "rows": await snapshot(store),
            "search": await search_index(store),
            "summary": (summary.files_read, summary.lines_read, summary.bytes_read),
            "problems": sorted(str(p) for p in summary.problems),
        }
    finally:
        await store.close()


@pytest.mark.parametrize("batch_lines", [importer_module.BATCH_LINES, 7])
async def test_the_worker_stores_what_reading_here_stores(
    samples_dir: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, batch_lines: int
) -> None:
    # 7 lines a batch: API messages split across batches and groups, many transactions;
    # what the worker stores so is what reading here stores in whole batches.
    tree = copy_samples(samples_dir, tmp_path / "projects")
    (tree / "broken.jsonl").write_bytes(b'{"type": "user"\nnot json\n[1, 2]\n')
    here = await imported(tmp_path, tree, "here", worker=False)
    monkeypatch.setattr(importer_module, "BATCH_LINES", batch_lines)
    there = await imported(tmp_path, tree, "worker", worker=True)
    assert there["rows"]["messages"] and len(there["search"]["tokens"]) > 10_000
    assert there == here  # rows, every token of the index, and the problems


async def test_a_worker_that_dies_fails_the_import_and_loses_nothing(
    samples_dir: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(importer_module, "BATCH_LINES", 7)
    tree = copy_samples(samples_dir, tmp_path / "projects")
    readers: list[WorkerReader] = []
    real_init = WorkerReader.__init__

    def remember(self: WorkerReader) -> None:
        real_init(self)
        readers.append(self)

    real_write = importer_module._Importer._write
    writes = 0

    async def kill_after_two(self: Any, chunks: Any) -> None:
        nonlocal writes
        await real_write(self, chunks)
        writes += 1
        if writes == 2:
            readers[0]._process.kill()

    monkeypatch.setattr(WorkerReader, "__init__", remember)
    monkeypatch.setattr(importer_module._Importer, "_write", kill_after_two)
    store = await Store.open(tmp_path / "killed.db")
    try:
        with pytest.raises(WorkerError, match=r"was killed \(SIGKILL\)"):
            await import_paths(store, [tree], worker=True)
        assert readers[0]._process.poll() is not None
        monkeypatch.setattr(importer_module._Importer, "_write", real_write)
        # The groups committed before it died stay, with their files' states: the next
        # run carries on from there, in whole batches (a file's state is its offset,
        # whatever batches wrote it), and ends where a clean import would.
        monkeypatch.setattr(importer_module, "BATCH_LINES", reading_module.BATCH_LINES)
        await import_paths(store, [tree], worker=True)
        after = await snapshot(store)
    finally:
        await store.close()
    # What a clean import stores whatever the batches (see the test above).
    fresh = await imported(tmp_path, tree, "fresh", worker=False)
    assert after == fresh["rows"]


async def test_a_failure_inside_the_worker_comes_back_with_its_traceback(tmp_path: Path) -> None:
    path = tmp_path / "a.jsonl"
    path.write_bytes(b'{"type": "user"}\n')
    reader = WorkerReader()
    try:
        bad = FileJob(str(path), "not an offset", 0, None, 0)  # type: ignore[arg-type]
        with pytest.raises(WorkerError, match="TypeError"):
            async for _ in reader.groups([bad], None, Limits()):
                pass
    finally:
        reader.close()


async def test_the_worker_reports_a_file_it_cannot_open(tmp_path: Path) -> None:
    present = tmp_path / "a.jsonl"
    present.write_bytes(b'{"type": "user", "uuid": "u1", "message": {"content": "hi"}}\n')
    jobs = [
        FileJob(str(tmp_path / "gone.jsonl"), 0, 0, None, 0),
        FileJob(str(present), 0, 0, None, 0),
    ]
    reader = WorkerReader()
    try:
        groups = [group async for group in reader.groups(jobs, Analysis(), Limits())]
    finally:
        reader.close()
    pieces = [piece for group in groups for piece in group]
    assert [(p.job, p.problem is not None) for p in pieces] == [(0, True), (1, False)]
    assert pieces[0].problem is not None and pieces[0].problem.kind == UNREADABLE
    assert pieces[1].batch.lines == 1 and pieces[1].last
    # The same pieces as reading here, prepared the same way.
    here = [piece for group in read_here(jobs, Analysis()) for piece in group]
    assert [(p.job, p.offset, p.line_count, p.head) for p in pieces] == [
        (p.job, p.offset, p.line_count, p.head) for p in here
    ]
    message = next(iter(pieces[1].batch.messages.values()))
    assert (
        message.packed and message.document == next(iter(here[1].batch.messages.values())).document
    )


async def test_closing_the_reader_early_stops_the_worker(samples_dir: Path, tmp_path: Path) -> None:
    tree = copy_samples(samples_dir, tmp_path / "projects")
    jobs = [FileJob(str(p), 0, 0, None, 0) for p in sorted(tree.rglob("*.jsonl"))]
    reader = WorkerReader()
    async for _ in reader.groups(jobs, None, Limits(lines=3)):
        break  # the caller gives up (an error while storing, say)
    reader.close()
    assert reader._process.returncode is not None


@pytest.mark.parametrize(("threshold", "started"), [(1 << 40, 0), (1, 1)])
async def test_a_worker_starts_only_for_enough_bytes(
    samples_dir: Path,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    threshold: int,
    started: int,
) -> None:
    tree = copy_samples(samples_dir, tmp_path / "projects")
    monkeypatch.setattr(importer_module, "WORKER_MIN_BYTES", threshold)
    readers: list[WorkerReader] = []
    real_init = WorkerReader.__init__

    def remember(self: WorkerReader) -> None:
        real_init(self)
        readers.append(self)

    monkeypatch.setattr(WorkerReader, "__init__", remember)
    store = await Store.open(tmp_path / "auto.db")
    try:
        summary = await import_paths(store, [tree])
    finally:
        await store.close()
    assert summary.messages_added > 0
    assert len(readers) == started


def test_the_worker_starts_and_ends_with_small_groups(tmp_path: Path) -> None:
    path = tmp_path / "long.jsonl"
    line = b'{"type": "system", "uuid": "u", "content": "%s"}\n' % (b"x" * 200)
    path.write_bytes(line * 20_000)
    jobs = [FileJob(str(path), 0, 0, None, 0, path.stat().st_size)]
    limits = Limits(lines=4_000, nbytes=1 << 30)
    sizes = [
        sum(piece.batch.lines for piece in group)
        for group in read_here(jobs, None, limits, ramp=True)
    ]
    assert sum(sizes) == 20_000
    assert sizes[0] == 250  # 4,000 / 16
    assert max(sizes) == 4_000
    assert sizes[-1] < 1_000  # the end comes in small groups too
    assert sizes == sorted(sizes[: sizes.index(4_000) + 1]) + sizes[sizes.index(4_000) + 1 :]
    plain = [sum(p.batch.lines for p in g) for g in read_here(jobs, None, limits)]
    assert plain[:5] == [4_000] * 5 and sum(plain) == 20_000  # then the end-of-file piece


def test_the_worker_process_loads_neither_the_store_nor_asyncio() -> None:
    # What the worker runs: its start-up is paid on every large import.
    code = (
        "import sys; from graph.importers.reading import work; "
        "print(sorted(m for m in ('asyncio', 'aiosqlite', 'graph.store.store', "
        "'graph.importers.importer', 'cryptography') if m in sys.modules))"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert done.stdout.strip() == "[]"


def test_the_worker_is_lent_a_checkout_path_but_never_site_packages(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setenv("PYTHONPATH", "/elsewhere")
    checkout = worker_environment(tmp_path)
    assert checkout["PYTHONPATH"] == f"{tmp_path}{os.pathsep}/elsewhere"
    # PYTHONPATH goes before the standard library: site-packages there would shadow it.
    installed = worker_environment(Path(site.getsitepackages()[0]))
    assert installed["PYTHONPATH"] == "/elsewhere"


async def test_without_a_process_to_be_had_the_import_reads_here(
    samples_dir: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    def refuse(*args: Any, **kwargs: Any) -> None:
        raise OSError(11, "Resource temporarily unavailable")

    monkeypatch.setattr(subprocess, "Popen", refuse)
    tree = copy_samples(samples_dir, tmp_path / "projects")
    store = await Store.open(tmp_path / "fallback.db")
    try:
        summary = await import_paths(store, [tree], worker=True)
        rows = await snapshot(store)
    finally:
        await store.close()
    assert summary.messages_added == len(rows["messages"]) > 0
    assert rows == (await imported(tmp_path, tree, "here", worker=False))["rows"]


@pytest.mark.parametrize("worker", [False, True])
async def test_records_are_stored_as_the_lines_read(tmp_path: Path, worker: bool) -> None:
    lines = [
        b'{"type": "system", "sessionId": "s1", "uuid": "e1", "n": 1.50}\r\n',  # CRLF
        b'\xef\xbb\xbf{"type": "system", "sessionId": "s1", "uuid": "e2"}\n',  # BOM: repaired
        b'{"type":"user","sessionId":"s1","uuid":"u1","message":{"content":"hi"}}\n',
    ]
    path = tmp_path / "projects" / "p" / "s1.jsonl"
    path.parent.mkdir(parents=True)
    path.write_bytes(b"".join(lines))
    store = await Store.open(tmp_path / "lines.db")
    try:
        await import_paths(store, [path], worker=worker)
        events = await query(store, "SELECT seq, data FROM events ORDER BY seq")
        messages = await query(store, "SELECT content FROM messages")
    finally:
        await store.close()
    assert events == [
        (1, lines[0][:-2]),  # as written, less its line ending
        (2, b'{"type":"system","sessionId":"s1","uuid":"e2"}'),  # serialized from the record
    ]
    assert messages == [(b"[[3," + lines[2][:-1] + b"]]",)]
