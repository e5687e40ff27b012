"""Plans: how a field is read and completed without the per-field machinery of
strawberry and graphql-core (see :mod:`graph.schema.execution`, which makes and runs them).

A field has a plan when strawberry would resolve it by reading an attribute (no
resolver), or by calling a method of the object that takes nothing but its arguments (no
info, no root), with no field extension; and when its type is a scalar, an enum, an
object type whose selection has plans too, a union or interface of such types, or a list
of those.
"""

from __future__ import annotations

import inspect
from collections.abc import Callable, Mapping
from enum import Enum
from functools import partial
from operator import attrgetter
from typing import Any, NamedTuple

from graphql import GraphQLField
from graphql.execution.collect_fields import FieldDetailsList
from graphql.execution.values import VariableValues, get_argument_values
from strawberry.types.arguments import convert_arguments
from strawberry.types.field import StrawberryField
from strawberry.types.fields.resolver import StrawberryResolver

__all__ = ["Complete", "Plain", "Reading", "close", "never", "reading"]

# strawberry keeps each GraphQL field's definition under this extension key.
DEFINITION = "strawberry-definition"

Reading = Callable[[Any], Any]
# A value's completion: the completed value or Undefined, with the awaitables met left in
# the list (see :mod:`graph.schema.completion`, which makes them).
Complete = Callable[[Any, list[Any]], Any]


def _uncompiled(value: Any, pending: list[Any]) -> Any:
    raise AssertionError("a plan's completion is made with it (completion.compiled)")


class Plain(NamedTuple):
    """How to read a field and complete its value.

    ``read(source)`` gives the value. A leaf is completed by ``coerce`` (a value of type
    ``same`` as it is, an int within GraphQL's 32 bits unless ``wide``), a list item by
    item with ``item``, an object by the plans of its selection, ``fields`` (response
    name, plan), once ``is_type_of`` accepts it; a union's or interface's value by the
    plan of the one of ``choices`` whose class it is an instance of. ``complete`` does
    all that, as one function made with the plan.
    """

    read: Reading
    nullable: bool
    field: GraphQLField | None  # None: a list's item, or a value being completed
    coerce: Callable[[Any], Any] | None = None
    item: Plain | None = None
    is_type_of: Callable[[Any, Any], Any] | None = None
    fields: tuple[tuple[str, Plain], ...] = ()
    same: type | None = None  # a leaf's values of this type are completed as they are
    wide: bool = False  # ... an int of any size (else an int must fit in 32 bits)
    # An abstract type's: each possible type's class and plan (None: the generic path).
    choices: tuple[tuple[type, Plain | None], ...] = ()
    complete: Complete = _uncompiled


def never(source: Any) -> Any:
    raise AssertionError("a list's item is not read from a parent")


def close(value: Any) -> None:
    """Let go of an awaitable that will not be awaited (the generic path makes another)."""
    if inspect.iscoroutine(value):
        value.close()


def reading(
    field_def: GraphQLField,
    definition: StrawberryField,
    details: FieldDetailsList,
    variables: VariableValues,
    convert: Callable[[dict[str, Any], StrawberryField], dict[str, Any]],
) -> Reading | None:
    """How strawberry resolves the field, when that is reading an attribute, or calling a
    method of the object with its arguments alone (synchronous or not).

    The arguments are coerced and converted here, once for the selection: they are the
    same for every object it is read on (the variables do not change within a request).
    They are shared by those calls, so only immutable values qualify.
    """
    if definition.extensions:
        return None
    resolver = definition.base_resolver
    if resolver is None:
        # strawberry marks the resolver of a field with no resolver and no extensions.
        if not getattr(field_def.resolve, "_is_default", False) or field_def.args:
            return None
        name, default = definition.python_name, definition.default_resolver
        return attrgetter(name) if default is getattr else partial(_read_with, default, name)
    method = resolver.wrapped_func
    if not callable(method) or not _takes_arguments_only(resolver):
        return None
    if not field_def.args:
        return method
    kwargs = _arguments(field_def, definition, details, variables, convert)
    return partial(method, **kwargs) if kwargs is not None else None


def _read_with(resolver: Callable[[Any, str], Any], name: str, source: Any) -> Any:
    return resolver(source, name)


def _takes_arguments_only(resolver: StrawberryResolver[Any]) -> bool:
    """A method of the object whose other parameters are all GraphQL arguments."""
    return (
        resolver.self_parameter is not None
        and resolver.info_parameter is None
        and resolver.root_parameter is None
        and resolver.parent_parameter is None
    )


def _arguments(
    field_def: GraphQLField,
    definition: StrawberryField,
    details: FieldDetailsList,
    variables: VariableValues,
    convert: Callable[[dict[str, Any], StrawberryField], dict[str, Any]],
) -> dict[str, Any] | None:
    """The resolver's keyword arguments, or None when the generic path must make them
    (a value it would refuse, an argument of a fragment, a value that is not immutable)."""
    first = details[0]
    if first.fragment_variable_values is not None:
        return None
    try:
        coerced = get_argument_values(field_def, first.node, variables)
        kwargs = convert(coerced, definition)
    except Exception:
        return None  # the generic path reports it, at the field's path
    if not all(_immutable(value) for value in kwargs.values()):
        return None
    return kwargs


def _immutable(value: Any) -> bool:
    return value is None or isinstance(value, str | int | float | bool | Enum)


def converter(
    scalar_registry: Mapping[object, Any], config: Any
) -> Callable[[dict[str, Any], StrawberryField], dict[str, Any]]:
    """strawberry's conversion of coerced arguments to a resolver's keyword arguments."""

    def convert(coerced: dict[str, Any], definition: StrawberryField) -> dict[str, Any]:
        return convert_arguments(
            coerced, definition.arguments, scalar_registry=scalar_registry, config=config
        )

    return convert
