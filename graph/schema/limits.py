"""Document limits: depth, aliases, tokens (strawberry's extensions) and a page-size cost.

The validation rules are built once per schema: strawberry's limiters create a new rule
class in their constructor, and a new class per request would make every request miss
the ValidationCache (its key includes the rules).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from typing import Any

from graphql import (
    DocumentNode,
    FieldNode,
    FragmentDefinitionNode,
    FragmentSpreadNode,
    InlineFragmentNode,
    IntValueNode,
    OperationDefinitionNode,
    SelectionSetNode,
    VariableNode,
)
from strawberry.extensions import (
    AddValidationRules,
    MaxAliasesLimiter,
    MaxTokensLimiter,
    QueryDepthLimiter,
    SchemaExtension,
)

from graph.errors import UserInputError

__all__ = ["Limits", "QueryTooCostly", "estimate_cost", "limit_extensions"]


class QueryTooCostly(UserInputError):
    """The query asks for more nodes, all pages multiplied out, than the server allows."""

    code = "QUERY_TOO_COSTLY"


@dataclass(frozen=True, slots=True)
class Limits:
    max_depth: int = 12
    max_aliases: int = 30
    max_tokens: int = 2_000
    max_cost: int = 50_000
    default_page_size: int = 50


def estimate_cost(
    document: DocumentNode,
    operation_name: str | None,
    variables: Mapping[str, Any],
    default_page_size: int,
) -> int:
    """How many nodes the operation may return: every connection's page size (``first``
    or ``last``, else the default) times the page sizes of the connections around it,
    summed over the document."""
    fragments = {
        d.name.value: d for d in document.definitions if isinstance(d, FragmentDefinitionNode)
    }
    operations = [d for d in document.definitions if isinstance(d, OperationDefinitionNode)]
    operation = next(
        (
            o
            for o in operations
            if operation_name is None or (o.name and o.name.value == operation_name)
        ),
        None,
    )
    if operation is None:
        return 0

    def size(field: FieldNode) -> int | None:
        names = {arg.name.value: arg.value for arg in field.arguments or ()}
        if not {"first", "last"} & names.keys() and not _is_connection(field):
            return None
        for name in ("first", "last"):
            value = names.get(name)
            if isinstance(value, IntValueNode):
                return int(value.value)
            if isinstance(value, VariableNode):
                given = variables.get(value.name.value)
                if isinstance(given, int):
                    return given
        return default_page_size

    def walk(selection_set: SelectionSetNode | None, factor: int, seen: frozenset[str]) -> int:
        total = 0
        for selection in selection_set.selections if selection_set else ():
            if isinstance(selection, FieldNode):
                page = size(selection)
                inner = factor if page is None else factor * max(page, 1)
                total += 0 if page is None else factor * page
                total += walk(selection.selection_set, inner, seen)
            elif isinstance(selection, InlineFragmentNode):
                total += walk(selection.selection_set, factor, seen)
            elif isinstance(selection, FragmentSpreadNode):
                name = selection.name.value
                if name in fragments and name not in seen:
                    total += walk(fragments[name].selection_set, factor, seen | {name})
        return total

    return walk(operation.selection_set, 1, frozenset())


_CONNECTIONS = frozenset({"sessions", "messages", "events", "search", "usage", "projects"})


def _is_connection(field: FieldNode) -> bool:
    """Connection fields without first/last still return a default-sized page."""
    return field.name.value in _CONNECTIONS


class CostLimit(SchemaExtension):
    """Refuses, before execution, operations whose :func:`estimate_cost` is too high."""

    def __init__(self, limits: Limits) -> None:
        self.limits = limits

    def on_validate(self) -> Iterator[None]:
        yield
        context = self.execution_context
        if context.pre_execution_errors or context.graphql_document is None:
            return
        cost = estimate_cost(
            context.graphql_document,
            context.operation_name,
            context.variables or {},
            self.limits.default_page_size,
        )
        if cost > self.limits.max_cost:
            raise QueryTooCostly(
                f"the query may return {cost:,} nodes (pages multiplied through nested "
                f"connections); the limit is {self.limits.max_cost:,}: ask for smaller pages",
                cost=cost,
                maximum=self.limits.max_cost,
            )


def limit_extensions(limits: Limits) -> list[Callable[[], SchemaExtension]]:
    """Factories of the limiting extensions, sharing rule classes made once."""
    rules = [
        *QueryDepthLimiter(max_depth=limits.max_depth).validation_rules,
        *MaxAliasesLimiter(max_alias_count=limits.max_aliases).validation_rules,
    ]
    return [
        lambda: AddValidationRules(rules),
        lambda: MaxTokensLimiter(max_token_count=limits.max_tokens),
        lambda: CostLimit(limits),
    ]
