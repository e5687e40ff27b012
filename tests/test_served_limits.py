"""The served API's limits and refusals, found in a break-it pass: each holds one fault."""

from __future__ import annotations

import asyncio
import base64
import json
import shutil
from pathlib import Path
from typing import Any

import httpx
import pytest
from graphql import ExecutionResult, parse

from graph.app import create_app, metrics_app
from graph.feed import ChangeFeed
from graph.schema import Context, build_schema
from graph.schema.limits import estimate_cost
from graph.settings import ServerSettings
from graph.store import NewSession, Store
from graph.usage import local_zone
from tests.factories import make_sessions

# 500 events, each with 500 messages of its session: 250,500 nodes.
NESTED = """query($n: Int = 500) { events(first: $n) { nodes { session {
  messages(first: $n) { nodes { id text } } } } } }"""


def _codes(body: dict[str, Any]) -> list[str | None]:
    return [(error.get("extensions") or {}).get("code") for error in body.get("errors", [])]


@pytest.mark.parametrize(
    ("variables", "cost"),
    [
        ({}, 500 + 500 * 500),  # the defaults
        ({"n": 3}, 3 + 3 * 3),  # given: they win
        ({"n": None}, 50 + 50 * 50),  # given as null: the server's page size
    ],
)
def test_a_variables_default_sizes_a_page(variables: dict[str, Any], cost: int) -> None:
    assert estimate_cost(parse(NESTED), None, variables, 50) == cost


async def test_a_costly_default_is_refused_as_the_same_value_given_is(
    client: httpx.AsyncClient,
) -> None:
    for variables in ({"n": 500}, None, {}):
        response = await client.post("/graphql", json={"query": NESTED, "variables": variables})
        assert response.status_code == 400, variables
        assert _codes(response.json()) == ["QUERY_TOO_COSTLY"]


async def test_a_prepared_document_left_to_its_costly_default_is_refused(
    client: httpx.AsyncClient,
) -> None:
    for _ in range(2):  # the pipeline answers it, then it is prepared
        response = await client.post("/graphql", json={"query": NESTED, "variables": {"n": 2}})
        assert response.status_code == 200 and "errors" not in response.json()
    response = await client.post("/graphql", json={"query": NESTED})
    assert response.status_code == 400
    assert _codes(response.json()) == ["QUERY_TOO_COSTLY"]


def _cursor(*values: Any) -> str:
    return base64.urlsafe_b64encode(json.dumps(values).encode()).decode().rstrip("=")


@pytest.mark.parametrize(
    ("field", "cursor"),
    [
        ("usage(groupBy: [DAY], after: $c)", _cursor("u:day", "zz")),
        ("usage(groupBy: [DAY], after: $c)", _cursor("u:day", 2.7)),
        ("projects(after: $c)", _cursor("pj", "zz")),
        ("projects(after: $c)", _cursor("pj", "1")),
        ("sessions(after: $c)", _cursor("sSd", 7, 1)),  # a number where a time goes
        ("sessions(after: $c)", _cursor("sSd", "2026-01-01T00:00:00.000Z", "1")),
        ("sessions(after: $c)", _cursor("sSd", "2026-01-01T00:00:00.000Z", 2.7)),
        ("sessions(orderBy: {field: MESSAGE_COUNT}, before: $c)", _cursor("sMd", "zz", 1)),
        ("events(after: $c)", _cursor("e", "2026-01-01T00:00:00.000Z", "zz")),
    ],
)
async def test_a_cursor_with_values_of_the_wrong_type_is_bad_user_input(
    client: httpx.AsyncClient, field: str, cursor: str
) -> None:
    query = f"query($c: String) {{ {field} {{ totalCount }} }}"
    response = await client.post("/graphql", json={"query": query, "variables": {"c": cursor}})
    assert _codes(response.json()) == ["BAD_USER_INPUT"], response.text
    assert "is not a cursor of this connection" in response.json()["errors"][0]["message"]


