"""The served schema answers as graphql-core's own execution would.

The served schema plans what it can (``graph/schema/planner.py``): plain fields are read
without a resolve info, connection pages and a row's session and thread are values made
once, ``__typename`` is the type's name. These documents run over the imported samples
twice, planned and through strawberry's stock execution context, and must answer the
same: data, errors and their paths.
"""

from __future__ import annotations

from typing import Any

import pytest
from strawberry.schema.schema import Schema, StrawberryGraphQLCoreExecutionContext
from strawberry.types.execution import ExecutionResult

from graph.schema import Context, build_schema
from graph.settings import ServerSettings
from graph.store import Store
from tests.test_import_support import imported_fixture, samples_db_fixture

__all__ = ["imported_fixture", "samples_db_fixture"]

PARENTS = "__typename id session { __typename sessionId } conversation { __typename agentId }"

DOCUMENTS = [
    # Through the sessions' pages: the rows' parents are rows the request has read.
    f"""{{ sessions(first: 20) {{ edges {{ node {{ __typename sessionId
      conversations {{ __typename agentId session {{ sessionId }}
        messages(first: 30) {{ nodes {{ {PARENTS} role text
          blocks {{ __typename ... on TextBlock {{ text }} ... on ToolUseBlock {{ name }} }} }} }}
        events(first: 10) {{ nodes {{ {PARENTS} type }} }} }}
      messages(last: 5) {{ edges {{ cursor node {{ {PARENTS} }} }} }}
      events(first: 5) {{ nodes {{ {PARENTS} subtype }} }} }} }} }} }}""",
    # From the root list and search hits: parents are loaded, each once.
    f"{{ events(first: 40) {{ nodes {{ {PARENTS} }} }} }}",
    f"""{{ search(query: "the OR file", first: 40) {{ nodes {{ __typename session {{ sessionId }}
      node {{ __typename ... on Message {{ {PARENTS} }} ... on Event {{ {PARENTS} }} }} }} }} }}""",
    # Content: blocks and records, read with a page's messages or found alone.
    """{ sessions(first: 20) { nodes { messages(first: 40) { nodes { id records blocks {
      __typename ... on ToolUseBlock { name input } ... on TextBlock { text } } } } } } }""",
    """{ search(query: "the OR file", first: 20) { nodes { node { ... on Message { records
      blocks { __typename } } } } } }""",
    # A parent's parent, and a field that fails beside the planned ones.
    """{ events(first: 10) { nodes { conversation { session { sessionId
      conversations { agentId } } } } } }""",
    """{ events(first: 3) { nodes { __typename session { sessionId } } }
      message(id: "not-an-id") { id } }""",
]


def _stock(schema: Schema) -> Schema:
    """``schema`` run by strawberry's own execution context: every field resolved."""
    schema.execution_context_class = StrawberryGraphQLCoreExecutionContext
    return schema


async def _run(schema: Schema, store: Store, document: str) -> ExecutionResult:
    context = Context(store=store, settings=ServerSettings(), request_id="t")
    return await schema.execute(document, context_value=context)


def _objects(value: Any) -> int:
    """How many objects an answer holds, at any depth."""
    if isinstance(value, dict):
        return 1 + sum(_objects(v) for v in value.values())
    if isinstance(value, list):
        return sum(_objects(v) for v in value)
    return 0


def _errors(result: ExecutionResult) -> list[tuple[str, Any, Any]]:
    return [(e.message, e.path, (e.extensions or {}).get("code")) for e in result.errors or []]


@pytest.mark.parametrize("document", DOCUMENTS, ids=range(len(DOCUMENTS)))
async def test_planned_answers_are_the_stock_answers(imported: Store, document: str) -> None:
    planned = await _run(build_schema(), imported, document)
    stock = await _run(_stock(build_schema()), imported, document)
    assert planned.data == stock.data
    assert _errors(planned) == _errors(stock)
    assert planned.data is not None and _objects(planned.data) >= 6  # rows were answered


async def test_every_row_has_its_own_parents(imported: Store) -> None:
    result = await _run(build_schema(), imported, DOCUMENTS[0])
    assert result.errors is None and result.data is not None
    rows = 0
    for edge in result.data["sessions"]["edges"]:
        session = edge["node"]
        mine = {"__typename": "Session", "sessionId": session["sessionId"]}
        for thread in session["conversations"]:
            assert thread["session"] == {"sessionId": session["sessionId"]}
            for row in (*thread["messages"]["nodes"], *thread["events"]["nodes"]):
                rows += 1
                assert row["session"] == mine
                assert row["conversation"] == {
                    "__typename": "Conversation",
                    "agentId": thread["agentId"],
                }
    assert rows > 50  # the samples have threads and events to check


async def test_a_message_found_alone_has_the_blocks_and_records_of_its_page(
    imported: Store,
) -> None:
    content = "records blocks { __typename ... on TextBlock { text } ... on ToolUseBlock { name } }"
    page = await _run(
        build_schema(),
        imported,
        f"{{ sessions(first: 20) {{ nodes {{ messages(first: 40) {{"
        f" nodes {{ id {content} }} }} }} }} }}",
    )
    assert page.errors is None and page.data is not None
    messages = [m for s in page.data["sessions"]["nodes"] for m in s["messages"]["nodes"]]
    assert any(m["blocks"] for m in messages)
    for message in messages[::7]:
        alone = await _run(
            build_schema(), imported, f'{{ message(id: "{message["id"]}") {{ id {content} }} }}'
        )
        assert alone.errors is None and alone.data == {"message": message}
