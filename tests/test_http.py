"""GraphQL over HTTP: media types, status codes, GET/POST rules, GraphiQL, health, gzip."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import httpx
import pytest

from graph.errors import StoreError
from graph.store import Store
from tests.conftest import LATEST
from tests.factories import make_sessions

GRAPHQL_RESPONSE = "application/graphql-response+json"


async def test_post_json_answers_application_json_by_default(client: httpx.AsyncClient) -> None:
    response = await client.post("/graphql", json={"query": "{ health { ok } }"})
    assert response.status_code == 200
    assert response.headers["content-type"] == "application/json"
    assert response.json() == {"data": {"health": {"ok": True}}}
    assert response.headers["x-request-id"]


@pytest.mark.parametrize(
    ("accept", "expected"),
    [
        (GRAPHQL_RESPONSE, GRAPHQL_RESPONSE),
        (f"{GRAPHQL_RESPONSE}, application/json;q=0.9", GRAPHQL_RESPONSE),
        (f"application/json, {GRAPHQL_RESPONSE};q=0.5", "application/json"),
        ("*/*", "application/json"),
        ("application/*", "application/json"),
    ],
)
async def test_accept_negotiation(client: httpx.AsyncClient, accept: str, expected: str) -> None:
    response = await client.post(
        "/graphql", json={"query": "{ health { ok } }"}, headers={"accept": accept}
    )
    assert response.status_code == 200
    assert response.headers["content-type"] == expected


async def test_unacceptable_media_type_is_406(client: httpx.AsyncClient) -> None:
    response = await client.post(
        "/graphql", json={"query": "{ health { ok } }"}, headers={"accept": "text/csv"}
    )
    assert response.status_code == 406


@pytest.mark.parametrize(
    ("query", "code"),
    [("{ health { ok ", "GRAPHQL_PARSE_FAILED"), ("{ nope }", "GRAPHQL_VALIDATION_FAILED")],
)
async def test_request_errors_are_400_with_graphql_response_json(
    client: httpx.AsyncClient, query: str, code: str
) -> None:
    strict = await client.post(
        "/graphql", json={"query": query}, headers={"accept": GRAPHQL_RESPONSE}
    )
    assert strict.status_code == 400
    assert strict.headers["content-type"] == GRAPHQL_RESPONSE
    body = strict.json()
    assert "data" not in body
    assert body["errors"][0]["extensions"]["code"] == code
    legacy = await client.post("/graphql", json={"query": query})
    assert legacy.status_code == 200
    assert legacy.json()["errors"][0]["extensions"]["code"] == code


async def test_bad_variables_are_a_request_error(client: httpx.AsyncClient) -> None:
    response = await client.post(
        "/graphql",
        json={
            "query": "query($n: Int) { sessions(first: $n) { totalCount } }",
            "variables": {"n": "lots"},
        },
        headers={"accept": GRAPHQL_RESPONSE},
    )
    assert response.status_code == 400
    assert response.json()["errors"][0]["extensions"]["code"] == "BAD_USER_INPUT"


async def test_field_errors_keep_200_and_partial_data(client: httpx.AsyncClient) -> None:
    response = await client.post(
        "/graphql",
        json={"query": '{ health { ok } node(id: "zzz") { id } }'},
        headers={"accept": GRAPHQL_RESPONSE},
    )
    assert response.status_code == 200
    body = response.json()
    assert body["data"] == {"health": {"ok": True}, "node": None}
    assert body["errors"][0]["extensions"]["code"] == "BAD_ID"


@pytest.mark.parametrize(
    ("content", "content_type", "status"),
    [
        (b"query=%7Bhealth%7Bok%7D%7D", "application/x-www-form-urlencoded", 415),
        (b"{ health { ok } }", "text/plain", 415),
        (b"{not json", "application/json", 400),
        (b"[1, 2]", "application/json", 400),
        (b'{"query": 5}', "application/json", 400),
        (b'{"query": "{ health { ok } }", "variables": [1]}', "application/json", 400),
        (b'{"variables": {}}', "application/json", 400),
    ],
)
async def test_malformed_requests(
    client: httpx.AsyncClient, content: bytes, content_type: str, status: int
) -> None:
    response = await client.post(
        "/graphql", content=content, headers={"content-type": content_type}
    )
    assert response.status_code == status
    assert response.json()["errors"][0]["extensions"]["code"] == "BAD_REQUEST"


async def test_application_graphql_body(client: httpx.AsyncClient) -> None:
    response = await client.post(
        "/graphql", content=b"{ health { ok } }", headers={"content-type": "application/graphql"}
    )
    assert response.json() == {"data": {"health": {"ok": True}}}


async def test_get_runs_queries_with_json_variables(client: httpx.AsyncClient) -> None:
    response = await client.get(
        "/graphql",
        params={
            "query": "query Q($n: Int) { sessions(first: $n) { totalCount } }",
            "variables": '{"n": 1}',
            "operationName": "Q",
        },
    )
    assert response.status_code == 200
    assert response.json() == {"data": {"sessions": {"totalCount": 0}}}


async def test_operation_name_selects_and_unknown_name_is_400(client: httpx.AsyncClient) -> None:
    doc = "query A { health { ok } } query B { stats { sessions } }"
    picked = await client.post("/graphql", json={"query": doc, "operationName": "B"})
    assert picked.json() == {"data": {"stats": {"sessions": 0}}}
    unknown = await client.post("/graphql", json={"query": doc, "operationName": "C"})
    assert unknown.status_code == 400


async def test_browser_get_serves_graphiql_that_loads_nothing_external(
    client: httpx.AsyncClient,
) -> None:
    page = await client.get("/graphql", headers={"accept": "text/html,application/xhtml+xml"})
    assert page.status_code == 200
    assert page.headers["content-type"].startswith("text/html")
    assert "https://" not in page.text and "http://" not in page.text
    asset = await client.get("/static/graphiql/graphiql.min.js")
    assert asset.status_code == 200


async def test_unexpected_errors_are_masked_with_a_request_id(
    store: Store, client: httpx.AsyncClient, caplog: pytest.LogCaptureFixture
) -> None:
    [sid] = await make_sessions(store, 1)
    # A corrupt row is the one way a client can reach a bug from outside: make one.
    await store.writer_connection.execute("UPDATE events SET data = x'ff00'")
    response = await client.post(
        "/graphql",
        json={
            "query": f'{{ session(id: "{sid}") {{ sessionId'
            " events { edges { node { data } } } } }"
        },
        headers={"x-request-id": "req-42"},
    )
    body = response.json()
    assert response.status_code == 200
    edges = body["data"]["session"]["events"]["edges"]
    assert edges and all(edge["node"]["data"] is None for edge in edges)
    assert len(body["errors"]) == len(edges)
    error = body["errors"][0]
    assert error["message"] == "Internal error"
    assert error["extensions"] == {"code": "INTERNAL_SERVER_ERROR", "requestId": "req-42"}
    assert "Traceback" not in response.text and "orjson" not in response.text
    assert any("req-42" in record.getMessage() for record in caplog.records)


async def test_healthz(client: httpx.AsyncClient) -> None:
    response = await client.get("/healthz")
    assert response.status_code == 200
    assert response.json() == {"status": "ok", "schemaVersion": LATEST}


async def test_healthz_is_503_when_the_database_is_gone(store: Store) -> None:
    from graph.app import create_app

    app = create_app(store=store)
    await store.close()
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://127.0.0.1") as c:
        response = await c.get("/healthz")
    assert response.status_code == 503


async def test_large_responses_are_gzipped(store: Store, client: httpx.AsyncClient) -> None:
    await make_sessions(store, 30)
    response = await client.post(
        "/graphql",
        json={
            "query": "{ sessions(first: 30) { edges { node { sessionId cwd resumeCommand } } } }"
        },
        headers={"accept-encoding": "gzip"},
    )
    assert response.headers["content-encoding"] == "gzip"
    assert len(response.json()["data"]["sessions"]["edges"]) == 30


async def test_app_opens_and_closes_its_own_store(tmp_path: Path) -> None:
    from graph.app import create_app

    path = tmp_path / "own.db"
    app = create_app(path)
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://127.0.0.1") as client:
            assert (await client.get("/healthz")).json()["schemaVersion"] == LATEST
            response = await client.post("/graphql", json={"query": "{ stats { sessions } }"})
            assert response.json() == {"data": {"stats": {"sessions": 0}}}
        store = app.state.store
    assert path.exists()
    with pytest.raises(StoreError):
        store.writer_connection  # noqa: B018 - closed at shutdown


async def test_parsing_and_validation_are_cached_across_requests(
    client: httpx.AsyncClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    from strawberry.extensions.parser_cache import _get_parse_cache

    from graph.schema import validation

    query = {"query": "query CacheProbe { health { ok } stats { sessions } }"}
    await client.post("/graphql", json=query)
    parse_cache: Any = _get_parse_cache(256)  # functools.lru_cache, typed as a plain callable
    parsed = parse_cache.cache_info()
    validated: list[object] = []
    real = validation._validate

    def counting(*args: Any) -> Any:
        validated.append(args)
        return real(*args)

    monkeypatch.setattr(validation, "_validate", counting)
    for _ in range(3):
        assert (await client.post("/graphql", json=query)).status_code == 200
    # Neither parsed nor validated again: the document is prepared (graph/schema/prepared.py).
    assert parse_cache.cache_info().misses == parsed.misses
    assert validated == []  # validated once, by the first request
