"""Document limits: depth, aliases, tokens and a page-size cost, in time linear in the document.

A fragment can be spread many times, and spread fragments spread others: a 1 KB chain
of fragments that each spread the next twice stands for 2^n copies of its last field.
Limits that expand every spread (strawberry's depth and alias limiters did) take
exponential time, inside the event loop. Here each fragment is measured once and its
measure reused wherever it is spread; what is counted is still the expanded document
(an alias inside a fragment spread 2^n times counts 2^n times), only computed without
expanding it.

The validation rule classes are made once per schema: a new class per request would make
every request miss the ValidationCache (its key includes the rules).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping
from typing import Any, Final
from weakref import WeakKeyDictionary

from graphql import (
    BREAK,
    ArgumentNode,
    ASTValidationRule,
    DocumentNode,
    FieldNode,
    FragmentDefinitionNode,
    FragmentSpreadNode,
    GraphQLError,
    GraphQLInterfaceType,
    GraphQLObjectType,
    GraphQLSchema,
    InlineFragmentNode,
    IntValueNode,
    OperationDefinitionNode,
    SelectionSetNode,
    ValidationRule,
    VariableNode,
    Visitor,
    get_named_type,
    visit,
)
from strawberry.extensions import AddValidationRules, MaxTokensLimiter, SchemaExtension

from graph.errors import UserInputError
from graph.settings import ServerSettings

__all__ = [
    "QueryTooCostly",
    "Shape",
    "check_cost",
    "connection_fields",
    "cost_varies",
    "estimate_cost",
    "limit_extensions",
]

# The arguments that size a page (the rest of a connection's arguments cost nothing).
_PAGE_SIZES: Final = ("first", "last")  # in the order they are read

# Per schema, the fields that return connections (computed on first use).
_CONNECTIONS: WeakKeyDictionary[GraphQLSchema, frozenset[str]] = WeakKeyDictionary()


class QueryTooCostly(UserInputError):
    """The query asks for more nodes, all pages multiplied out, than the server allows."""

    code = "QUERY_TOO_COSTLY"


def connection_fields(schema: GraphQLSchema) -> frozenset[str]:
    """The names of the fields that return a connection (a type named ``...Connection``),
    read off the schema: a connection added to the schema is costed without a list here
    to keep in step."""
    return frozenset(
        name
        for graphql_type in schema.type_map.values()
        if isinstance(graphql_type, GraphQLObjectType | GraphQLInterfaceType)
        and not graphql_type.name.startswith("__")
        for name, field in graphql_type.fields.items()
        if get_named_type(field.type).name.endswith("Connection")
    )


class Shape:
    """Depth and alias count of a document's selection sets, each fragment measured once.

    ``visits`` counts the selection sets measured: at most one per selection set in the
    document, however often its fragments are spread (the tests hold it to that).
    """

    def __init__(self, document: DocumentNode) -> None:
        self.fragments = {
            d.name.value: d for d in document.definitions if isinstance(d, FragmentDefinitionNode)
        }
        self.visits = 0
        self._memo: dict[str, tuple[int, int]] = {}
        self._open: set[str] = set()  # a cycle is another rule's error; here it ends the walk

    def measure(self, selection_set: SelectionSetNode | None) -> tuple[int, int]:
        """(depth, aliases) of a selection set: depth counts the nested fields that have
        selections (``{ a { b } }`` is 1), introspection fields not at all."""
        if selection_set is None:
            return 0, 0
        self.visits += 1
        depth = aliases = 0
        for selection in selection_set.selections:
            if isinstance(selection, FieldNode):
                aliases += selection.alias is not None
                if selection.selection_set is None or selection.name.value.startswith("__"):
                    continue
                inner, inner_aliases = self.measure(selection.selection_set)
                depth, aliases = max(depth, inner + 1), aliases + inner_aliases
            elif isinstance(selection, InlineFragmentNode):
                inner, inner_aliases = self.measure(selection.selection_set)
                depth, aliases = max(depth, inner), aliases + inner_aliases
            elif isinstance(selection, FragmentSpreadNode):
                inner, inner_aliases = self.fragment(selection.name.value)
                depth, aliases = max(depth, inner), aliases + inner_aliases
        return depth, aliases

    def fragment(self, name: str) -> tuple[int, int]:
        if name in self._memo:
            return self._memo[name]
        definition = self.fragments.get(name)
        if definition is None or name in self._open:
            return 0, 0
        self._open.add(name)
        self._memo[name] = self.measure(definition.selection_set)
        self._open.discard(name)
        return self._memo[name]


def _rules(limits: ServerSettings) -> list[type[ASTValidationRule]]:
    class DocumentShape(ValidationRule):
        """Refuses operations deeper than ``max_depth`` or with more than ``max_aliases``."""

        def enter_document(self, node: DocumentNode, *_: Any) -> Any:
            shape = Shape(node)
            for operation in node.definitions:
                if not isinstance(operation, OperationDefinitionNode):
                    continue
                name = operation.name.value if operation.name else "anonymous"
                depth, aliases = shape.measure(operation.selection_set)
                if depth > limits.max_depth:
                    self.report_error(
                        GraphQLError(
                            f"'{name}' exceeds maximum operation depth of {limits.max_depth}",
                            operation,
                            extensions={"code": "QUERY_TOO_DEEP", "depth": depth},
                        )
                    )
                if aliases > limits.max_aliases:
                    self.report_error(
                        GraphQLError(
                            f"{aliases:,} aliases found in '{name}': "
                            f"the limit is {limits.max_aliases}",
                            operation,
                            extensions={"code": "TOO_MANY_ALIASES", "aliases": aliases},
                        )
                    )
            return self.SKIP  # measured above: nothing below needs a visit

    return [DocumentShape]


def estimate_cost(
    document: DocumentNode,
    operation_name: str | None,
    variables: Mapping[str, Any],
    default_page_size: int,
    connections: frozenset[str] = frozenset(),
) -> int:
    """How many nodes the operation may return: every connection's page size (``first``
    or ``last``: a literal, a variable's value or its default, else ``default_page_size``)
    times the page sizes of the connections around it, summed over the document.

    The cost of a selection set under a factor is the factor times its cost under 1, so
    each fragment is costed once and scaled wherever it is spread.
    """
    fragments = {
        d.name.value: d for d in document.definitions if isinstance(d, FragmentDefinitionNode)
    }
    operation = next(
        (
            d
            for d in document.definitions
            if isinstance(d, OperationDefinitionNode)
            and (operation_name is None or (d.name is not None and d.name.value == operation_name))
        ),
        None,
    )
    if operation is None:
        return 0
    # A variable left out takes its default: `query($n: Int = 500)` sizes its pages at
    # 500 as surely as `{"n": 500}` does (one given, even as null, wins, as in execution).
    defaults = {
        definition.variable.name.value: int(definition.default_value.value)
        for definition in operation.variable_definitions or ()
        if isinstance(definition.default_value, IntValueNode)
    }
    costing = _Costing(fragments, {**defaults, **variables}, default_page_size, connections)
    return costing.cost(operation.selection_set)


class _Costing:
    """The walk of :func:`estimate_cost`: methods, not nested closures, because closures
    that call each other form a reference cycle, garbage left by every request."""

    def __init__(
        self,
        fragments: Mapping[str, FragmentDefinitionNode],
        variables: Mapping[str, Any],
        default_page_size: int,
        connections: frozenset[str],
    ) -> None:
        self.fragments = fragments
        self.variables = variables
        self.default_page_size = default_page_size
        self.connections = connections
        self.memo: dict[str, int] = {}
        self.walking: set[str] = set()

    def size(self, field: FieldNode) -> int | None:
        names = {arg.name.value: arg.value for arg in field.arguments or ()}
        if not names.keys() & _PAGE_SIZES and field.name.value not in self.connections:
            return None
        for name in _PAGE_SIZES:
            value = names.get(name)
            if isinstance(value, IntValueNode):
                return int(value.value)
            if isinstance(value, VariableNode):
                given = self.variables.get(value.name.value)
                if isinstance(given, int):
                    return given
        return self.default_page_size

    def fragment(self, name: str) -> int:
        if name not in self.memo:
            definition = self.fragments.get(name)
            if definition is None or name in self.walking:
                return 0
            self.walking.add(name)
            self.memo[name] = self.cost(definition.selection_set)
            self.walking.discard(name)
        return self.memo[name]

    def cost(self, selection_set: SelectionSetNode | None) -> int:
        total = 0
        for selection in selection_set.selections if selection_set else ():
            if isinstance(selection, FieldNode):
                page = self.size(selection)
                inner = self.cost(selection.selection_set)
                total += inner if page is None else page + max(page, 1) * inner
            elif isinstance(selection, InlineFragmentNode):
                total += self.cost(selection.selection_set)
            elif isinstance(selection, FragmentSpreadNode):
                total += self.fragment(selection.name.value)
        return total


class _PageSizeVariables(Visitor):
    found = False

    def enter_argument(self, node: ArgumentNode, *_: Any) -> Any:
        if node.name.value in _PAGE_SIZES and isinstance(node.value, VariableNode):
            self.found = True
            return BREAK
        return None


def cost_varies(document: DocumentNode) -> bool:
    """Whether :func:`estimate_cost` depends on the variables (a page size given by one)."""
    finder = _PageSizeVariables()
    visit(document, finder)
    return finder.found


def check_cost(
    schema: GraphQLSchema,
    document: DocumentNode,
    operation_name: str | None,
    variables: Mapping[str, Any] | None,
    limits: ServerSettings,
) -> None:
    """Refuses the operation if its :func:`estimate_cost` (with these variables) is over
    the limit.

    Raises:
        QueryTooCostly: the estimate is over ``limits.max_cost``.
    """
    connections = _CONNECTIONS.get(schema)
    if connections is None:
        connections = _CONNECTIONS[schema] = connection_fields(schema)
    cost = estimate_cost(
        document, operation_name, variables or {}, limits.default_page_size, connections
    )
    if cost > limits.max_cost:
        raise QueryTooCostly(
            f"the query may return {cost:,} nodes (pages multiplied through nested "
            f"connections); the limit is {limits.max_cost:,}: ask for smaller pages",
            cost=cost,
            maximum=limits.max_cost,
        )


class CostLimit(SchemaExtension):
    """Refuses, before execution, operations whose :func:`estimate_cost` is too high."""

    def __init__(self, limits: ServerSettings) -> None:
        self.limits = limits

    def on_validate(self) -> Iterator[None]:
        yield
        context = self.execution_context
        if context.pre_execution_errors or context.graphql_document is None:
            return
        check_cost(
            context.schema._schema,
            context.graphql_document,
            context.operation_name,
            context.variables,
            self.limits,
        )


def limit_extensions(limits: ServerSettings) -> list[Callable[[], SchemaExtension]]:
    """Factories of the limiting extensions, sharing rule classes made once."""
    rules = _rules(limits)
    return [
        lambda: AddValidationRules(rules),
        lambda: MaxTokensLimiter(max_token_count=limits.max_tokens),
        lambda: CostLimit(limits),
    ]
