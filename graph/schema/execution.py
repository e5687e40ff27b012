"""The execution context: strawberry's, without the reference cycle it leaves per request,
and with plain columns read without the per-field machinery.

graphql-core's executor hands resolvers helpers that are bound methods of the executor
itself (``executor.async_helpers.track is executor.track_async_work``): a cycle, so each
request's executor, and through its ``context_value`` every loader, future and row of
the request, outlived it until the next full collection (36% of the wall time of a
nested page, and a p95 several times its p50). Here the helpers reach the executor
through a weak reference, so a request is freed by reference counting when it ends.

Most fields of a page are plain attributes with a scalar type (ids, names, counts). For
those the executor builds a resolve info, calls strawberry's default resolver through
its wrappers and completes the value through the generic path, per field and per row.
Here a scalar field that strawberry would resolve by reading an attribute (no resolver,
no arguments, no field extension), or by calling a synchronous method of the object
that takes nothing else (no info, no arguments), is read and serialized directly.
Anything unusual about the value (an exception, a null where not allowed, a serializer
that refuses it) sends the field down the generic path, which reads it again and
reports the error as it always did.
"""

from __future__ import annotations

import weakref
from collections.abc import Awaitable, Callable, Sequence
from typing import Any, NamedTuple

from graphql import (
    GraphQLField,
    GraphQLNonNull,
    GraphQLObjectType,
    GraphQLScalarType,
    GraphQLSchema,
)
from graphql.execution.collect_fields import FieldDetailsList, GroupedFieldSet
from graphql.execution.executor import to_nodes
from graphql.pyutils import Path, Undefined, gather_with_cancel
from graphql.type.definition import GraphQLResolveInfoHelpers
from strawberry.schema.schema import StrawberryGraphQLCoreExecutionContext
from strawberry.types.field import StrawberryField
from strawberry.types.fields.resolver import StrawberryResolver

__all__ = ["CycleFreeExecutionContext"]

# strawberry keeps each GraphQL field's definition under this extension key.
_DEFINITION = "strawberry-definition"


class _Plain(NamedTuple):
    """How to read a plain scalar field: the attribute, its reader, its serializer."""

    attribute: str
    read: Callable[[Any, str], Any]
    serialize: Callable[[Any], Any]
    nullable: bool
    field: GraphQLField


def _plain(
    schema: GraphQLSchema, parent_type: GraphQLObjectType, details: FieldDetailsList
) -> _Plain | None:
    """The reading of a field strawberry resolves as an attribute of scalar type, if it is one."""
    node = details[0].node
    field_def = schema.get_field(parent_type, node.name.value)
    if field_def is None or field_def.args or node.arguments:
        return None
    definition = field_def.extensions.get(_DEFINITION)
    if not isinstance(definition, StrawberryField) or definition.extensions:
        return None
    of_type, nullable = field_def.type, True
    if isinstance(of_type, GraphQLNonNull):
        of_type, nullable = of_type.of_type, False
    if not isinstance(of_type, GraphQLScalarType):
        return None
    resolver = definition.base_resolver
    # strawberry marks the resolver of a field with no resolver and no extensions.
    if resolver is None and getattr(field_def.resolve, "_is_default", False):
        return _Plain(
            definition.python_name,
            definition.default_resolver,
            of_type.serialize,
            nullable,
            field_def,
        )
    method = resolver.wrapped_func if resolver is not None else None
    if resolver is not None and callable(method) and _takes_only_self(resolver):
        return _Plain("", lambda source, _: method(source), of_type.serialize, nullable, field_def)
    return None


def _takes_only_self(resolver: StrawberryResolver[Any]) -> bool:
    """A synchronous method of the object with no other parameter (no info, no
    arguments): strawberry would call it with the object alone."""
    return (
        not resolver.is_async
        and resolver.self_parameter is not None
        and len(resolver.signature.parameters) == 1
    )


