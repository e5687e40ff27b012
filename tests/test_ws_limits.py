"""The WebSocket endpoint refuses what HTTP refuses, with the same codes, and crashes on
nothing a client sends (found in a break-it pass). In process: Starlette's TestClient
speaks graphql-transport-ws to the app."""

from __future__ import annotations

import logging
import shutil
from collections.abc import AsyncGenerator, Iterator
from contextlib import contextmanager
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest
from starlette.testclient import TestClient
from starlette.testclient import WebSocketTestSession as Socket
from strawberry.types.execution import ExecutionResult, PreExecutionError

from graph.app import create_app
from graph.cli import serve
from graph.schema.streaming import refusing
from graph.settings import ServerSettings
from tests.conftest import TOKEN

URL = "ws://127.0.0.1/graphql"
PROTOCOL = "graphql-transport-ws"


@pytest.fixture
def api(tmp_path: Path, migrated: Path) -> Iterator[TestClient]:
    shutil.copyfile(migrated, tmp_path / "ws.db")
    app = create_app(tmp_path / "ws.db", server=ServerSettings(token=TOKEN))
    with TestClient(app, base_url="http://127.0.0.1") as client:
        yield client


@contextmanager
def connected(api: TestClient) -> Iterator[Socket]:
    """A socket past ``connection_init``."""
    with api.websocket_connect(URL, subprotocols=[PROTOCOL]) as ws:
        ws.send_json({"type": "connection_init", "payload": {"authorization": f"Bearer {TOKEN}"}})
        assert ws.receive_json() == {"type": "connection_ack"}
        yield ws


def subscribe(ws: Socket, id: str, query: str, **payload: Any) -> None:
    ws.send_json({"type": "subscribe", "id": id, "payload": {"query": query, **payload}})


def _codes(frame: dict[str, Any]) -> list[str | None]:
    return [(error.get("extensions") or {}).get("code") for error in frame["payload"]]


COSTLY = "query { sessions(first: 500) { nodes { messages(first: 500) { nodes { id } } } } }"


@pytest.mark.parametrize(
    ("query", "payload", "code"),
    [
        ("{ stats { ", {}, "GRAPHQL_PARSE_FAILED"),
        ("{ " + " __typename" * 2_100 + " }", {}, "QUERY_TOO_LONG"),
        (COSTLY, {}, "QUERY_TOO_COSTLY"),
        (
            "query($n: Int = 500) { sessions(first: $n) { nodes { messages(first: $n) "
            "{ nodes { id } } } } }",
            {},
            "QUERY_TOO_COSTLY",
        ),
        ("{ health { ok } }", {"operationName": "Other"}, "BAD_REQUEST"),
        ("query A { health { ok } } query B { health { ok } }", {}, "BAD_REQUEST"),
        ("{ nope }", {}, "GRAPHQL_VALIDATION_FAILED"),  # as before
    ],
)
def test_a_refused_operation_is_an_error_message_and_the_socket_goes_on(
    api: TestClient,
    caplog: pytest.LogCaptureFixture,
    query: str,
    payload: dict[str, Any],
    code: str,
) -> None:
    with connected(api) as ws:
        subscribe(ws, "bad", query, **payload)
        frame = ws.receive_json()
        assert (frame["type"], frame["id"]) == ("error", "bad"), frame
        assert _codes(frame) == [code]
        subscribe(ws, "good", "{ health { ok } }")
        assert ws.receive_json()["payload"] == {"data": {"health": {"ok": True}}}
        assert ws.receive_json() == {"id": "good", "type": "complete"}
    crashes = [r.getMessage() for r in caplog.records if r.levelno >= logging.ERROR]
    assert not crashes


async def test_a_bug_before_the_first_result_is_masked_and_logged_once(
    caplog: pytest.LogCaptureFixture,
) -> None:
    async def failing() -> AsyncGenerator[ExecutionResult, None]:
        raise KeyError("secret detail")
        yield ExecutionResult(data=None, errors=None)  # a generator

    results = [result async for result in refusing(failing(), lambda errors: None, "r1")]
    assert len(results) == 1 and isinstance(results[0], PreExecutionError)
    (error,) = results[0].errors or []
    assert error.formatted == {
        "message": "Internal error",
        "extensions": {"code": "INTERNAL_SERVER_ERROR", "requestId": "r1"},
    }
    logged = [r for r in caplog.records if r.levelno >= logging.ERROR]
    assert len(logged) == 1 and "r1" in logged[0].getMessage()


def _padded(size: int) -> str:
    """A subscribe frame of ``size`` bytes: a query, and an unused variable to pad it."""
    head = '{"type": "subscribe", "id": "p", "payload": {"query": "{ health { ok } }", '
    head, tail = head + '"variables": {"pad": "', '"}}}'
    return head + "x" * (size - len(head) - len(tail)) + tail


