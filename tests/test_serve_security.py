"""Serving safely: auth, Host and Origin checks, abuse limits, timeouts, logs, readiness."""

from __future__ import annotations

import json
import logging
import os
import time
from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest
from typer.testing import CliRunner

from graph.app import create_app
from graph.cli import app as cli
from graph.errors import ConfigError, QueryTimeout
from graph.security import is_loopback, load_or_create_token, read_token_file, tokens_match
from graph.settings import ServerSettings
from graph.store import Store
from graph.store.scope import CURRENT_SCOPE, RequestScope
from tests.conftest import TOKEN
from tests.factories import make_sessions

GRAPHQL_RESPONSE = "application/graphql-response+json"
QUERY = {"query": "{ health { ok } }"}


def client_for(store: Store, *, auth: bool = True, **server: object) -> httpx.AsyncClient:
    app = create_app(store=store, server=ServerSettings(token=TOKEN, **server))  # type: ignore[arg-type]
    headers = {"authorization": f"Bearer {TOKEN}"} if auth else {}
    return httpx.AsyncClient(
        transport=httpx.ASGITransport(app=app), base_url="http://127.0.0.1", headers=headers
    )


@pytest.fixture
async def anonymous(store: Store) -> AsyncIterator[httpx.AsyncClient]:
    async with client_for(store, auth=False) as client:
        yield client


# authentication


@pytest.mark.parametrize(
    "authorization",
    [None, "Bearer wrong-token-0123456789", f"Basic {TOKEN}", f"Bearer {TOKEN}x", "Bearer"],
)
async def test_missing_or_wrong_token_is_401(
    anonymous: httpx.AsyncClient, authorization: str | None
) -> None:
    headers = {"authorization": authorization} if authorization else {}
    response = await anonymous.post("/graphql", json=QUERY, headers=headers)
    assert response.status_code == 401
    assert response.headers["www-authenticate"].startswith("Bearer")
    [error] = response.json()["errors"]
    assert error["extensions"]["code"] == "UNAUTHENTICATED"
    get = await anonymous.get("/graphql", params=QUERY, headers=headers)
    assert get.status_code == 401


async def test_the_right_token_passes_and_open_routes_need_none(
    anonymous: httpx.AsyncClient,
) -> None:
    ok = await anonymous.post("/graphql", json=QUERY, headers={"authorization": f"Bearer {TOKEN}"})
    assert ok.json() == {"data": {"health": {"ok": True}}}
    page = await anonymous.get("/graphql", headers={"accept": "text/html"})
    assert page.status_code == 200 and TOKEN not in page.text  # no secret in the page
    assert (await anonymous.get("/healthz")).status_code == 200
    assert (await anonymous.get("/readyz")).status_code == 200
    assert (await anonymous.get("/static/graphiql/graphiql.min.css")).status_code == 200


def test_token_comparison() -> None:
    assert tokens_match("abc", "abc")
    assert not tokens_match("abc", "abd")
    assert not tokens_match("", "abc")
    assert not tokens_match("abcd", "abc")


# browser safety


async def test_foreign_host_is_refused(store: Store) -> None:
    async with client_for(store) as client:
        rebound = await client.post("/graphql", json=QUERY, headers={"host": "evil.example"})
        assert rebound.status_code == 400
        for host in ("localhost:8000", "127.0.0.1", "[::1]:8000"):
            answered = await client.post("/graphql", json=QUERY, headers={"host": host})
            assert answered.status_code == 200, host
    async with client_for(store, allowed_hosts=("127.0.0.1", "box.lan")) as client:
        assert (await client.post("/graphql", json=QUERY, headers={"host": "box.lan"})).is_success


async def test_foreign_origin_is_refused_before_anything_runs(store: Store) -> None:
    async with client_for(store) as client:
        foreign = await client.post(
            "/graphql", json=QUERY, headers={"origin": "https://evil.example"}
        )
        assert foreign.status_code == 403
        assert foreign.json()["errors"][0]["extensions"]["code"] == "FORBIDDEN_ORIGIN"
        same = await client.post("/graphql", json=QUERY, headers={"origin": "http://127.0.0.1"})
        assert same.status_code == 200
        assert "access-control-allow-origin" not in same.headers