class CycleFreeExecutionContext(StrawberryGraphQLCoreExecutionContext):
    """Strawberry's execution context whose resolver helpers hold it weakly, reading
    plain scalar fields directly."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        executor = weakref.ref(self)

        def track(values: Sequence[Any]) -> None:
            # Once the executor is gone, nothing would await the work any more.
            alive = executor()
            if alive is not None:
                alive.track_async_work(values)

        def gather(values: Sequence[Awaitable[Any]]) -> Awaitable[list[Any]]:
            return gather_with_cancel(*values)

        self.async_helpers = GraphQLResolveInfoHelpers(gather=gather, track=track)
        # Per selection (the executor reuses one grouped field set for every row of a
        # list): each field's plain reading, or None. The set is kept alive beside its
        # plan so that its id is not reused during the request.
        self._plans: dict[tuple[str, int], tuple[GroupedFieldSet, tuple[_Plain | None, ...]]] = {}

    def execute_fields(
        self,
        parent_type: GraphQLObjectType,
        source_value: Any,
        path: Path | None,
        grouped_field_set: GroupedFieldSet,
        position_context: Any,
    ) -> Any:
        # A middleware (an extension with ``resolve``) must see every field.
        if self.middleware_manager is not None and self.middleware_manager.middlewares:
            return super().execute_fields(
                parent_type, source_value, path, grouped_field_set, position_context
            )
        key = (parent_type.name, id(grouped_field_set))
        cached = self._plans.get(key)
        if cached is None:
            plan = tuple(_plain(self.schema, parent_type, d) for d in grouped_field_set.values())
            self._plans[key] = (grouped_field_set, plan)
        else:
            plan = cached[1]
        if not any(plan):
            return super().execute_fields(
                parent_type, source_value, path, grouped_field_set, position_context
            )
        return self._execute_planned(
            parent_type, source_value, path, grouped_field_set, plan, position_context
        )

    def _execute_planned(
        self,
        parent_type: GraphQLObjectType,
        source_value: Any,
        path: Path | None,
        grouped_field_set: GroupedFieldSet,
        plan: tuple[_Plain | None, ...],
        position_context: Any,
    ) -> Any:
        """graphql-core's ``execute_fields``, plain fields read in place."""
        results: dict[str, Any] = {}
        awaitable_fields: list[str] = []
        is_awaitable = self.is_awaitable
        try:
            for (name, details), plain in zip(grouped_field_set.items(), plan, strict=True):
                if plain is not None:
                    try:
                        value = plain.read(source_value, plain.attribute)
                    except Exception:
                        value = Undefined  # the generic path reports it
                    if value is not Undefined and is_awaitable(value):
                        results[name] = self._complete_later(
                            parent_type, path, name, details, plain, value, position_context
                        )
                        awaitable_fields.append(name)
                        continue
                    value = _serialized(plain, value)
                    if value is not Undefined:
                        results[name] = value
                        continue
                result = self.execute_field(
                    parent_type,
                    source_value,
                    details,
                    Path(path, name, parent_type.name),
                    position_context,
                )
                if result is not Undefined:
                    results[name] = result
                    if is_awaitable(result):
                        awaitable_fields.append(name)
        except Exception:
            if awaitable_fields:
                self.settle_in_background([results[name] for name in awaitable_fields])
            raise
        if not awaitable_fields:
            return results

        async def get_results() -> dict[str, Any]:
            values = await gather_with_cancel(*(results[name] for name in awaitable_fields))
            results.update(zip(awaitable_fields, values, strict=True))
            return results

        return get_results()

    def _complete_later(
        self,
        parent_type: GraphQLObjectType,
        path: Path | None,
        name: str,
        details: FieldDetailsList,
        plain: _Plain,
        value: Awaitable[Any],
        position_context: Any,
    ) -> Awaitable[Any]:
        """A plain field whose value is awaitable, completed as graphql-core would."""
        field_path = Path(path, name, parent_type.name)
        info = self.build_resolve_info(plain.field, to_nodes(details), parent_type, field_path)
        return self.complete_awaitable_value(
            plain.field.type, details, info, field_path, value, position_context
        )


def _serialized(plain: _Plain, value: Any) -> Any:
    """The value serialized, or Undefined when the generic path must handle it (and
    report what is wrong with it)."""
    if value is Undefined:
        return Undefined
    if value is None:
        return None if plain.nullable else Undefined
    try:
        serialized = plain.serialize(value)
    except Exception:
        return Undefined
    return Undefined if serialized is None or serialized is Undefined else serialized
