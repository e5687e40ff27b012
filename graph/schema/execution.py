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

import inspect
import weakref
from collections.abc import Awaitable, Callable, Iterable, Sequence
from typing import Any, NamedTuple

from graphql import (
    GraphQLField,
    GraphQLNonNull,
    GraphQLObjectType,
    GraphQLOutputType,
    GraphQLResolveInfo,
    GraphQLScalarType,
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
    """How to read a plain field: the attribute (or method) and, for a scalar, its
    serializer; for an object, the response names and plain readings of its selection."""

    attribute: str
    read: Callable[[Any, str], Any]
    nullable: bool
    field: GraphQLField | None  # None: an item of a list
    serialize: Callable[[Any], Any] | None = None
    object_type: GraphQLObjectType | None = None
    fields: tuple[tuple[str, _Plain], ...] = ()


def _reading(
    field_def: GraphQLField, definition: StrawberryField
) -> tuple[str, Callable[[Any, str], Any]] | None:
    """How strawberry resolves the field, when that is reading an attribute (no resolver)
    or calling a synchronous method of the object that takes nothing else."""
    resolver = definition.base_resolver
    # strawberry marks the resolver of a field with no resolver and no extensions.
    if resolver is None:
        if getattr(field_def.resolve, "_is_default", False):
            return definition.python_name, definition.default_resolver
        return None
    method = resolver.wrapped_func
    if callable(method) and _takes_only_self(resolver):
        return "", lambda source, _: method(source)
    return None


def _takes_only_self(resolver: StrawberryResolver[Any]) -> bool:
    """A synchronous method of the object with no other parameter (no info, no
    arguments): strawberry would call it with the object alone."""
    return (
        not resolver.is_async
        and resolver.self_parameter is not None
        and len(resolver.signature.parameters) == 1
    )


def _never(source: Any, attribute: str) -> Any:
    raise AssertionError("an item of a list is not read from a parent")


def _close(value: Any) -> None:
    """Let go of an awaitable that will not be awaited (the generic path makes another)."""
    if inspect.iscoroutine(value):
        value.close()


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
        # Likewise per list field: the plain completion of its items, or None.
        self._items: dict[tuple[str, int], tuple[FieldDetailsList, _Plain | None]] = {}

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
        plan = self._plan(parent_type, grouped_field_set)
        if not any(plan):
            return super().execute_fields(
                parent_type, source_value, path, grouped_field_set, position_context
            )
        return self._execute_planned(
            parent_type, source_value, path, grouped_field_set, plan, position_context
        )

    def _plan(
        self, parent_type: GraphQLObjectType, grouped_field_set: GroupedFieldSet
    ) -> tuple[_Plain | None, ...]:
        """Each field's plain reading (None: the generic path), made once per selection."""
        key = (parent_type.name, id(grouped_field_set))
        cached = self._plans.get(key)
        if cached is None:
            plan = tuple(self._plain(parent_type, d) for d in grouped_field_set.values())
            self._plans[key] = cached = (grouped_field_set, plan)
        return cached[1]

    def _plain(self, parent_type: GraphQLObjectType, details: FieldDetailsList) -> _Plain | None:
        """The plain reading of a field, if it has one: read by attribute or method, no
        arguments, no field extension, and of scalar type, or of an object type whose
        selection (no ``@defer``) is all plain too."""
        node = details[0].node
        field_def = self.schema.get_field(parent_type, node.name.value)
        if field_def is None or field_def.args or node.arguments:
            return None
        definition = field_def.extensions.get(_DEFINITION)
        if not isinstance(definition, StrawberryField) or definition.extensions:
            return None
        reading = _reading(field_def, definition)
        if reading is None:
            return None
        of_type, nullable = field_def.type, True
        if isinstance(of_type, GraphQLNonNull):
            of_type, nullable = of_type.of_type, False
        if isinstance(of_type, GraphQLScalarType):
            return _Plain(*reading, nullable, field_def, serialize=of_type.serialize)
        if not isinstance(of_type, GraphQLObjectType):
            return None
        grouped, deferred, forbidden = self.collect_subfields(of_type, details)
        if deferred or forbidden:
            return None
        fields = self._plan(of_type, grouped)
        if not all(fields):
            return None
        return _Plain(
            *reading,
            nullable,
            field_def,
            object_type=of_type,
            fields=tuple(zip(grouped, (f for f in fields if f is not None), strict=True)),
        )

    def complete_iterable_value(
        self,
        item_type: GraphQLOutputType,
        field_details_list: FieldDetailsList,
        info: GraphQLResolveInfo[Any],
        path: Path,
        items: Iterable[Any],
        position_context: Any,
    ) -> Any:
        # A list of objects whose selection is all plain (a page's edges) is completed in
        # place, unless an item needs the generic path (then the whole list takes it).
        item = self._item_plan(item_type, field_details_list, path)
        if item is not None and isinstance(items, list | tuple):
            completed = [self._complete(item, value) for value in items]
            if not any(value is Undefined for value in completed):
                return completed
        return super().complete_iterable_value(
            item_type, field_details_list, info, path, items, position_context
        )

    def _item_plan(
        self, item_type: GraphQLOutputType, details: FieldDetailsList, path: Path
    ) -> _Plain | None:
        """The plain completion of the items of a list of objects, if there is one."""
        if self.middleware_manager is not None and self.middleware_manager.middlewares:
            return None
        of_type, nullable = item_type, True
        if isinstance(of_type, GraphQLNonNull):
            of_type, nullable = of_type.of_type, False
        if not isinstance(of_type, GraphQLObjectType):
            return None
        if self.get_stream_usage(details, path) is not None:
            return None
        key = (of_type.name, id(details))
        cached = self._items.get(key)
        if cached is None:
            grouped, deferred, forbidden = self.collect_subfields(of_type, details)
            fields = () if deferred or forbidden else self._plan(of_type, grouped)
            plan = (
                _Plain(
                    "",
                    _never,
                    nullable,
                    None,
                    object_type=of_type,
                    fields=tuple(zip(grouped, (f for f in fields if f), strict=True)),
                )
                if fields and all(fields)
                else None
            )
            self._items[key] = cached = (details, plan)
        return cached[1]

    def _complete(self, plain: _Plain, value: Any) -> Any:
        """The completed value of a plain field, or Undefined when the generic path must
        complete it (and report what is wrong with it)."""
        if value is None:
            return None if plain.nullable else Undefined
        if plain.serialize is not None:
            try:
                serialized = plain.serialize(value)
            except Exception:
                return Undefined
            return Undefined if serialized is None or serialized is Undefined else serialized
        object_type = plain.object_type
        assert object_type is not None
        if object_type.is_type_of is not None:
            try:
                # strawberry's test is an isinstance check that ignores the info.
                if object_type.is_type_of(value, None) is not True:  # type: ignore[arg-type]
                    return Undefined
            except Exception:
                return Undefined
        is_awaitable = self.is_awaitable
        completed: dict[str, Any] = {}
        for name, field in plain.fields:
            try:
                item = field.read(value, field.attribute)
            except Exception:
                return Undefined
            if is_awaitable(item):
                _close(item)
                return Undefined
            item = self._complete(field, item)
            if item is Undefined:
                return Undefined
            completed[name] = item
        return completed

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
                    if value is not Undefined:
                        value = self._complete(plain, value)
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
        assert plain.field is not None
        info = self.build_resolve_info(plain.field, to_nodes(details), parent_type, field_path)
        return self.complete_awaitable_value(
            plain.field.type, details, info, field_path, value, position_context
        )