async def test_cors_allowlist(store: Store) -> None:
    origin = "http://localhost:5173"
    async with client_for(store, cors_origins=(origin,)) as client:
        preflight = await client.options(
            "/graphql",
            headers={
                "origin": origin,
                "access-control-request-method": "POST",
                "access-control-request-headers": "authorization, content-type",
            },
        )
        assert preflight.status_code == 200
        assert preflight.headers["access-control-allow-origin"] == origin
        assert "authorization" in preflight.headers["access-control-allow-headers"].lower()
        actual = await client.post("/graphql", json=QUERY, headers={"origin": origin})
        assert actual.headers["access-control-allow-origin"] == origin
        other = await client.options(
            "/graphql",
            headers={"origin": "https://evil.example", "access-control-request-method": "POST"},
        )
        assert other.status_code == 403


@pytest.mark.parametrize(
    ("content", "content_type"),
    [
        ("query=%7B+health+%7B+ok+%7D+%7D", "application/x-www-form-urlencoded"),
        (
            '--b\r\nContent-Disposition: form-data; name="query"\r\n\r\n{ health { ok } }\r\n--b--',
            "multipart/form-data; boundary=b",
        ),
        ("{ health { ok } }", "text/plain"),
    ],
)
async def test_form_and_text_posts_are_refused(
    client: httpx.AsyncClient, content: str, content_type: str
) -> None:
    response = await client.post(
        "/graphql", content=content, headers={"content-type": content_type}
    )
    assert response.status_code == 415


async def test_get_never_runs_a_mutation(client: httpx.AsyncClient) -> None:
    response = await client.get("/graphql", params={"query": "mutation { nothing }"})
    assert response.status_code in (400, 405)
    assert "data" not in response.json() or response.json()["data"] is None


# abuse limits


DEEP = (
    "{ sessions { edges { node { "
    + "conversations { session { " * 5
    + "sessionId"
    + " } }" * 5
    + " } } } }"
)


@pytest.mark.parametrize(
    ("query", "code"),
    [
        (DEEP, "QUERY_TOO_DEEP"),
        ("{ " + " ".join(f"a{i}: health {{ ok }}" for i in range(31)) + " }", "TOO_MANY_ALIASES"),
        ("{ health { " + "ok " * 2100 + "} }", "QUERY_TOO_LONG"),
        (
            "{ sessions(first: 500) { edges { node { messages(first: 500) { totalCount } } } } }",
            "QUERY_TOO_COSTLY",
        ),
        (
            '{ search(query: "x", first: 500) { edges { node { session { messages(first: 200)'
            " { totalCount } } } } } }",
            "QUERY_TOO_COSTLY",
        ),
    ],
)
@pytest.mark.parametrize("accept", [GRAPHQL_RESPONSE, "application/json"])
async def test_bombs_are_4xx_with_a_code(
    client: httpx.AsyncClient, query: str, code: str, accept: str
) -> None:
    response = await client.post("/graphql", json={"query": query}, headers={"accept": accept})
    assert response.status_code == 400
    assert response.json()["errors"][0]["extensions"]["code"] == code


async def test_cost_counts_variables_and_nesting(client: httpx.AsyncClient) -> None:
    query = (
        "query($n: Int) { sessions(first: $n) { edges { node { messages(first: 100) {"
        " totalCount } } } } }"
    )
    small = await client.post("/graphql", json={"query": query, "variables": {"n": 100}})
    assert small.status_code == 200 and "errors" not in small.json()
    big = await client.post("/graphql", json={"query": query, "variables": {"n": 500}})
    assert big.status_code == 400
    assert big.json()["errors"][0]["extensions"]["cost"] == 500 + 500 * 100


