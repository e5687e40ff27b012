"""Serving benchmark (issue 6): requests per second over loopback, beside bare Starlette.

Two uvicorn processes with the same settings (:mod:`bench.serve_app`): sessiongraph's
app over a filled database, token required, and a bare Starlette app answering a
constant JSON body. A load generator in this process keeps ``concurrency`` keep-alive
connections busy, each sending its next request as soon as the previous answer is in
(closed loop), until ``requests`` answers are in or ``max_seconds`` have passed, after
``warmup`` untimed requests. Reported per request: answers per second, p50/p95 latency,
and the ratio to the bare app's answers per second.

The load generator speaks HTTP/1.1 on asyncio streams itself: an httpx client costs
more CPU per request than a bare Starlette answer, and on a 2-core machine that would
be measuring the client. Each answer's status is checked; each kind of request is
checked once for its content (no GraphQL errors, the expected data).

Traffic goes to 127.0.0.1 only; every loop is bounded in count and time; the server
processes are terminated (then killed) whatever happens.
"""

from __future__ import annotations

import asyncio
import gzip
import os
import secrets
import sqlite3
import sys
import tempfile
import time
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager, suppress
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, Final

import orjson

from bench.serve_app import HOST, TOKEN_ENV, server_stack
from bench.timing import Timing, summarize

__all__ = [
    "HEALTH",
    "SESSION_PAGE",
    "ServeCase",
    "ServePlan",
    "ServeReport",
    "bench_serve",
]

_ROOT = Path(__file__).resolve().parent.parent  # where ``bench`` can be imported from

HEALTH: Final = "{ health { ok } }"
SESSION_PAGE: Final = (
    "{ sessions(first: 50) { edges { node { sessionId title startedAt messageCount "
    "tokenUsage { total } } } } }"
)
_START_TIMEOUT_S: Final = 60.0  # a server that is not answering by then is a failure
_REQUEST_TIMEOUT_S: Final = 30.0
_STOP_TIMEOUT_S: Final = 10.0


@dataclass(frozen=True, slots=True)
class ServePlan:
    """How much load: per case, ``warmup`` untimed requests, then ``requests`` timed ones
    or ``max_seconds`` of them, whichever ends first, over ``concurrency`` connections."""

    requests: int = 2_000
    warmup: int = 200
    concurrency: int = 8
    max_seconds: float = 10.0


@dataclass(frozen=True, slots=True)
class ServeCase:
    """One kind of request under load."""

    name: str
    server: str  # "sessiongraph" or "bare Starlette"
    request: str
    requests: int
    seconds: float
    latency: Timing
    failures: int  # answers that were not 200
    response_bytes: int
    server_cpu: float | None  # CPU seconds of the server process per second (1.0: a core)
    client_cpu: float  # the same for this process, the load generator

    @property
    def per_second(self) -> float:
        return self.requests / self.seconds if self.seconds else 0.0


@dataclass(frozen=True, slots=True)
class ServeReport:
    label: str
    sessions: int
    messages: int
    stack: str
    plan: ServePlan
    cases: list[ServeCase] = field(default_factory=list)

    @property
    def bare(self) -> ServeCase:
        return next(case for case in self.cases if case.server == "bare Starlette")

    def ratio(self, case: ServeCase) -> float:
        """``case``'s answers per second over the bare app's."""
        bare = self.bare.per_second
        return case.per_second / bare if bare else 0.0

    def to_dict(self) -> dict[str, Any]:
        return {
            **{k: v for k, v in asdict(self).items() if k != "cases"},
            "cases": [
                {**asdict(c), "per_second": c.per_second, "ratio_to_bare": self.ratio(c)}
                for c in self.cases
            ],
        }


# ------------------------------------------------------------------ HTTP/1.1 client


