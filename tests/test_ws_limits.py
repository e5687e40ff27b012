"""The WebSocket endpoint refuses what HTTP refuses, with the same codes, and crashes on
nothing a client sends (found in a break-it pass). In process: Starlette's TestClient
speaks graphql-transport-ws to the app."""

from __future__ import annotations

import logging
import shutil
from collections.abc import AsyncGenerator, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest
from starlette.testclient import TestClient
from starlette.testclient import WebSocketTestSession as Socket
from strawberry.types.execution import ExecutionResult, PreExecutionError

from graph.app import create_app
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
