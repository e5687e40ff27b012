"""schema.graphql is the committed output of `sessiongraph export-schema`."""

from __future__ import annotations

from pathlib import Path

from graph.schema import sdl

SCHEMA_FILE = Path(__file__).resolve().parent.parent / "schema.graphql"


def test_schema_graphql_matches_the_code() -> None:
    assert SCHEMA_FILE.read_text() == sdl(), "schema.graphql is stale: run `make schema`"


def test_the_contract_names_are_in_the_schema() -> None:
    text = sdl()
    for name in (
        "interface Node",
        "type Query",
        "node(id: ID!): Node",
        "session(id: ID!): Session",
        "sessions(filter: SessionFilter",
        "orderBy: SessionOrder",
        "conversation(id: ID!)",
        "message(id: ID!)",
        "events(filter: EventFilter",
        "stats: Stats!",
        "health: Health!",
        "type SessionConnection",
        "type TokenUsage",
        "resumeCommand",
        "totalCount",
        "union ContentBlock",
        "scalar JSON",
    ):
        assert name in text, name