class _Connection:
    """One keep-alive HTTP/1.1 connection to the loopback server."""

    def __init__(self, port: int) -> None:
        self.port = port
        self._streams: tuple[asyncio.StreamReader, asyncio.StreamWriter] | None = None

    async def connect(self) -> tuple[asyncio.StreamReader, asyncio.StreamWriter]:
        if self._streams is None:
            self._streams = await asyncio.open_connection(HOST, self.port)
        return self._streams

    async def request(self, raw: bytes) -> tuple[int, bytes, dict[bytes, bytes]]:
        """Send ``raw`` (a whole request); the status, body and headers of the answer."""
        reader, writer = await self.connect()
        writer.write(raw)
        head = await reader.readuntil(b"\r\n\r\n")
        status_line, *lines = head[:-4].split(b"\r\n")
        status = int(status_line.split(b" ", 2)[1])
        headers = {}
        for line in lines:
            name, _, value = line.partition(b":")
            headers[name.strip().lower()] = value.strip()
        if b"content-length" in headers:
            body = await reader.readexactly(int(headers[b"content-length"]))
        elif headers.get(b"transfer-encoding", b"").lower() == b"chunked":
            body = await self._chunks(reader)
        else:
            body = await reader.read()  # until the server closes
        if headers.get(b"connection", b"").lower() == b"close" or reader.at_eof():
            self.close()
        return status, body, headers

    @staticmethod
    async def _chunks(reader: asyncio.StreamReader) -> bytes:
        parts: list[bytes] = []
        while True:
            size = int((await reader.readuntil(b"\r\n")).split(b";")[0], 16)
            if size == 0:
                await reader.readuntil(b"\r\n")  # no trailers are sent
                return b"".join(parts)
            parts.append((await reader.readexactly(size + 2))[:-2])

    def close(self) -> None:
        if self._streams is not None:
            self._streams[1].close()
            self._streams = None


def _request(port: int, query: str, token: str, *, gzip_ok: bool = False) -> bytes:
    """A POST of ``query`` to /graphql, as bytes."""
    body = orjson.dumps({"query": query})
    lines = [
        "POST /graphql HTTP/1.1",
        f"Host: {HOST}:{port}",
        "Content-Type: application/json",
        "Accept: application/json",
        f"Authorization: Bearer {token}",
        f"Content-Length: {len(body)}",
    ]
    if gzip_ok:
        lines.append("Accept-Encoding: gzip")
    return ("\r\n".join(lines) + "\r\n\r\n").encode("ascii") + body


async def _load(
    port: int, raw: bytes, count: int, concurrency: int, max_seconds: float
) -> tuple[list[float], float, int]:
    """Up to ``count`` requests over ``concurrency`` connections, for at most
    ``max_seconds``: the latencies, the seconds taken, and the non-200 answers."""
    connections = [_Connection(port) for _ in range(concurrency)]
    latencies: list[float] = []
    failures = 0
    remaining = count
    try:
        for connection in connections:  # connect before the clock starts
            await connection.connect()
        started = time.perf_counter()
        stop_at = started + max_seconds

        async def worker(connection: _Connection) -> None:
            nonlocal remaining, failures
            while remaining > 0 and time.perf_counter() < stop_at:
                remaining -= 1
                t0 = time.perf_counter()
                status, _, _ = await asyncio.wait_for(connection.request(raw), _REQUEST_TIMEOUT_S)
                latencies.append(time.perf_counter() - t0)
                failures += status != 200

        await asyncio.gather(*(worker(c) for c in connections))
        return latencies, time.perf_counter() - started, failures
    finally:
        for connection in connections:
            connection.close()


# ------------------------------------------------------------------------ servers


@asynccontextmanager
async def _server(
    kind: str, db: Path | None, token: str, log: Path
) -> AsyncIterator[tuple[int, int]]:
    """A ``bench.serve_app`` process; yields its port and pid once it answers."""
    env = {
        **os.environ,
        TOKEN_ENV: token,
        "PYTHONPATH": os.pathsep.join(filter(None, (str(_ROOT), os.environ.get("PYTHONPATH")))),
    }
    args = [sys.executable, "-m", "bench.serve_app", kind, *([str(db)] if db else [])]
    with log.open("ab") as log_file:
        process = await asyncio.create_subprocess_exec(
            *args,
            cwd=_ROOT,
            env=env,
            stdin=asyncio.subprocess.DEVNULL,
            stdout=asyncio.subprocess.PIPE,
            stderr=log_file,
        )
    try:
        assert process.stdout is not None
        try:
            line = await asyncio.wait_for(process.stdout.readline(), _START_TIMEOUT_S)
            port = int(line)
        except (TimeoutError, ValueError):
            raise RuntimeError(f"{kind} server did not start:\n{_tail(log)}") from None
        await _until_ready(port, token, process, log)
        yield port, process.pid
    finally:
        if process.returncode is None:
            process.terminate()
            try:
                await asyncio.wait_for(process.wait(), _STOP_TIMEOUT_S)
            except TimeoutError:
                process.kill()
                await process.wait()


async def _until_ready(port: int, token: str, process: Any, log: Path) -> None:
    """Poll with ``{ health { ok } }`` until it is answered with 200 (bounded)."""
    raw = _request(port, HEALTH, token)
    deadline = time.perf_counter() + _START_TIMEOUT_S
    while time.perf_counter() < deadline:
        if process.returncode is not None:
            raise RuntimeError(f"server exited with {process.returncode}:\n{_tail(log)}")
        connection = _Connection(port)
        try:
            status, _, _ = await asyncio.wait_for(connection.request(raw), 5.0)
            if status == 200:
                return
        except (OSError, TimeoutError, asyncio.IncompleteReadError):
            pass
        finally:
            connection.close()
        await asyncio.sleep(0.1)
    raise RuntimeError(f"server on port {port} not ready in {_START_TIMEOUT_S:.0f}s")