async def test_oversized_bodies_are_413(store: Store) -> None:
    async with client_for(store, max_body_bytes=1000) as client:
        big = {"query": "{ health { ok } }", "variables": {"pad": "x" * 2000}}
        declared = await client.post("/graphql", json=big)
        assert declared.status_code == 413
        assert declared.json()["errors"][0]["extensions"]["code"] == "PAYLOAD_TOO_LARGE"

        async def chunks() -> AsyncIterator[bytes]:  # no Content-Length: streamed
            yield b'{"query": "{ health { ok } }", "variables": {"pad": "'
            for _ in range(20):
                yield b"x" * 100
            yield b'"}}'

        streamed = await client.post(
            "/graphql", content=chunks(), headers={"content-type": "application/json"}
        )
        assert streamed.status_code == 413


async def test_slow_requests_are_stopped(store: Store) -> None:
    await make_sessions(store, 30)
    async with client_for(store, timeout_seconds=1e-6) as client:
        response = await client.post(
            "/graphql", json={"query": "{ sessions(first: 30) { edges { node { sessionId } } } }"}
        )
    assert response.status_code == 400
    assert response.json()["errors"][0]["extensions"]["code"] == "QUERY_TIMEOUT"


async def test_sql_past_the_deadline_is_interrupted(store: Store) -> None:
    token = CURRENT_SCOPE.set(RequestScope(deadline=time.monotonic() + 0.05))
    try:
        async with store.read() as reader:
            with pytest.raises(QueryTimeout):
                await reader._all(  # a statement that would run for many seconds
                    "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n"
                    " WHERE i < 1000000000) SELECT count(*) FROM n"
                )
    finally:
        CURRENT_SCOPE.reset(token)
    async with store.read() as reader:  # the connection is fine for the next request
        assert await reader.schema_version() > 0


async def test_introspection_off_hides_schema_and_suggestions(store: Store) -> None:
    async with client_for(store, introspection=False) as client:
        body = (
            await client.post(
                "/graphql", json={"query": "{ __schema { types { name } } sesions { totalCount } }"}
            )
        ).json()
    messages = [error["message"] for error in body["errors"]]
    assert any("introspection" in message for message in messages)
    assert not any("Did you mean" in message for message in messages)
    async with client_for(store) as client:
        body = (await client.post("/graphql", json={"query": "{ sesions { totalCount } }"})).json()
    assert "Did you mean 'sessions'" in body["errors"][0]["message"]


# logs and health


async def test_one_access_log_line_per_request_without_variables(
    store: Store, client: httpx.AsyncClient, caplog: pytest.LogCaptureFixture
) -> None:
    await make_sessions(store, 3)
    caplog.set_level(logging.INFO, logger="graph.access")
    await client.post(
        "/graphql",
        json={
            "query": "query Secretive($q: String!) { search(query: $q) { totalCount } }",
            "variables": {"q": "hunter2-password"},
            "operationName": "Secretive",
        },
        headers={"x-request-id": "req-7"},
    )
    [line] = [r.getMessage() for r in caplog.records if r.name == "graph.access"]
    entry = json.loads(line)
    assert entry["operation"] == "Secretive" and entry["status"] == 200
    assert entry["requestId"] == "req-7" and entry["method"] == "POST"
    assert entry["sql"] == 1 and entry["ms"] > 0  # totalCount alone: one count
    assert "hunter2" not in line


@pytest.mark.parametrize(
    ("body", "shown"),
    [
        ({"query": "query Named { health { ok } }"}, "Named"),
        ({"query": "{ health { ok } }"}, None),
        ({"query": "query A { health { ok } }", "operationName": "A"}, "A"),
        # Not a GraphQL name: no operation has it (the request fails), and it is not shown.
        ({"query": "query A { health { ok } }", "operationName": "A\nB"}, None),
        ({"query": "query A { health { ok } }", "operationName": "x" * 5000}, "x" * 100),
    ],
)
async def test_the_logged_operation_name_is_a_graphql_name_cut_short(
    client: httpx.AsyncClient,
    caplog: pytest.LogCaptureFixture,
    body: dict[str, str],
    shown: str | None,
) -> None:
    caplog.set_level(logging.INFO, logger="graph.access")
    await client.post("/graphql", json=body)
    [line] = [r.getMessage() for r in caplog.records if r.name == "graph.access"]
    assert json.loads(line)["operation"] == shown


