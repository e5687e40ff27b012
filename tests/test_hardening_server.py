"""Server faults found in a break-it pass (issue #13), each held here."""

from __future__ import annotations

import asyncio
import json
import logging
import select
import socket
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import BinaryIO, Final

import httpx
import pytest
import uvicorn
import websockets
import websockets.sync.client
from graphql import ExecutionResult, parse
from starlette.requests import Request
from starlette.responses import Response
from websockets.typing import Origin, Subprotocol

from graph import jsontext
from graph.app import create_app
from graph.feed import ChangeFeed
from graph.schema import Context, build_schema
from graph.schema.limits import Shape, estimate_cost
from graph.serving import MAX_HEAD_BYTES, head_deadline_protocol
from graph.settings import ServerSettings
from graph.store import NewConversation, NewEvent, NewMessage, NewSession, Store, TokenTotals
from tests.conftest import TOKEN, GraphQL
from tests.factories import assistant_record, ts


def fan_out(n: int, leaf: str = "health { ok }") -> str:
    """A chain of fragments that each spread the next twice: 2^n copies of ``leaf``."""
    fragments = [f"fragment F{i} on Query {{ ...F{i + 1} ...F{i + 1} }}" for i in range(n)]
    return f"query {{ ...F0 }} {' '.join(fragments)} fragment F{n} on Query {{ {leaf} }}"


def test_limits_visit_each_fragment_once() -> None:
    document = parse(fan_out(40))
    shape = Shape(document)
    operation = document.definitions[0]
    assert shape.measure(operation.selection_set) == (1, 0)  # type: ignore[attr-defined]
    selection_sets = 1 + 41 + 1  # the operation's, one per fragment, health's
    assert shape.visits <= selection_sets
    aliased = parse(fan_out(40, "a: health { ok }"))
    assert Shape(aliased).measure(aliased.definitions[0].selection_set)[1] == 2**40  # type: ignore[attr-defined]
    costly = parse(fan_out(40, "sessions(first: 1) { totalCount }"))
    assert estimate_cost(costly, None, {}, 50) == 2**40


@pytest.mark.parametrize(
    ("leaf", "code"),
    [
        ("health { ok }", None),
        ("a: health { ok }", "TOO_MANY_ALIASES"),
        ("sessions(first: 1) { totalCount }", "QUERY_TOO_COSTLY"),
    ],
)
async def test_a_fragment_fan_out_is_answered_at_once_and_healthz_keeps_answering(
    client: httpx.AsyncClient, leaf: str, code: str | None
) -> None:
    query = fan_out(25, leaf)
    assert len(query) < 1_500
    bomb = asyncio.create_task(client.post("/graphql", json={"query": query}))
    health = await asyncio.wait_for(client.get("/healthz"), timeout=30)
    assert health.status_code == 200
    # Expanded, this is 33 million fields: minutes of validation before the fix.
    response = await asyncio.wait_for(bomb, timeout=30)
    body = response.json()
    if code is None:
        assert response.status_code == 200 and body["data"] == {"health": {"ok": True}}
    else:
        assert response.status_code == 400
        assert body["errors"][0]["extensions"]["code"] == code


async def test_fields_sharing_a_name_past_the_merge_budget_are_refused(
    client: httpx.AsyncClient,
) -> None:
    """Field merging compares every pair of same-named fields: 450 copies of one field are
    quadratic work (seconds on the event loop before); past the budget, a 400."""
    from graph.schema.validation import MERGE_BUDGET

    heavy = "{" + " ".join(["health { ok }"] * 450) + "}"
    response = await client.post("/graphql", json={"query": heavy})
    assert response.status_code == 400
    assert response.json()["errors"][0]["extensions"]["code"] == "QUERY_TOO_COMPLEX"
    # Real documents are far below the budget: a few copies merge as before.
    light = "{" + " ".join(["health { ok }"] * 20) + "}"
    response = await client.post("/graphql", json={"query": light})
    assert response.status_code == 200 and response.json()["data"] == {"health": {"ok": True}}
    assert MERGE_BUDGET < 500_000  # graphql-core's own, which allowed the seconds