def closed_with(ws: Socket) -> int:
    """The code the server closed ``ws`` with (failing if it sent anything else first)."""
    message = ws.receive()
    assert message["type"] == "websocket.close", message
    return int(message["code"])


def test_a_frame_as_large_as_a_body_may_be_is_served(api: TestClient) -> None:
    frame = _padded(ServerSettings().max_body_bytes)
    assert len(frame) == ServerSettings().max_body_bytes
    with connected(api) as ws:
        ws.send_text(frame)
        assert ws.receive_json()["payload"] == {"data": {"health": {"ok": True}}}


def test_a_frame_over_the_body_limit_closes_the_socket_with_1009(api: TestClient) -> None:
    frame = _padded(ServerSettings().max_body_bytes + 1)
    with connected(api) as ws:
        ws.send_text(frame)
        assert closed_with(ws) == 1009
    with api.websocket_connect(URL, subprotocols=[PROTOCOL]) as ws:  # first, unauthenticated
        ws.send_text(frame)
        assert closed_with(ws) == 1009


def test_json_nested_too_deep_closes_the_socket_with_4400(
    api: TestClient, caplog: pytest.LogCaptureFixture
) -> None:
    deep = "[" * 200_000 + "]" * 200_000
    frame = '{"type": "subscribe", "id": "d", "payload": {"query": "{ health { ok } }", '
    with connected(api) as ws:
        ws.send_text(frame + f'"variables": {{"v": {deep}}}}}}}')
        assert closed_with(ws) == 4400
    assert not [r for r in caplog.records if r.levelno >= logging.ERROR]


def test_serve_holds_websocket_frames_to_the_body_limit() -> None:
    """uvicorn buffers a frame of up to 16 MiB by default before the app sees it."""
    configs: list[dict[str, Any]] = []

    class Server:
        def __init__(self, config: dict[str, Any]) -> None:
            configs.append(config)

        def run(self) -> None:
            pass

    uvicorn = SimpleNamespace(Config=lambda app, **options: options, Server=Server)
    serve._run(uvicorn, None, "127.0.0.1", 8000, ServerSettings(max_body_bytes=12_345))
    assert configs[0]["ws_max_size"] == 12_345


@pytest.mark.parametrize(
    ("frame", "reason"),
    [
        ("[]", "a message must be a JSON object"),
        ("null", "a message must be a JSON object"),
        ('{"type": "subscribe", "id": "1", "payload": "{ health { ok } }"}', "`payload` object"),
        ('{"type": "subscribe", "id": "1", "payload": null}', "`payload` object"),
        ('{"type": "subscribe", "id": ["1"], "payload": {"query": "{ a }"}}', "string `id`"),
        ('{"type": "complete", "id": {}}', "string `id`"),
        ('{"type": "subscribe", "id": "1", "payload": {"query": 1}}', "`query` must be a string"),
        (
            '{"type": "subscribe", "id": "1", "payload": {"query": "{ a }", "variables": [1]}}',
            "`variables` must be an object",
        ),
        (
            '{"type": "subscribe", "id": "1", "payload": {"query": "{ a }", "operationName": 5}}',
            "`operationName` must be a string",
        ),
    ],
)
def test_a_message_of_the_wrong_shape_closes_the_socket_with_4400(
    api: TestClient, caplog: pytest.LogCaptureFixture, frame: str, reason: str
) -> None:
    with connected(api) as ws:
        ws.send_text(frame)
        message = ws.receive()
    assert (message["type"], message["code"]) == ("websocket.close", 4400)
    assert reason in message["reason"]
    assert not [r for r in caplog.records if r.levelno >= logging.ERROR]


def test_a_close_reason_quoting_the_client_fits_a_close_frame(api: TestClient) -> None:
    with connected(api) as ws:
        ws.send_text('{"type": "' + "é" * 500 + '"}')
        message = ws.receive()
    assert message["code"] == 4400 and message["reason"].startswith("Unknown message type: é")
    assert len(message["reason"].encode()) <= 123


def test_an_operation_past_the_sockets_limit_is_refused_with_a_code(api: TestClient) -> None:
    with connected(api) as ws:
        for n in range(100):
            subscribe(ws, f"s{n}", "subscription { sessionsChanged { sessionId } }")
        subscribe(ws, "over", "{ health { ok } }")
        frame = ws.receive_json()
        assert (frame["type"], frame["id"]) == ("error", "over")
        assert frame["payload"][0]["extensions"] == {
            "code": "TOO_MANY_SUBSCRIPTIONS",
            "maximum": 100,
        }
        ws.send_json({"type": "complete", "id": "s0"})  # one ends: another may start
        subscribe(ws, "next", "{ health { ok } }")
        assert ws.receive_json() == {
            "id": "next",
            "type": "next",
            "payload": {"data": {"health": {"ok": True}}},
        }
