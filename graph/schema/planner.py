"""Planning: which fields of a request have a plan (:mod:`graph.schema.plans`), made
once per document and variables, and kept across requests.

Plans are made per selection (graphql-core hands the executor one grouped field set for
every row of a list) and kept per schema, keyed by the document's nodes and the
request's variables: the parser cache hands out the same nodes for the same document,
so a later request of it finds its plans made.
"""

from __future__ import annotations

import weakref
from collections.abc import Callable
from functools import cached_property, partial
from typing import Any, Final

from graphql import (
    GraphQLBoolean,
    GraphQLEnumType,
    GraphQLID,
    GraphQLInt,
    GraphQLInterfaceType,
    GraphQLList,
    GraphQLNonNull,
    GraphQLObjectType,
    GraphQLOutputType,
    GraphQLScalarType,
    GraphQLSchema,
    GraphQLString,
    GraphQLUnionType,
)
from graphql.execution.collect_fields import FieldDetailsList, GroupedFieldSet
from graphql.pyutils import Path
from strawberry.schema.schema import StrawberryGraphQLCoreExecutionContext
from strawberry.types.base import StrawberryObjectDefinition
from strawberry.types.field import StrawberryField

from graph.schema.completion import compiled
from graph.schema.plans import DEFINITION, Plain, Reading, converter, never, reading

__all__ = ["Planner"]

# graphql-core's scalars that give back a value of this type as it is (an int, when it
# fits in 32 bits).
_BUILT_IN: Final = {
    "String": GraphQLString,
    "ID": GraphQLID,
    "Int": GraphQLInt,
    "Boolean": GraphQLBoolean,
}
_SAME: Final = {"String": str, "ID": str, "Int": int, "Boolean": bool}

# Plans made for earlier requests, per schema (see ``Planner._remembered``).
_KNOWN: Final[weakref.WeakKeyDictionary[GraphQLSchema, dict[tuple[Any, ...], Any]]] = (
    weakref.WeakKeyDictionary()
)
_KNOWN_PLANS: Final = 4096


