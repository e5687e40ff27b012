"""Prepared queries (``graph/schema/prepared.py``): a query document answered before is
run again without strawberry's pipeline, and answers exactly as the pipeline would:
the same data, and every refusal and error (which the pipeline gives) the same."""

from __future__ import annotations

import logging
from typing import Any

import pytest
from graphql import parse
from strawberry.schema.exceptions import InvalidOperationTypeError
from strawberry.types.execution import ExecutionResult
from strawberry.types.graphql import OperationType

from graph.schema import Context, Schema, build_schema, limits
from graph.schema import prepared as prepared_module
from graph.schema.limits import cost_varies
from graph.schema.prepared import PreparedQueries
from graph.settings import ServerSettings
from graph.store import Store
from tests.test_import_support import imported_fixture, samples_db_fixture
from tests.test_served_plans import DOCUMENTS

__all__ = ["imported_fixture", "samples_db_fixture"]

WITH_VARIABLES = [
    (
        """query Page($n: Int!, $after: String) { sessions(first: $n, after: $after) {
          pageInfo { hasNextPage endCursor } edges { cursor node { sessionId
          messages(first: $n) { totalCount nodes { id role text } } } } } }""",
        {"n": 3},
    ),
    (
        """query Fragments($skip: Boolean!) { sessions(first: 4) { nodes { ...S } } }
        fragment S on Session { sessionId title @skip(if: $skip) ... on Session {
          conversations { agentId } } }""",
        {"skip": True},
    ),
    (
        """query A { a: sessions(first: 2) { nodes { sessionId } } }
        query B { b: stats { sessions messages } }""",
        None,
    ),
]


class Spy:
    """Counts the requests the prepared path answered."""

    def __init__(self, prepared: PreparedQueries, monkeypatch: pytest.MonkeyPatch) -> None:
        self.tried = self.answered = 0
        real = prepared.run

        async def run(*args: Any) -> ExecutionResult | None:
            self.tried += 1
            answer = await real(*args)
            self.answered += answer is not None
            return answer

        monkeypatch.setattr(prepared, "run", run)


def _spied(
    monkeypatch: pytest.MonkeyPatch, settings: ServerSettings | None = None
) -> tuple[Schema, Spy]:
    schema = build_schema(settings)
    assert schema.prepared is not None
    return schema, Spy(schema.prepared, monkeypatch)


def _unprepared() -> Schema:
    schema = build_schema()
    schema.prepared = None
    return schema


async def _run(
    schema: Schema,
    store: Store,
    document: str,
    variables: dict[str, Any] | None = None,
    operation_name: str | None = None,
    **kwargs: Any,
) -> ExecutionResult:
    context = Context(store=store, settings=ServerSettings(), request_id="t")
    return await schema.execute(
        document,
        variable_values=variables,
        context_value=context,
        operation_name=operation_name,
        **kwargs,
    )


def _errors(result: ExecutionResult) -> list[tuple[str, Any, Any]]:
    return [(e.message, e.path, e.extensions) for e in result.errors or []]


def _same(one: ExecutionResult, other: ExecutionResult) -> None:
    assert one.data == other.data
    assert _errors(one) == _errors(other)


@pytest.mark.parametrize(
    ("document", "variables", "operation"),
    [
        *((d, None, None) for d in DOCUMENTS),
        *((d, v, None) for d, v in WITH_VARIABLES[:2]),
        (WITH_VARIABLES[2][0], None, "A"),
        (WITH_VARIABLES[2][0], None, "B"),
    ],
)
async def test_a_prepared_document_answers_as_the_pipeline_does(
    imported: Store,
    monkeypatch: pytest.MonkeyPatch,
    document: str,
    variables: dict[str, Any] | None,
    operation: str | None,
) -> None:
    schema, spy = _spied(monkeypatch)
    stock = await _run(_unprepared(), imported, document, variables, operation)
    first = await _run(schema, imported, document, variables, operation)
    again = await _run(schema, imported, document, variables, operation)
    _same(first, stock)
    _same(again, stock)
    # Answers with an error take the pipeline (DOCUMENTS has one), the rest are prepared.
    assert spy.answered == (0 if stock.errors else 1)
    assert stock.data is not None


async def test_the_cost_is_checked_again_with_each_requests_variables(
    imported: Store, monkeypatch: pytest.MonkeyPatch
) -> None:
    schema, spy = _spied(monkeypatch)
    document = WITH_VARIABLES[0][0]
    assert (await _run(schema, imported, document, {"n": 2})).errors is None
    costly = await _run(schema, imported, document, {"n": 400})
    assert [(e.extensions or {}).get("code") for e in costly.errors or []] == ["QUERY_TOO_COSTLY"]
    _same(costly, await _run(_unprepared(), imported, document, {"n": 400}))
    assert spy.answered == 0
    for _ in range(2):  # the pipeline's (the last answer erred), then prepared again
        assert (await _run(schema, imported, document, {"n": 2})).errors is None
    assert spy.answered == 1


@pytest.mark.parametrize(
    "variables",
    [
        {"n": "three"},  # refused by the variables' coercion
        {"n": 2, "after": "not-a-cursor"},  # refused by the resolver
        {"n": 501},  # over the page size (and under the cost)
        {},  # a variable missing
    ],
)
async def test_an_answer_with_errors_is_the_pipelines(
    imported: Store, monkeypatch: pytest.MonkeyPatch, variables: dict[str, Any]
) -> None:
    schema, spy = _spied(monkeypatch)
    document = WITH_VARIABLES[0][0].replace("messages(first: $n)", "messages(first: 1)")
    await _run(schema, imported, document, {"n": 1})
    wrong = await _run(schema, imported, document, variables)
    assert wrong.errors
    assert all("code" in (e.extensions or {}) for e in wrong.errors)
    _same(wrong, await _run(_unprepared(), imported, document, variables))
    assert spy.answered == 0