async def test_validation_runs_off_the_event_loop(
    client: httpx.AsyncClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    """While a heavy document is validated, the loop answers others (it runs in a thread)."""
    import threading

    from graph.schema import validation

    threads: list[str] = []
    real = validation._validate

    def recording(*args: object) -> object:
        threads.append(threading.current_thread().name)
        return real(*args)  # type: ignore[arg-type]

    monkeypatch.setattr(validation, "_validate", recording)
    response = await client.post("/graphql", json={"query": "{ health { ok } }"})
    assert response.status_code == 200
    assert threads and threads[0] != threading.main_thread().name


# GraphQL over HTTP


@pytest.mark.parametrize("extensions", ['"x"', "1", "true", "[]"])
async def test_extensions_must_be_an_object(client: httpx.AsyncClient, extensions: str) -> None:
    body = '{"query": "{ health { ok } }", "extensions": ' + extensions + "}"
    response = await client.post(
        "/graphql", content=body, headers={"content-type": "application/json"}
    )
    assert response.status_code == 400
    assert "`extensions` must be an object" in response.json()["errors"][0]["message"]
    params = {"query": "{ health { ok } }", "extensions": extensions}
    assert (await client.get("/graphql", params=params)).status_code == 400


async def test_a_subscription_posted_is_told_to_use_the_websocket(
    client: httpx.AsyncClient,
) -> None:
    query = "subscription { sessionsChanged { sessionId } }"
    response = await client.post("/graphql", json={"query": query})
    assert response.status_code == 400
    error = response.json()["errors"][0]
    assert error["extensions"]["code"] == "SUBSCRIPTION_OVER_HTTP"
    assert "WebSocket" in error["message"] and "GET" not in error["message"]


async def test_records_too_deep_for_orjson_are_still_served(
    store: Store, client: httpx.AsyncClient
) -> None:
    # An earlier version stored records up to 1,024 levels; orjson writes 254.
    deep: dict[str, object] = {"leaf": 18446744073709551616}
    for _ in range(400):
        deep = {"d": deep}
    async with store.write() as writer:
        pk = await writer.upsert_session(NewSession("deep"))
        conversation = await writer.upsert_conversation(pk, NewConversation())
        record = {"type": "system", "x": deep}
        # As the importer hands it over: with the text it was read from.
        event = NewEvent(1, "system", ts(0), record, text=jsontext.dumps(record))
        event.pack()
        await writer.add_events(pk, conversation, [event])
    response = await client.post("/graphql", json={"query": "{ events { nodes { data } } }"})
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("application/")
    served = response.json()["data"]["events"]["nodes"][0]["data"]["x"]
    for _ in range(400):
        served = served["d"]
    assert served == {"leaf": 18446744073709551616}


async def test_a_bug_outside_graphql_is_a_json_500_without_a_trace(store: Store) -> None:
    app = create_app(store=store, server=ServerSettings())

    async def boom(request: Request) -> Response:
        raise RuntimeError("secret detail")

    app.add_route("/boom", boom)
    transport = httpx.ASGITransport(app=app, raise_app_exceptions=False)
    async with httpx.AsyncClient(transport=transport, base_url="http://127.0.0.1") as http:
        response = await http.get("/boom")
    assert response.status_code == 500
    body = response.json()
    assert body["errors"][0]["extensions"]["code"] == "INTERNAL_SERVER_ERROR"
    assert body["errors"][0]["extensions"]["requestId"]
    assert "secret detail" not in response.text


# a real server on loopback: slow clients, WebSocket origins


@pytest.fixture
def served(tmp_path: Path) -> Iterator[tuple[int, list[logging.LogRecord]]]:
    """uvicorn with the serving protocol and short deadlines, on a free loopback port."""
    records: list[logging.LogRecord] = []

    class Keep(logging.Handler):
        def emit(self, record: logging.LogRecord) -> None:
            records.append(record)

    handler = Keep(level=logging.INFO)
    for name in ("graph", "uvicorn.error"):
        logging.getLogger(name).addHandler(handler)
        logging.getLogger(name).setLevel(logging.INFO)
    settings = ServerSettings(
        token=TOKEN,
        cors_origins=("http://app.example",),
        body_timeout_seconds=0.5,
        head_timeout_seconds=0.5,
    )
    app = create_app(tmp_path / "s.db", server=settings)
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    config = uvicorn.Config(
        app,
        host="127.0.0.1",
        port=port,
        log_level="info",
        access_log=False,
        http=head_deadline_protocol(settings.head_timeout_seconds),
    )
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    for _ in range(100):
        if server.started:
            break
        time.sleep(0.05)
    try:
        yield port, records
    finally:
        server.should_exit = True
        thread.join(10)
        for name in ("graph", "uvicorn.error"):
            logging.getLogger(name).removeHandler(handler)


def _closed_within(sock: socket.socket, seconds: float) -> bytes:
    """What the server sent before closing, or fail if it keeps the connection open."""
    sock.settimeout(seconds)
    received = b""
    while chunk := sock.recv(4096):
        received += chunk
    return received


def test_a_trickled_request_head_is_cut_off(served: tuple[int, list[logging.LogRecord]]) -> None:
    port, _ = served
    with socket.create_connection(("127.0.0.1", port)) as sock:
        sock.sendall(b"POST /graphql HTTP/1.1\r\nHost: 127.0.0.1\r\n")  # and no more
        assert _closed_within(sock, 10) == b""


_BODY: Final = b'{"query": "{ __typename }"}'


def _head(
    *, path: str = "/graphql", token: str = TOKEN, length: int = len(_BODY), extra: str = ""
) -> bytes:
    """A POST's head, as a client writes it."""
    return (
        f"POST {path} HTTP/1.1\r\nHost: 127.0.0.1\r\ncontent-type: application/json\r\n"
        f"authorization: Bearer {token}\r\n{extra}content-length: {length}\r\n\r\n"
    ).encode()


def _ask(port: int, head: bytes, body: bytes = b"") -> bytes:
    with socket.create_connection(("127.0.0.1", port)) as sock:
        sock.sendall(head + body)
        sock.settimeout(10)
        answer = sock.recv(65536)
    return answer


@pytest.mark.parametrize("where", ["url", "headers"])
def test_a_request_head_over_the_bound_is_a_400_and_one_under_it_is_served(
    served: tuple[int, list[logging.LogRecord]], where: str
) -> None:
    port, _ = served

    def padded(padding: int) -> bytes:
        if where == "url":
            return _head(path=f"/graphql?pad={'x' * padding}")
        return _head(extra=f"x-pad: {'x' * padding}\r\n")

    assert _ask(port, padded(MAX_HEAD_BYTES - 1024), _BODY).startswith(b"HTTP/1.1 200")
    assert _ask(port, padded(MAX_HEAD_BYTES), _BODY).startswith(b"HTTP/1.1 400")
    # Sent in pieces, a head is refused at the header that takes it over the bound (the
    # fourth, once the fifth begins), before it ends.
    with socket.create_connection(("127.0.0.1", port)) as sock:
        sock.sendall(b"GET /graphql HTTP/1.1\r\nHost: 127.0.0.1\r\n")
        for _ in range(5):
            sock.sendall(b"x-pad: " + b"x" * 4096 + b"\r\n")
        assert _closed_within(sock, 10).startswith(b"HTTP/1.1 400")


def test_a_header_that_never_ends_is_refused_past_the_bound(
    served: tuple[int, list[logging.LogRecord]],
) -> None:
    # httptools holds a header's value until the next header begins: one that goes on
    # and on is refused by the bytes received, before the deadline.
    port, records = served
    with socket.create_connection(("127.0.0.1", port)) as sock:
        sock.sendall(b"GET /graphql HTTP/1.1\r\nHost: 127.0.0.1\r\nx-pad: ")
        for _ in range(8):
            time.sleep(0.05)  # each piece its own read, and the answer in before the next
            if select.select([sock], [], [], 0)[0]:
                break  # answered: more bytes would meet a closed socket
            sock.sendall(b"x" * 4096)
        else:
            pytest.fail("32 KiB of one header and no answer")
        assert _closed_within(sock, 10).startswith(b"HTTP/1.1 400")
    assert not any("took over" in r.getMessage() for r in records)


def test_an_early_answer_leaves_the_rest_of_the_body_to_be_read(
    served: tuple[int, list[logging.LogRecord]],
) -> None:
    # A wrong token is answered before the body is read: the body that goes on arriving
    # is a body, not a head, and the connection serves the next request.
    port, _ = served
    with socket.create_connection(("127.0.0.1", port)) as sock:
        sock.settimeout(10)
        stream = sock.makefile("rb")
        sock.sendall(_head(token="wrong", length=100_000) + b" " * 1000)
        assert _response(stream).startswith(b"HTTP/1.1 401")
        for _ in range(99):
            time.sleep(0.002)
            sock.sendall(b" " * 1000)
        sock.sendall(_head() + _BODY)
        assert _response(stream).startswith(b"HTTP/1.1 200")


def test_keep_alive_requests_each_have_their_own_head_deadline(
    served: tuple[int, list[logging.LogRecord]],
) -> None:
    port, _ = served
    head, body = _head(), _BODY
    with socket.create_connection(("127.0.0.1", port)) as sock:
        sock.settimeout(10)
        stream = sock.makefile("rb")
        for _ in range(3):  # each within the deadline of 0.5 s, the three past it
            time.sleep(0.3)
            sock.sendall(head + body)
            assert _response(stream).startswith(b"HTTP/1.1 200")
        # Two requests in one write (pipelined): both answered.
        sock.sendall(head + body + head + body)
        assert _response(stream).startswith(b"HTTP/1.1 200")
        assert _response(stream).startswith(b"HTTP/1.1 200")


def _response(stream: BinaryIO) -> bytes:
    """One whole response read off a keep-alive connection."""
    lines = [stream.readline()]
    while lines[-1] not in (b"\r\n", b""):
        lines.append(stream.readline())
    length = next(
        int(line.split(b":")[1]) for line in lines if line.lower().startswith(b"content-length:")
    )
    return b"".join(lines) + stream.read(length)


def test_a_trickled_body_is_a_408_and_a_client_that_leaves_is_no_500(
    served: tuple[int, list[logging.LogRecord]],
) -> None:
    port, records = served
    head = (
        "POST /graphql HTTP/1.1\r\nHost: 127.0.0.1\r\ncontent-type: application/json\r\n"
        f"authorization: Bearer {TOKEN}\r\ncontent-length: 100\r\n\r\n"
    ).encode()
    with socket.create_connection(("127.0.0.1", port)) as sock:
        sock.sendall(head + b'{"query":')
        answer = _closed_within(sock, 10)
    assert answer.startswith(b"HTTP/1.1 408")
    with socket.create_connection(("127.0.0.1", port)) as sock:
        sock.sendall(head + b'{"query":')
    deadline = time.monotonic() + 10
    while not any("client went away" in r.getMessage() for r in records):
        assert time.monotonic() < deadline, [r.getMessage() for r in records]
        time.sleep(0.02)
    assert not [r for r in records if r.levelno >= logging.ERROR], [r.getMessage() for r in records]


def test_an_allowed_origin_may_open_a_websocket(
    served: tuple[int, list[logging.LogRecord]],
) -> None:
    port, _ = served

    def init(origin: str) -> str:
        with websockets.sync.client.connect(
            f"ws://127.0.0.1:{port}/graphql",
            subprotocols=[Subprotocol("graphql-transport-ws")],
            origin=Origin(origin),
            open_timeout=10,
        ) as ws:
            ws.send(
                json.dumps(
                    {"type": "connection_init", "payload": {"authorization": f"Bearer {TOKEN}"}}
                )
            )
            return str(ws.recv(timeout=10))

    assert "connection_ack" in init("http://app.example")
    with pytest.raises(websockets.InvalidStatus):
        init("http://evil.example")


@pytest.mark.parametrize(
    "session_id", ['it\'s "quoted"', "séance-日本語", "-rf --help", "a b\tc", "x" * 300]
)
async def test_any_stored_session_id_can_be_looked_up(
    store: Store, gql: GraphQL, session_id: str
) -> None:
    async with store.write() as writer:
        await writer.upsert_session(NewSession(session_id))
    query = "query($id: ID!) { session(id: $id) { sessionId } }"
    assert (await gql(query, id=session_id))["session"] == {"sessionId": session_id}
    assert (await gql(query, id=session_id + "?"))["session"] is None  # not stored: null


async def test_an_empty_session_id_is_a_bad_id(gql: GraphQL) -> None:
    body = await gql.raw('{ session(id: "") { sessionId } }')
    assert body["errors"][0]["extensions"]["code"] == "BAD_ID"


async def test_session_activity_shows_a_growing_message_as_stored_at_each_commit(
    store: Store,
) -> None:
    feed = ChangeFeed(store.path, poll_seconds=3600)  # ticks driven by the test
    await feed.start()
    context = Context(store=store, settings=ServerSettings(), request_id="t", feed=feed)
    try:
        async with store.write() as writer:
            pk = await writer.upsert_session(NewSession("grows"))
            conversation = await writer.upsert_conversation(pk, NewConversation())
        subscription = await build_schema().subscribe(
            'subscription { sessionActivity(sessionId: "grows") { node { ... on Message {'
            " blocks { __typename } records usage { output } } } } }",
            context_value=context,
        )
        assert not isinstance(subscription, ExecutionResult)
        seen = []
        for rows, output in ((1, 3), (2, 7), (3, 11)):
            pending = asyncio.ensure_future(anext(subscription))
            await asyncio.sleep(0.05)  # subscribed (the first time) before the commit
            block = {"type": "text", "text": f"part {rows}"}
            record = assistant_record(rows, "1", block)
            async with store.write() as writer:
                message = NewMessage(
                    "m:1", "assistant", ts(0), [(rows, record)], usage=TokenTotals(1, output, 0, 0)
                )
                await writer.add_messages(pk, conversation, [message])
            await feed.tick()
            result = await asyncio.wait_for(pending, timeout=10)
            assert not result.errors, result.errors
            node = result.data["sessionActivity"]["node"]  # type: ignore[index]
            seen.append((len(node["blocks"]), len(node["records"]), node["usage"]["output"]))
        assert seen == [(1, 1, 3), (2, 2, 7), (3, 3, 11)]
        assert len(context.opened) <= 1  # only what the last item opened
    finally:
        await feed.close()


async def test_sessions_changed_filters_as_the_sessions_query_does(store: Store) -> None:
    # One implementation (the store's SQL): a search or model filter means the same here.
    feed = ChangeFeed(store.path, poll_seconds=3600)
    await feed.start()
    context = Context(store=store, settings=ServerSettings(), request_id="t", feed=feed)
    try:
        subscription = await build_schema().subscribe(
            'subscription { sessionsChanged(filter: {search: "zanzibar", model: "claude-opus-4-6"})'
            " { sessionId } }",
            context_value=context,
        )
        assert not isinstance(subscription, ExecutionResult)
        pending = asyncio.ensure_future(anext(subscription))
        await asyncio.sleep(0.05)
        async with store.write() as writer:
            for sid, word in (("a", "zanzibar"), ("b", "elsewhere")):
                pk = await writer.upsert_session(NewSession(sid))
                conversation = await writer.upsert_conversation(pk, NewConversation())
                block = {"type": "text", "text": f"about {word}"}
                await writer.add_messages(
                    pk,
                    conversation,
                    [
                        NewMessage(
                            f"m:{sid}",
                            "assistant",
                            ts(0),
                            [(1, assistant_record(1, sid, block))],
                            model="claude-opus-4-6",
                        )
                    ],
                )
        await feed.tick()
        result = await asyncio.wait_for(pending, timeout=10)
        assert result.data == {"sessionsChanged": {"sessionId": "a"}}
        assert feed._session_subscribers and all(  # the filter reached the feed as SQL
            s.where is not None for s in feed._session_subscribers
        )
        await subscription.aclose()
    finally:
        await feed.close()
