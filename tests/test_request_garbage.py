"""A request leaves no cyclic garbage: what it allocated is freed when it ends.

Garbage held only by reference cycles waits for a full collection, which on a busy
server took a third of the wall time and made p95 several times p50 (issue 17).
"""

from __future__ import annotations

import gc
from collections import Counter

import httpx
import pytest

from graph.app import create_app
from graph.settings import ServerSettings
from graph.store import Store
from tests.conftest import GraphQL
from tests.factories import make_sessions
from tests.test_statement_counts import NESTED

SEARCH = """query($q: String!) { search(query: $q, first: 5) { totalCount edges { node {
  score snippet node { ... on Message { id text } ... on Session { id title } } } } } }"""
# Selects no rows: what is left after it is the test client's own (httpx's request and
# response objects), the floor the pages are held to.
EMPTY = "{ __typename }"


async def _garbage_of(gql: GraphQL, query: str, variables: dict[str, object]) -> Counter[str]:
    """What a collection finds unreachable after one request, by type, with the
    collector off during the request (so nothing was collected before)."""

    async def request() -> None:
        # Uncompressed: httpx's gzip decoder is itself left in a cycle, on the client.
        response = await gql.client.post(
            "/graphql",
            json={"query": query, "variables": variables},
            headers={"accept-encoding": "identity"},
        )
        assert response.status_code == 200 and "errors" not in response.json()

    await request()  # warm: caches, the reader pool
    gc.collect()
    gc.disable()
    gc.set_debug(gc.DEBUG_SAVEALL)
    try:
        await request()
        gc.collect()
        return Counter(type(o).__qualname__ for o in gc.garbage)
    finally:
        gc.set_debug(0)
        gc.garbage.clear()
        gc.enable()


@pytest.mark.parametrize(("query", "variables"), [(NESTED, {"n": 10}), (SEARCH, {"q": "hello"})])
async def test_a_request_leaves_no_cyclic_garbage(
    store: Store, gql: GraphQL, query: str, variables: dict[str, object]
) -> None:
    await make_sessions(store, 10, messages=8, events=4, sidechain_every=2)
    floor = await _garbage_of(gql, EMPTY, {})
    garbage = await _garbage_of(gql, query, variables)
    left = garbage - floor
    # A stray object or two is not a request's worth: before, this was hundreds (its rows,
    # futures, loaders), growing with the page.
    assert sum(left.values()) <= 3, left.most_common(10)


# A page of sessions with their first messages (the nested page of issue 17).
PAGE = """query($n: Int!) { sessions(first: $n) { totalCount edges { node { id
  messages(first: 5) { totalCount edges { node { id role text } } } } } } }"""


async def test_a_served_request_runs_no_collection(store: Store) -> None:
    # What a page allocates is freed as it goes (no cycles): while the app runs, the
    # collector is not started on its behalf; when it stops, the thresholds are back.
    await make_sessions(store, 30, messages=8, events=4, sidechain_every=2)
    before = gc.get_threshold()
    app = create_app(store=store, server=ServerSettings())
    collections: list[int] = []

    def seen(phase: str, info: dict[str, int]) -> None:
        if phase == "start":
            collections.append(info["generation"])

    body = {"query": PAGE, "variables": {"n": 30}}
    transport = httpx.ASGITransport(app=app)
    async with (
        app.router.lifespan_context(app),
        httpx.AsyncClient(transport=transport, base_url="http://127.0.0.1") as client,
    ):
        await client.post("/graphql", json=body)  # warm: caches, the reader pool, plans
        gc.callbacks.append(seen)
        try:
            # The answer is left unparsed: what is counted is the server's.
            response = await client.post("/graphql", json=body)
        finally:
            gc.callbacks.remove(seen)
    assert response.status_code == 200 and b'"errors"' not in response.content
    assert collections == []
    assert gc.get_threshold() == before