def _cpu_seconds(pid: int) -> float | None:
    """User + system CPU time of process ``pid`` (Linux ``/proc``; None elsewhere)."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    fields = stat.rpartition(")")[2].split()  # after the command name, which may hold spaces
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def _tail(log: Path) -> str:
    with suppress(OSError):
        return log.read_text(errors="replace")[-3000:]
    return ""


# -------------------------------------------------------------------------- cases


@dataclass(frozen=True, slots=True)
class _Case:
    name: str
    query: str
    check: Callable[[Any], bool]
    gzip_ok: bool = False


def _health_ok(body: Any) -> bool:
    return bool(body == {"data": {"health": {"ok": True}}})


def _page_of(sessions: int) -> Callable[[Any], bool]:
    """Whether an answer is a page of ``min(50, sessions)`` sessions, without errors."""

    def ok(body: Any) -> bool:
        edges = body.get("data", {}).get("sessions", {}).get("edges", [])
        return (
            "errors" not in body
            and len(edges) == min(50, sessions)
            and all("total" in edge["node"]["tokenUsage"] for edge in edges)
        )

    return ok


async def _run_case(
    port: int, pid: int, token: str, case: _Case, server: str, plan: ServePlan
) -> ServeCase:
    raw = _request(port, case.query, token, gzip_ok=case.gzip_ok)
    connection = _Connection(port)
    try:
        status, body, headers = await asyncio.wait_for(connection.request(raw), 30.0)
    finally:
        connection.close()
    size = len(body)
    if headers.get(b"content-encoding") == b"gzip":
        body = gzip.decompress(body)
    if status != 200 or not case.check(orjson.loads(body)):
        raise RuntimeError(f"{case.name}: unexpected answer {status}: {body[:500]!r}")
    await _load(port, raw, plan.warmup, plan.concurrency, plan.max_seconds)
    server_before, client_before = _cpu_seconds(pid), time.process_time()
    latencies, seconds, failures = await _load(
        port, raw, plan.requests, plan.concurrency, plan.max_seconds
    )
    server_after, client_cpu = _cpu_seconds(pid), time.process_time() - client_before
    server_cpu = None
    if server_before is not None and server_after is not None:
        server_cpu = (server_after - server_before) / seconds
    return ServeCase(
        name=case.name,
        server=server,
        request=case.query,
        requests=len(latencies),
        seconds=seconds,
        latency=summarize(latencies),
        failures=failures,
        response_bytes=size,
        server_cpu=server_cpu,
        client_cpu=client_cpu / seconds,
    )


def _db_counts(db: Path) -> tuple[int, int]:
    conn = sqlite3.connect(f"file:{db}?mode=ro", uri=True)
    try:
        row = conn.execute(
            "SELECT (SELECT count(*) FROM sessions), (SELECT count(*) FROM messages)"
        ).fetchone()
    finally:
        conn.close()
    return int(row[0]), int(row[1])


async def bench_serve(db: Path, plan: ServePlan | None = None, label: str = "") -> ServeReport:
    """Load sessiongraph's app over ``db`` (filled, migrated) and a bare Starlette app."""
    plan = plan or ServePlan()
    token = secrets.token_urlsafe(24)
    sessions, messages = _db_counts(db)
    report = ServeReport(label, sessions, messages, server_stack(), plan)
    graph_cases = [
        _Case("trivial: { health { ok } }", HEALTH, _health_ok),
        _Case("50-session page", SESSION_PAGE, _page_of(sessions)),
        _Case("50-session page, gzip", SESSION_PAGE, _page_of(sessions), gzip_ok=True),
    ]
    # The bare app is sent the trivial query's bytes and answers what it would answer.
    bare_case = _Case("constant JSON", HEALTH, _health_ok)
    with tempfile.TemporaryDirectory(prefix="sessiongraph-serve-") as tmp:
        log = Path(tmp) / "server.log"
        async with _server("graph", db, token, log) as (port, pid):
            for case in graph_cases:
                report.cases.append(await _run_case(port, pid, token, case, "sessiongraph", plan))
        async with _server("bare", None, token, log) as (port, pid):
            report.cases.append(
                await _run_case(port, pid, token, bare_case, "bare Starlette", plan)
            )
    return report