async def test_the_cursors_a_connection_gives_are_taken_back(
    client: httpx.AsyncClient, store: Store
) -> None:
    await make_sessions(store, 3)
    for field, key in (
        ("sessions(first: 1, after: $c)", "sessions"),
        ("sessions(first: 1, after: $c, orderBy: {field: MESSAGE_COUNT})", "sessions"),
        ("events(first: 1, after: $c)", "events"),
        ("usage(groupBy: [DAY], first: 1, after: $c)", "usage"),
        ("projects(first: 1, after: $c)", "projects"),
    ):
        query = f"query($c: String) {{ {field} {{ pageInfo {{ endCursor }} }} }}"
        cursor = None
        for _ in range(2):  # the first page's cursor, then the page after it
            body = (
                await client.post("/graphql", json={"query": query, "variables": {"c": cursor}})
            ).json()
            assert "errors" not in body, (field, body)
            cursor = cursor or body["data"][key]["pageInfo"]["endCursor"]
            assert cursor is not None, field


async def test_session_activity_after_a_cursor_of_the_wrong_type_is_bad_user_input(
    store: Store,
) -> None:
    async with store.write() as writer:
        await writer.upsert_session(NewSession("s"))
    feed = ChangeFeed(store.path, poll_seconds=3600)
    await feed.start()
    context = Context(store=store, settings=ServerSettings(), request_id="t", feed=feed)
    try:
        subscription = await build_schema().subscribe(
            'subscription($c: String) { sessionActivity(sessionId: "s", after: $c) { cursor } }',
            variable_values={"c": _cursor("a", "zz")},
            context_value=context,
        )
        assert not isinstance(subscription, ExecutionResult)  # the resolver raises
        result = await asyncio.wait_for(anext(subscription), timeout=10)
        assert [(e.extensions or {}).get("code") for e in result.errors or []] == ["BAD_USER_INPUT"]
    finally:
        await feed.close()


@pytest.mark.parametrize(
    "zone",
    [
        "x" * 255,
        "x" * 256,  # longer than a file name may be (OSError)
        "Europe/" + "x" * 300,
        "Europe",  # a directory of zones (OSError)
        "Europe/Paris\x00",
        "/etc/localtime",
        "../localtime",
        "Europe/../Europe/Paris",
        "Mars/Olympus",
    ],
)
async def test_an_unusable_time_zone_is_bad_user_input(
    client: httpx.AsyncClient, zone: str
) -> None:
    query = "query($tz: String) { usage(groupBy: [DAY], timeZone: $tz) { totalCount } }"
    response = await client.post("/graphql", json={"query": query, "variables": {"tz": zone}})
    body = response.json()
    assert _codes(body) == ["BAD_USER_INPUT"], response.text
    assert len(body["errors"][0]["message"]) < 200  # the name is cut, not echoed whole


@pytest.mark.parametrize("zone", ["Europe", "x" * 256])
def test_a_server_zone_that_is_no_zone_is_utc(monkeypatch: pytest.MonkeyPatch, zone: str) -> None:
    monkeypatch.setenv("TZ", zone)
    assert local_zone() is None


@pytest.mark.parametrize(
    ("host", "status"),
    [("127.0.0.1:9464", 200), ("localhost", 200), ("127.0.0.2:9464", 200), ("evil.com", 400)],
)
async def test_the_metrics_port_answers_the_host_names_the_api_answers(
    tmp_path: Path, migrated: Path, host: str, status: int
) -> None:
    shutil.copyfile(migrated, tmp_path / "s.db")
    api = create_app(tmp_path / "s.db", server=ServerSettings(token="t" * 32))
    async with api.router.lifespan_context(api):
        side = httpx.ASGITransport(app=metrics_app(api, "127.0.0.2"))
        async with httpx.AsyncClient(transport=side, base_url="http://127.0.0.1") as client:
            response = await client.get("/metrics", headers={"host": host})
    assert response.status_code == status  # a DNS-rebound page's Host is its own name


TWO_OPERATIONS = "query A { stats { sessions } } query B { health { ok } }"


async def test_several_operations_without_an_operation_name_are_a_request_error(
    client: httpx.AsyncClient,
) -> None:
    for _ in range(2):  # the second time, the prepared path has seen the document
        named = await client.post("/graphql", json={"query": TWO_OPERATIONS, "operationName": "B"})
        assert named.json() == {"data": {"health": {"ok": True}}}
    for accept in ("application/json", "application/graphql-response+json"):
        response = await client.post(
            "/graphql", json={"query": TWO_OPERATIONS}, headers={"accept": accept}
        )
        assert response.status_code == 400
        assert _codes(response.json()) == ["BAD_REQUEST"]
        assert "`operationName`" in response.json()["errors"][0]["message"]
    response = await client.get("/graphql", params={"query": TWO_OPERATIONS})
    assert response.status_code == 400 and _codes(response.json()) == ["BAD_REQUEST"]
