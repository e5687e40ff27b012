"""Subscriptions over graphql-transport-ws, end to end: a real server, a real client,
``import --watch`` following a transcript that grows, reconnects, refusals, and the feed's
cost per tick."""

from __future__ import annotations

import asyncio
import json
import os
import socket
import subprocess
import sys
import time
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
import websockets
from websockets.typing import Subprotocol

from graph.feed import ChangeFeed, FellBehind, Subscriber
from graph.store import Store
from tests.conftest import TOKEN
from tests.factories import make_sessions

SESSION = "11111111-2222-4333-8444-555555555555"
ACTIVITY = """subscription($sid: ID!, $after: String) {
  sessionActivity(sessionId: $sid, after: $after) {
    cursor node { __typename ... on Message { uuid role text } ... on Event { uuid type } }
  }
}"""


def _line(n: int) -> str:
    if n % 3 == 2:  # an event between messages: delivered where it was written
        return (
            json.dumps(
                {
                    "type": "system",
                    "subtype": "note",
                    "sessionId": SESSION,
                    "uuid": f"u-{n}",
                    "timestamp": f"2026-03-01T00:00:{n:02d}.000Z",
                    "content": f"note {n}",
                }
            )
            + "\n"
        )
    return (
        json.dumps(
            {
                "type": "user",
                "sessionId": SESSION,
                "uuid": f"u-{n}",
                "timestamp": f"2026-03-01T00:00:{n:02d}.000Z",
                "cwd": "/home/dev/live",
                "message": {"role": "user", "content": f"live prompt number {n}"},
            }
        )
        + "\n"
    )


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def _serve(db: Path, port: int, env: dict[str, str]) -> subprocess.Popen[bytes]:
    """``sessiongraph serve`` on ``port``, once it answers /healthz."""
    server = subprocess.Popen(
        [sys.executable, "-m", "graph", "serve", "--db", str(db), "--port", str(port)],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    deadline = time.monotonic() + 30
    while True:
        try:
            if httpx.get(f"http://127.0.0.1:{port}/healthz", timeout=1).is_success:
                return server
        except httpx.TransportError:
            pass
        if server.poll() is not None or time.monotonic() > deadline:
            server.kill()
            assert server.stderr is not None
            raise AssertionError(f"server did not start: {server.stderr.read()!r}")
        time.sleep(0.1)


@pytest.fixture
def live(tmp_path: Path) -> Iterator[dict[str, Any]]:
    """A served database, and `import --watch` following one growing transcript."""
    project = tmp_path / "projects" / "-home-dev-live"
    project.mkdir(parents=True)
    transcript = project / f"{SESSION}.jsonl"
    transcript.write_text(_line(0))
    db, port = tmp_path / "live.db", _free_port()
    env = {**os.environ, "SESSIONGRAPH_TOKEN": TOKEN, "XDG_CONFIG_HOME": str(tmp_path / "c")}
    base = [sys.executable, "-m", "graph"]
    subprocess.run(
        [*base, "import", str(tmp_path / "projects"), "--db", str(db), "--json"],
        env=env,
        check=True,
        capture_output=True,
        timeout=60,
    )
    watcher = subprocess.Popen(
        [*base, "import", str(tmp_path / "projects"), "--db", str(db), "--watch", "--json"],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    server = None
    try:
        server = _serve(db, port, env)
        yield {"port": port, "transcript": transcript}
    finally:
        for process in (watcher, server):
            if process is not None:
                process.terminate()
                process.wait(timeout=10)


@pytest.fixture(scope="module")
def served_port(tmp_path_factory: pytest.TempPathFactory) -> Iterator[int]:
    """One server for the refusal tests (they write nothing): started once, not per test."""
    tmp = tmp_path_factory.mktemp("refusals")
    port = _free_port()
    env = {**os.environ, "SESSIONGRAPH_TOKEN": TOKEN, "XDG_CONFIG_HOME": str(tmp / "c")}
    server = _serve(tmp / "s.db", port, env)
    try:
        yield port
    finally:
        server.terminate()
        server.wait(timeout=10)


async def _connect(port: int, token: str | None = TOKEN, origin: str | None = None) -> Any:
    headers = {"origin": origin} if origin else None
    ws = await websockets.connect(
        f"ws://127.0.0.1:{port}/graphql",
        subprotocols=[Subprotocol("graphql-transport-ws")],
        additional_headers=headers,
        open_timeout=10,
    )
    payload = {"authorization": f"Bearer {token}"} if token else {}
    await ws.send(json.dumps({"type": "connection_init", "payload": payload}))
    return ws


async def _subscribe(ws: Any, variables: dict[str, Any], query: str = ACTIVITY) -> None:
    ack = json.loads(await asyncio.wait_for(ws.recv(), 10))
    assert ack["type"] == "connection_ack", ack
    await ws.send(
        json.dumps(
            {"id": "1", "type": "subscribe", "payload": {"query": query, "variables": variables}}
        )
    )


async def _next(ws: Any, count: int) -> list[dict[str, Any]]:
    items: list[dict[str, Any]] = []
    while len(items) < count:
        frame = json.loads(await asyncio.wait_for(ws.recv(), 15))
        assert frame["type"] == "next", frame
        assert "errors" not in frame["payload"], frame
        items.append(frame["payload"]["data"]["sessionActivity"])
    return items


async def test_appended_lines_arrive_live_in_order_and_resume_exactly(
    live: dict[str, Any],
) -> None:
    port, transcript = live["port"], live["transcript"]
    ws = await _connect(port)
    await _subscribe(ws, {"sid": SESSION})
    await asyncio.sleep(0.3)  # subscribed before the first new line is written
    with transcript.open("a") as handle:  # one write: one import batch, mixed kinds
        handle.write(_line(1) + _line(2) + _line(3))
    received = await _next(ws, 3)
    assert [item["node"]["uuid"] for item in received] == ["u-1", "u-2", "u-3"]
    assert [item["node"]["__typename"] for item in received] == ["Message", "Event", "Message"]
    assert received[0]["node"]["text"] == "live prompt number 1"
    await ws.close()

    with transcript.open("a") as handle:  # missed while disconnected
        handle.write(_line(4) + _line(5))
    await asyncio.sleep(1.5)
    ws = await _connect(port)
    await _subscribe(ws, {"sid": SESSION, "after": received[-1]["cursor"]})
    resumed = await _next(ws, 2)
    assert [item["node"]["uuid"] for item in resumed] == ["u-4", "u-5"]
    assert [item["node"]["__typename"] for item in resumed] == ["Message", "Event"]
    with transcript.open("a") as handle:
        handle.write(_line(6))
    [live_again] = await _next(ws, 1)
    assert live_again["node"]["uuid"] == "u-6"  # and not u-4/u-5 a second time
    await ws.close()


async def test_sessions_changed_reports_counts(live: dict[str, Any]) -> None:
    port, transcript = live["port"], live["transcript"]
    ws = await _connect(port)
    await _subscribe(
        ws,
        {"p": "-home-dev-live"},
        "subscription($p: String) { sessionsChanged(filter: {project: $p}) {"
        " sessionId messageCount lastActivityAt } }",
    )
    await asyncio.sleep(0.3)
    with transcript.open("a") as handle:
        handle.write(_line(7))
    frame = json.loads(await asyncio.wait_for(ws.recv(), 15))
    changed = frame["payload"]["data"]["sessionsChanged"]
    assert changed["sessionId"] == SESSION and changed["messageCount"] >= 2
    assert changed["lastActivityAt"].startswith("2026-03-01T00:00:07")
    await ws.close()


@pytest.mark.parametrize("token", [None, "wrong-token-0123456789"])
async def test_a_missing_or_wrong_token_closes_with_4401(
    served_port: int, token: str | None
) -> None:
    ws = await _connect(served_port, token=token)
    with pytest.raises(websockets.ConnectionClosed) as closed:
        await asyncio.wait_for(ws.recv(), 10)
    assert closed.value.rcvd is not None and closed.value.rcvd.code == 4401


async def test_a_foreign_origin_is_refused(served_port: int) -> None:
    async def attempt() -> None:
        ws = await _connect(served_port, origin="https://evil.example")
        await asyncio.wait_for(ws.recv(), 10)

    with pytest.raises((websockets.InvalidStatus, websockets.ConnectionClosed)):
        await attempt()


# the feed itself


@pytest.fixture
async def feed(store: Store) -> AsyncIterator[ChangeFeed]:
    await make_sessions(store, 2)
    feed = ChangeFeed(store.path, poll_seconds=3600)  # ticks driven by the test
    await feed.start()
    try:
        yield feed
    finally:
        await feed.close()


async def _tick_cost(store: Store, feed: ChangeFeed, subscribers: int) -> int:
    subs = [
        feed.subscribe(Subscriber(session_pk=1, wants_sessions=False)) for _ in range(subscribers)
    ]
    subs += [
        feed.subscribe(Subscriber(session_pk=None, wants_sessions=True)) for _ in range(subscribers)
    ]
    await make_sessions(store, 1, start=10_000_000)  # touches a new session
    from graph.store import NewEvent

    async with store.write() as writer:
        await writer.add_events(
            1, 1, [NewEvent(900 + subscribers, "system", "2026-05-01T00:00:00.000Z", {"x": 1})]
        )
    before = feed.statements.count
    assert await feed.tick() > 0
    cost = feed.statements.count - before
    assert all(not s.queue.empty() for s in subs)
    for s in subs:
        feed.unsubscribe(s)
    return cost


async def test_tick_cost_does_not_grow_with_subscribers(store: Store, feed: ChangeFeed) -> None:
    one = await _tick_cost(store, feed, 1)
    hundred = await _tick_cost(store, feed, 100)
    assert one == hundred <= 5
    before = feed.statements.count
    assert await feed.tick() == 0  # nothing committed: one PRAGMA data_version
    assert feed.statements.count - before == 1


async def test_a_slow_subscriber_is_cut_off_without_stalling_others(
    store: Store, feed: ChangeFeed
) -> None:
    slow = feed.subscribe(Subscriber(session_pk=1, wants_sessions=False))
    slow.queue = asyncio.Queue(maxsize=2)
    fast = feed.subscribe(Subscriber(session_pk=1, wants_sessions=False))
    from graph.store import NewEvent

    async with store.write() as writer:
        await writer.add_events(
            1,
            1,
            [NewEvent(5000 + n, "system", "2026-05-01T00:00:00.000Z", {"n": n}) for n in range(10)],
        )
    await feed.tick()
    assert fast.queue.qsize() == 10 and slow.lagged
    await slow.next()
    await slow.next()
    with pytest.raises(FellBehind):
        await slow.next()


async def test_closing_the_feed_ends_subscriptions(store: Store, feed: ChangeFeed) -> None:
    from graph.feed import is_closed

    waiting = feed.subscribe(Subscriber(session_pk=1, wants_sessions=False))
    await feed.close()
    assert is_closed(await asyncio.wait_for(waiting.next(), 1))
