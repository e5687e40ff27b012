"""schema.graphql is the committed output of `sessiongraph export-schema`."""

from __future__ import annotations

from pathlib import Path

from graph.schema import Context, build_schema, sdl
from graph.settings import ServerSettings
from graph.store import Store

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


async def test_optional_arguments_show_no_null_default(store: Store) -> None:
    assert "= null" not in sdl()
    assert "sessions(filter: SessionFilter, orderBy: SessionOrder, first: Int," in sdl()
    context = Context(store=store, settings=ServerSettings(), request_id="t")
    result = await build_schema().execute(
        '{ __type(name: "Query") { fields { name args { name defaultValue } } } '
        '  filter: __type(name: "SessionFilter") { inputFields { name defaultValue } } }',
        context_value=context,
    )
    assert result.data is not None
    sessions = next(f for f in result.data["__type"]["fields"] if f["name"] == "sessions")
    assert {arg["name"]: arg["defaultValue"] for arg in sessions["args"]}["first"] is None
    assert all(field["defaultValue"] is None for field in result.data["filter"]["inputFields"])
    # Left out, they are still optional: the resolvers' own defaults apply.
    listed = await build_schema().execute(
        "{ sessions(filter: {project: null}) { totalCount } }", context_value=context
    )
    assert listed.errors is None and listed.data == {"sessions": {"totalCount": 0}}
