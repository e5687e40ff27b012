"""Validating documents without holding up other requests.

graphql-core's rules (and the limits, which are rules too: :mod:`graph.schema.limits`)
run in a worker thread, so no document keeps ``/healthz`` or any other request waiting.
The one rule whose work grows faster than the document, field merging (every pair of
fields sharing a response name is compared, their sub-selections pairwise again), runs
with a smaller budget than graphql-core's own: past it the document is refused with
``QUERY_TOO_COMPLEX``. Results are cached by query text, like strawberry's
``ValidationCache`` does, which this replaces.
"""

from __future__ import annotations

import asyncio
from collections import OrderedDict
from collections.abc import AsyncIterator
from typing import Final

from graphql import DocumentNode, GraphQLError, GraphQLSchema
from graphql.validation import ASTValidationRule, OverlappingFieldsCanBeMergedRule
from graphql.validation.validate import ValidationAbortedError
from graphql.validation.validation_context import ValidationContext
from strawberry.extensions import SchemaExtension
from strawberry.schema.schema import validate_document

from graph.errors import UserInputError

__all__ = ["MERGE_BUDGET", "QueryTooComplex", "ThreadedValidation", "ValidationResults"]

MERGE_BUDGET: Final = 50_000
"""Units of field-merging work allowed per document (graphql-core allows 500,000): a few
tenths of a second at worst, where real queries spend hundreds."""

_ABORTED: Final = "Validation aborted."  # graphql-core's message when a budget runs out

Rules = tuple[type[ASTValidationRule], ...]


class QueryTooComplex(UserInputError):
    """The document needs too much work to validate (fields sharing a name to merge)."""

    code = "QUERY_TOO_COMPLEX"


class _BudgetedFieldMerging(OverlappingFieldsCanBeMergedRule):
    """graphql-core's rule with :data:`MERGE_BUDGET`."""

    def __init__(self, context: ValidationContext) -> None:
        super().__init__(context)
        self.rule_context.remaining_complexity_budget = MERGE_BUDGET


def _budgeted(rules: Rules) -> Rules:
    return tuple(
        _BudgetedFieldMerging if rule is OverlappingFieldsCanBeMergedRule else rule
        for rule in rules
    )


def _validate(schema: GraphQLSchema, document: DocumentNode, rules: Rules) -> list[GraphQLError]:
    """graphql-core's validation with strawberry's rules; runs in a worker thread."""
    errors = validate_document(schema, document, _budgeted(rules))
    return [_refused() if _is_aborted(error) else error for error in errors]


def _is_aborted(error: GraphQLError) -> bool:
    return isinstance(error, ValidationAbortedError) and error.message == _ABORTED


def _refused() -> GraphQLError:
    refusal = QueryTooComplex(
        "the document is too complex to validate (too many fields sharing a name to "
        "merge): simplify it"
    )
    return GraphQLError(refusal.message, original_error=refusal)


class ValidationResults:
    """The errors of the last documents validated, by query text and rules (LRU)."""

    def __init__(self, maxsize: int = 256) -> None:
        self.maxsize = maxsize
        self._results: OrderedDict[tuple[str, Rules], list[GraphQLError]] = OrderedDict()

    async def validate(
        self, schema: GraphQLSchema, document: DocumentNode, query: str | None, rules: Rules
    ) -> list[GraphQLError]:
        """The validation errors of ``document`` (the parse of ``query``)."""
        key = (query, rules) if query is not None else None
        if key is not None and key in self._results:
            self._results.move_to_end(key)
            return self._results[key]
        errors = await asyncio.to_thread(_validate, schema, document, rules)
        if key is not None:
            self._results[key] = errors
            if len(self._results) > self.maxsize:
                self._results.popitem(last=False)
        return errors


class ThreadedValidation(SchemaExtension):
    """Validates in a worker thread, with the field-merging budget; results cached."""

    def __init__(self, results: ValidationResults) -> None:
        self.results = results

    async def on_validate(self) -> AsyncIterator[None]:
        context = self.execution_context
        document = context.graphql_document
        if document is not None and context.pre_execution_errors is None:
            # Set, even when empty, so that strawberry does not validate a second time.
            context.pre_execution_errors = await self.results.validate(
                context.schema._schema,
                document,
                context.query,
                tuple(context.validation_rules),
            )
        yield
