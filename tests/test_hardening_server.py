"""Server faults found in a break-it pass (issue #13), each held here."""

from __future__ import annotations

import asyncio

import httpx
import pytest
from graphql import parse

from graph.schema.limits import Shape, estimate_cost


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