async def test_readyz_reports_a_schema_behind_the_code(store: Store) -> None:
    async with client_for(store) as client:
        assert (await client.get("/readyz")).json()["status"] == "ready"
        await store.revert(1)
        response = await client.get("/readyz")
    assert response.status_code == 503
    assert response.json()["checks"]["migrations"].startswith("at ")


# the serve command's policy

runner = CliRunner()


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--host", "10.0.0.5", "--no-auth"], "only allowed on a loopback address"),
        (["--host", "0.0.0.0"], "needs --allowed-host"),
        (["--host", "0.0.0.0", "--allowed-host", "box", "--no-auth"], "loopback"),
    ],
)
def test_serve_refuses_unsafe_setups(tmp_path: Path, args: list[str], message: str) -> None:
    result = runner.invoke(cli, ["serve", "--db", str(tmp_path / "x.db"), *args])
    assert result.exit_code == 1
    assert message in result.stderr and result.stderr.count("\n") == 1


def test_token_files(tmp_path: Path) -> None:
    path = tmp_path / "conf" / "token"
    token, created = load_or_create_token(path)
    assert created and len(token) >= 32 and path.stat().st_mode & 0o777 == 0o600
    assert load_or_create_token(path) == (token, False)
    os.chmod(path, 0o644)
    with pytest.raises(ConfigError, match="readable by other users"):
        read_token_file(path)
    short = tmp_path / "short"
    short.write_text("abc")
    os.chmod(short, 0o600)
    with pytest.raises(ConfigError, match="shorter than"):
        read_token_file(short)


def test_loopback_names() -> None:
    assert all(is_loopback(h) for h in ("127.0.0.1", "127.1.2.3", "::1", "[::1]", "localhost"))
    assert not any(is_loopback(h) for h in ("0.0.0.0", "10.0.0.5", "example.com", "::"))


@pytest.mark.filterwarnings("ignore:Using `httpx` with `starlette.testclient`")
def test_a_websocket_is_one_json_access_line_like_a_request(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    from starlette.testclient import TestClient

    caplog.set_level(logging.INFO, logger="graph.access")
    app = create_app(tmp_path / "s.db", server=ServerSettings(token=TOKEN))
    with (
        TestClient(app, base_url="http://127.0.0.1") as client,
        client.websocket_connect(
            "ws://127.0.0.1/graphql",
            subprotocols=["graphql-transport-ws"],
            headers={"x-request-id": "ws-1"},
        ) as socket,
    ):
        socket.send_json(
            {"type": "connection_init", "payload": {"authorization": f"Bearer {TOKEN}"}}
        )
        assert socket.receive_json()["type"] == "connection_ack"
        socket.close(1000)
    [line] = [r.getMessage() for r in caplog.records if r.name == "graph.access"]
    entry = json.loads(line)
    assert entry["method"] == "WEBSOCKET" and entry["path"] == "/graphql"
    assert entry["status"] == 101 and entry["closeCode"] == 1000
    assert entry["requestId"] == "ws-1" and entry["ms"] >= 0


def test_uvicorn_lines_about_websockets_are_dropped() -> None:
    from graph.wslog import QuietWebSocketLines

    def record(msg: str, *args: object) -> logging.LogRecord:
        return logging.LogRecord("uvicorn.error", logging.INFO, __file__, 1, msg, args, None)

    quiet = QuietWebSocketLines()
    assert not quiet.filter(record('%s - "WebSocket %s" [accepted]', "127.0.0.1:5", "/graphql"))
    assert not quiet.filter(record("connection open"))
    assert not quiet.filter(record("connection closed"))
    assert quiet.filter(record("Application startup complete."))