class Planner(StrawberryGraphQLCoreExecutionContext):
    """Strawberry's execution context, able to tell each field's plan."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        strawberry_schema = getattr(self.schema, "_strawberry_schema", None)
        self._convert = (
            converter(strawberry_schema.schema_converter.scalar_registry, strawberry_schema.config)
            if strawberry_schema is not None
            else None
        )
        # Per selection (the executor reuses one grouped field set for every row of a
        # list): each field's plan, or None. The set is kept alive beside its plan so
        # that its id is not reused during the request.
        self._plans: dict[tuple[str, int], tuple[GroupedFieldSet, tuple[Plain | None, ...]]] = {}
        # Likewise per list field: the completion of its items, or None.
        self._items: dict[tuple[str, int], tuple[FieldDetailsList, Plain | None]] = {}

    @property
    def _planning(self) -> bool:
        # A middleware (an extension with ``resolve``) must see every field.
        manager = self.middleware_manager
        return self._convert is not None and not (manager is not None and manager.middlewares)

    def _plan(
        self, parent_type: GraphQLObjectType, grouped_field_set: GroupedFieldSet
    ) -> tuple[Plain | None, ...]:
        """Each field's plan (None: the generic path), made once per selection."""
        key = (parent_type.name, id(grouped_field_set))
        cached = self._plans.get(key)
        if cached is None:
            plan = tuple(self._field_plan(parent_type, d) for d in grouped_field_set.values())
            self._plans[key] = cached = (grouped_field_set, plan)
        return cached[1]

    def _field_plan(
        self, parent_type: GraphQLObjectType, details: FieldDetailsList
    ) -> Plain | None:
        """The plan of a field: how it is read, and how its value is completed."""
        return self._remembered(
            ("field", parent_type.name), details, partial(self._make_plan, parent_type, details)
        )

    def _make_plan(self, parent_type: GraphQLObjectType, details: FieldDetailsList) -> Plain | None:
        name = details[0].node.name.value
        field_def = self.schema.get_field(parent_type, name)
        if field_def is None:
            return None
        definition = field_def.extensions.get(DEFINITION)
        if name == "__typename":  # the type's name, whatever the object
            type_name = parent_type.name
            read: Reading | None = lambda _: type_name  # noqa: E731
        elif isinstance(definition, StrawberryField) and self._convert is not None:
            read = reading(field_def, definition, details, self.variable_values, self._convert)
        else:
            return None
        completion = self._completion(field_def.type, details) if read is not None else None
        if read is None or completion is None:
            return None
        return completion._replace(read=read, field=field_def)

    def _completion(self, type_: GraphQLOutputType, details: FieldDetailsList) -> Plain | None:
        """How a value of ``type_`` is completed for the selection ``details``, if it has
        a plan: a scalar or enum, an object whose selection (no ``@defer``) has plans, a
        union or interface of such objects, or a list of those (not streamed)."""
        plain = self._described(type_, details)
        return compiled(plain) if plain is not None else None

    def _described(self, type_: GraphQLOutputType, details: FieldDetailsList) -> Plain | None:
        """:meth:`_completion`'s plan, before its completion is made."""
        of_type, nullable = type_, True
        if isinstance(of_type, GraphQLNonNull):
            of_type, nullable = of_type.of_type, False
        if isinstance(of_type, GraphQLScalarType | GraphQLEnumType):
            coerce = of_type.coerce_output_value
            same: type | None
            if of_type is _BUILT_IN.get(of_type.name):
                same, wide = _SAME[of_type.name], False
            else:  # a scalar of ours that serializes with int or str (BigInt) keeps them
                same, wide = (coerce, True) if coerce in (int, str) else (None, False)
            return Plain(never, nullable, None, coerce=coerce, same=same, wide=wide)
        if isinstance(of_type, GraphQLList):
            if any(d.node.directives for d in details):
                return None  # @stream, or a directive of its own
            item = self._completion(of_type.of_type, details)
            return Plain(never, nullable, None, item=item) if item is not None else None
        if isinstance(of_type, GraphQLUnionType | GraphQLInterfaceType):
            return self._choices(of_type, nullable, details)
        if not isinstance(of_type, GraphQLObjectType):
            return None
        grouped, deferred, forbidden = self.collect_subfields(of_type, details)
        if deferred or forbidden:
            return None
        fields = self._plan(of_type, grouped)
        if not all(fields):
            return None
        return Plain(
            never,
            nullable,
            None,
            is_type_of=of_type.is_type_of,
            fields=tuple(zip(grouped, (f for f in fields if f is not None), strict=True)),
        )

    def _choices(
        self,
        abstract: GraphQLUnionType | GraphQLInterfaceType,
        nullable: bool,
        details: FieldDetailsList,
    ) -> Plain | None:
        """A union's or interface's completion: the plan of each possible type, told
        apart by class (strawberry's own types only; a generic one takes the generic
        path, whose type resolution knows its specializations)."""
        choices: list[tuple[type, Plain | None]] = []
        for object_type in self.schema.get_possible_types(abstract):
            definition = object_type.extensions.get(DEFINITION)
            if not isinstance(definition, StrawberryObjectDefinition):
                return None
            if definition.is_graphql_generic or definition.concrete_of is not None:
                return None
            choices.append((definition.origin, self._completion(object_type, details)))
        return Plain(never, nullable, None, choices=tuple(choices))

    def _item_plan(
        self, item_type: GraphQLOutputType, details: FieldDetailsList, path: Path
    ) -> Plain | None:
        """The completion of the items of a list of objects, if there is one."""
        if not self._planning or not isinstance(
            item_type.of_type if isinstance(item_type, GraphQLNonNull) else item_type,
            GraphQLObjectType,
        ):
            return None
        if self.get_stream_usage(details, path) is not None:
            return None
        key = (str(item_type), id(details))
        cached = self._items.get(key)
        if cached is None:
            plan = self._remembered(
                ("items", str(item_type)), details, partial(self._completion, item_type, details)
            )
            self._items[key] = cached = (details, plan)
        return cached[1]

    def _remembered(
        self, what: tuple[str, str], details: FieldDetailsList, make: Callable[[], Plain | None]
    ) -> Plain | None:
        """A plan as made for an earlier request of the same document with the same
        variables (the parser cache hands out the same nodes), or made now.

        Plans are kept per schema, with the nodes they were made for: a node kept alive
        keeps its id, so an id in a key names one node for as long as the key is kept.
        """
        if any(d.fragment_variable_values is not None for d in details):
            return make()
        known = _KNOWN.setdefault(self.schema, {})
        key = (*what, self._variables_key, *(id(d.node) for d in details))
        entry = known.get(key)
        if entry is None:
            if len(known) >= _KNOWN_PLANS:
                known.clear()
            entry = known[key] = (tuple(d.node for d in details), make())
        return entry[1]

    @cached_property
    def _variables_key(self) -> str:
        """The request's variables, as plans depend on them (arguments, @skip/@include)."""
        coerced = self.variable_values.coerced
        return repr(sorted(coerced.items())) if coerced else ""
