"""The served API's limits and refusals, found in a break-it pass: each holds one fault."""

from __future__ import annotations

from typing import Any

import httpx
import pytest
from graphql import parse

from graph.schema.limits import estimate_cost

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