async def test_an_internal_error_is_masked_and_logged_once(
    imported: Store, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    schema, _ = _spied(monkeypatch)
    document = "{ sessions(first: 2) { nodes { sessionId title } } }"
    assert (await _run(schema, imported, document)).errors is None

    def broken(*args: Any) -> str:
        raise RuntimeError("secret detail")

    monkeypatch.setattr(Context, "open_text", broken)  # what the title is read with
    with caplog.at_level(logging.ERROR, logger="graph.schema.errors"):
        answer = await _run(schema, imported, document)
    assert answer.errors
    assert {e.message for e in answer.errors} == {"Internal error"}
    assert {e.extensions["code"] for e in answer.errors if e.extensions} == {
        "INTERNAL_SERVER_ERROR"
    }
    assert "secret detail" not in repr(_errors(answer))
    logged = [r for r in caplog.records if r.getMessage().startswith("internal error")]
    assert len(logged) == len(answer.errors)  # by the pipeline's run only


async def test_only_query_documents_that_passed_every_check_are_kept(
    imported: Store, monkeypatch: pytest.MonkeyPatch
) -> None:
    schema, spy = _spied(monkeypatch, ServerSettings(introspection=False))
    assert schema.prepared is not None
    refused = [
        "{ sessions(first: 2) { nodes { nope } } }",  # invalid
        "{ __schema { types { name } } }",  # introspection is off
        "{ " + "a: health { ok } " * 40 + "}",  # too many aliases
        "subscription { sessionsChanged { sessionId } }",  # not a query
    ]
    for document in refused:
        for _ in range(2):
            await _run(schema, imported, document)
    assert len(schema.prepared) == 0
    assert spy.answered == 0


async def test_the_allowed_operations_still_apply(
    imported: Store, monkeypatch: pytest.MonkeyPatch
) -> None:
    schema, spy = _spied(monkeypatch)
    document = "{ stats { sessions } }"
    await _run(schema, imported, document)
    with pytest.raises(InvalidOperationTypeError):
        await _run(schema, imported, document, allowed_operation_types={OperationType.MUTATION})
    assert (
        await _run(schema, imported, document, allowed_operation_types={OperationType.QUERY})
    ).errors is None
    once = (kind for kind in [OperationType.QUERY])  # an iterable read once is enough
    assert (await _run(schema, imported, document, allowed_operation_types=once)).errors is None
    assert spy.answered == 2


async def test_a_document_whose_last_answer_erred_is_answered_by_the_pipeline_alone(
    imported: Store, monkeypatch: pytest.MonkeyPatch
) -> None:
    schema, spy = _spied(monkeypatch)
    page = await _run(schema, imported, "{ sessions(first: 1) { nodes { id } } }")
    assert page.data is not None
    real = {"id": page.data["sessions"]["nodes"][0]["id"]}
    document = "query($id: ID!) { node(id: $id) { id } }"
    outcomes = []
    for variables in (real, {"id": "gone"}, {"id": "gone"}, {"id": "gone"}, real, real):
        answer = await _run(schema, imported, document, variables)
        outcomes.append((bool(answer.errors), spy.tried, spy.answered))
    assert outcomes == [
        (False, 0, 0),  # the pipeline's, and kept
        (True, 1, 0),  # tried, dropped: the pipeline's
        (True, 1, 0),  # the pipeline's alone: the last answer erred
        (True, 1, 0),
        (False, 1, 0),  # the pipeline's, without an error again
        (False, 2, 1),  # prepared
    ]


def test_documents_kept_are_bounded() -> None:
    prepared = PreparedQueries(build_schema(), ServerSettings(), maxsize=3)
    for n in range(5):
        prepared.remember(f"{{ s{n}: stats {{ sessions }} }}", None, erred=False)
    assert len(prepared) == 3
    assert prepared.get("{ s0: stats { sessions } }", None) is None
    assert prepared.get("{ s4: stats { sessions } }", None) is not None


@pytest.mark.parametrize(
    ("document", "varies"),
    [
        ("query($n: Int) { sessions(first: $n) { totalCount } }", True),
        (
            "query($n: Int) { sessions(first: 3) { nodes { messages(last: $n) { totalCount } } } }",
            True,
        ),
        ("query($n: Int) { ...F } fragment F on Query { events(first: $n) { totalCount } }", True),
        ("query($a: String) { sessions(first: 5, after: $a) { totalCount } }", False),
        ("{ sessions { nodes { messages(first: 5) { totalCount } } } }", False),
    ],
)
def test_a_cost_varies_with_the_variables_that_size_a_page(document: str, varies: bool) -> None:
    assert cost_varies(parse(document)) is varies


async def test_a_cost_that_cannot_vary_is_not_checked_again(
    imported: Store, monkeypatch: pytest.MonkeyPatch
) -> None:
    schema, spy = _spied(monkeypatch)
    checked: list[object] = []
    real = limits.check_cost

    def counting(*args: Any) -> None:
        checked.append(args)
        real(*args)

    monkeypatch.setattr(prepared_module, "check_cost", counting)
    fixed = "query($a: String) { sessions(first: 5, after: $a) { nodes { sessionId } } }"
    sized = "query($n: Int) { sessions(first: $n) { nodes { sessionId } } }"
    for _ in range(3):
        assert (await _run(schema, imported, fixed, {"a": None})).errors is None
        assert (await _run(schema, imported, sized, {"n": 5})).errors is None
    assert spy.answered == 4
    assert len(checked) == 2  # the sized document's, each time it was prepared
