"""The GraphQL schema: Strawberry types over the loaders; no SQL in here."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import strawberry
from graphql import (
    GraphQLArgument,
    GraphQLError,
    GraphQLInputField,
    GraphQLInputObjectType,
    GraphQLInterfaceType,
    GraphQLObjectType,
    Undefined,
)
from strawberry.extensions import DisableIntrospection, ParserCache
from strawberry.schema.config import StrawberryConfig
from strawberry.schema.schema import StreamResult
from strawberry.types import ExecutionContext, ExecutionResult
from strawberry.types.execution import PreExecutionError
from strawberry.types.graphql import OperationType

from graph.schema.context import Context
from graph.schema.errors import MaskInternalErrors, add_codes
from graph.schema.execution import CycleFreeExecutionContext
from graph.schema.limits import limit_extensions
from graph.schema.nodes import NODES
from graph.schema.operations import OperationPicked
from graph.schema.prepared import PreparedQueries
from graph.schema.query import Query
from graph.schema.scalars import SCALARS
from graph.schema.streaming import refusing
from graph.schema.subscription import Subscription
from graph.schema.validation import ThreadedValidation, ValidationResults
from graph.settings import ServerSettings

__all__ = ["Context", "Schema", "build_schema", "sdl"]

QUERY = OperationType.QUERY


class Schema(strawberry.Schema):
    """The schema; every error passes :meth:`process_errors` before it is returned, and
    a query document answered before is run as prepared (:mod:`graph.schema.prepared`)."""

    hide_suggestions = False
    prepared: PreparedQueries | None = None

    async def execute(
        self,
        query: str | None,
        variable_values: dict[str, Any] | None = None,
        context_value: Any | None = None,
        root_value: Any | None = None,
        operation_name: str | None = None,
        allowed_operation_types: Iterable[OperationType] | None = None,
        operation_extensions: dict[str, Any] | None = None,
    ) -> ExecutionResult:
        prepared = self.prepared
        if allowed_operation_types is not None:
            allowed_operation_types = frozenset(allowed_operation_types)  # asked twice
        if (
            prepared is None
            or query is None
            or root_value is not None
            or operation_extensions is not None
            or (allowed_operation_types is not None and QUERY not in allowed_operation_types)
        ):
            prepared = None  # strawberry's pipeline alone: nothing to run, nothing to keep
        elif (known := prepared.get(query, operation_name)) is not None:
            answer = await prepared.run(known, variable_values, context_value, operation_name)
            if answer is not None:
                return answer
        result = await super().execute(
            query,
            variable_values,
            context_value,
            root_value,
            operation_name,
            allowed_operation_types,
            operation_extensions,
        )
        if prepared is not None and query is not None and not isinstance(result, PreExecutionError):
            prepared.remember(query, operation_name, erred=bool(result.errors))
        return result

    async def stream(
        self,
        query: str | None,
        variable_values: dict[str, Any] | None = None,
        context_value: Any | None = None,
        root_value: Any | None = None,
        operation_name: str | None = None,
        operation_extensions: dict[str, Any] | None = None,
        allowed_operation_types: Iterable[OperationType] | None = None,
    ) -> StreamResult:
        # The WebSocket's path: a refusal raised before execution (parse, tokens, cost)
        # is an error result here, as execute makes it one over HTTP.
        results = await super().stream(
            query,
            variable_values,
            context_value,
            root_value,
            operation_name,
            operation_extensions,
            allowed_operation_types,
        )
        return refusing(
            results,
            lambda errors: add_codes(errors, hide_suggestions=self.hide_suggestions),
            getattr(context_value, "request_id", None),
        )

    def process_errors(
        self, errors: list[GraphQLError], execution_context: ExecutionContext | None = None
    ) -> None:
        # strawberry calls this for every error, whatever the phase (a parse error raised
        # inside a caching extension included), before extensions such as the masking one
        # see them: the one place where every error can be given its code. Nothing is
        # logged here: internal errors are logged, with their request id, when masked.
        add_codes(errors, hide_suggestions=self.hide_suggestions)


def build_schema(settings: ServerSettings | None = None) -> Schema:
    """The sessiongraph schema with its extensions.

    Args:
        settings: The document limits (depth, aliases, tokens, cost) and whether
            introspection is served (off: no ``__schema``/``__type``, and no "Did you mean"
            hints that would leak field names anyway); the defaults if omitted.
    """
    settings = settings or ServerSettings()
    introspection = settings.introspection
    # Validation results depend on the rules, which depend on the settings: one cache
    # per schema.
    results = ValidationResults(maxsize=256)
    extensions: list[Any] = [
        MaskInternalErrors,
        # Parsing is per-document work: cached across requests (the cache lives at
        # module level, so a fresh extension per request shares it).
        lambda: ParserCache(maxsize=256),
        OperationPicked,
        *limit_extensions(settings),
        lambda: ThreadedValidation(results),
    ]
    if not introspection:
        extensions.append(DisableIntrospection)
    schema = Schema(
        query=Query,
        subscription=Subscription,
        types=[node.type for node in NODES.values()],
        extensions=extensions,
        config=StrawberryConfig(scalar_map=SCALARS),
        execution_context_class=CycleFreeExecutionContext,
    )
    schema.hide_suggestions = not introspection
    schema.prepared = PreparedQueries(schema, settings)
    _drop_null_defaults(schema)
    return schema


def _drop_null_defaults(schema: Schema) -> None:
    """Optional arguments and input fields say nothing by a ``= null`` default: drop it.

    A Python default of ``None`` becomes a GraphQL default of ``null``, which the SDL and
    GraphiQL's docs then show on every optional argument. Without it a value left out is
    simply not passed, and the resolver's (or input class's) own ``None`` applies.
    """
    for named in schema._schema.type_map.values():  # the graphql-core schema
        if named.name.startswith("__"):
            continue
        if isinstance(named, GraphQLObjectType | GraphQLInterfaceType):
            values: list[GraphQLArgument | GraphQLInputField] = [
                arg for field in named.fields.values() for arg in field.args.values()
            ]
        elif isinstance(named, GraphQLInputObjectType):
            values = list(named.fields.values())
        else:
            continue
        for value in values:
            if value.default_value is None:
                value.default_value = Undefined


def sdl() -> str:
    """The schema in SDL, as committed in ``schema.graphql``."""
    return build_schema().as_str() + "\n"
