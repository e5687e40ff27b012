"""A plan's completion as one function, made once per plan (:mod:`graph.schema.planner`).

Completing a value by its :class:`~graph.schema.plans.Plain` means asking, for every
value, which kind of plan it is (a leaf, a list, an object, a union) and reading the
plan's parts for each of its fields. Rows of a page are completed by the hundred with
the same plans: here each plan is turned once into a function that does only its own
kind of work, over its fields' parts unpacked in advance.

A completion gives the completed value, or ``Undefined`` when the generic path must
complete it (and report what is wrong with it). An awaitable read on the way is left
in ``pending``, with where its completed value goes.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any, Final, NamedTuple

from graphql.pyutils import Undefined
from graphql.type.scalars import GRAPHQL_MAX_INT, GRAPHQL_MIN_INT
from strawberry.execution.is_awaitable import optimized_is_awaitable
from strawberry.types.cast import get_strawberry_type_cast

from graph.schema.plans import Complete, Plain

__all__ = ["Pending", "compiled", "complete_items"]

# The types of most values read: none of them is awaitable.
_NEVER_AWAITABLE: Final = frozenset({str, int, float, bool, type(None), list, dict})
# Each class of value met so far: whether it is a schema object type whose instances are
# never awaitable. Asking each of a page's rows (strawberry's test looks for an __await__
# attribute, which none has) cost as much as completing one of its fields.
_PLAIN_OBJECTS: dict[type, bool] = {}


def _plain_object(kind: type) -> bool:
    """Whether ``kind`` is a strawberry object type whose instances cannot be awaited
    (remembered in ``_PLAIN_OBJECTS``)."""
    plain = _PLAIN_OBJECTS.get(kind)
    if plain is None:
        plain = _PLAIN_OBJECTS[kind] = (
            hasattr(kind, "__strawberry_definition__")
            and not hasattr(kind, "__await__")
            and not hasattr(kind, "__getattr__")
            and not issubclass(kind, Awaitable)
        )
    return plain


class Pending(NamedTuple):
    """An awaitable met while completing: how its value is completed, and where it goes."""

    value: Awaitable[Any]
    complete: Complete
    container: dict[str, Any]
    key: str


def compiled(plain: Plain) -> Plain:
    """``plain`` with its completion made (its parts' completions are made already)."""
    if plain.coerce is not None:
        complete = _leaf(plain.nullable, plain.coerce)
    elif plain.item is not None:
        complete = _list(plain.nullable, plain.item.complete)
    elif plain.choices:
        complete = _choice(plain.nullable, plain.choices)
    else:
        complete = _object(plain.nullable, plain.is_type_of, plain.fields)
    return plain._replace(complete=complete)


def complete_items(
    item: Complete, items: list[Any] | tuple[Any, ...], pending: list[Pending]
) -> Any:
    """A list's items completed by ``item``, or Undefined if one of them cannot be."""
    completed = []
    for each in items:
        done = item(each, pending)
        if done is Undefined:
            return Undefined
        completed.append(done)
    return completed


def _leaf(nullable: bool, coerce: Callable[[Any], Any]) -> Complete:
    def complete(value: Any, pending: list[Pending]) -> Any:
        if value is None:
            return None if nullable else Undefined
        try:
            coerced = coerce(value)
        except Exception:
            return Undefined
        return Undefined if coerced is None or coerced is Undefined else coerced

    return complete


def _list(nullable: bool, item: Complete) -> Complete:
    def complete(value: Any, pending: list[Pending]) -> Any:
        if value is None:
            return None if nullable else Undefined
        if not isinstance(value, list | tuple):
            return Undefined
        return complete_items(item, value, pending)

    return complete


def _choice(nullable: bool, choices: tuple[tuple[type, Plain | None], ...]) -> Complete:
    def complete(value: Any, pending: list[Pending]) -> Any:
        if value is None:
            return None if nullable else Undefined
        # As strawberry resolves the type: not when cast (strawberry.cast), and not when
        # the value is an instance of more than one of the possible types.
        if get_strawberry_type_cast(value) is not None:
            return Undefined
        found = [choice for origin, choice in choices if isinstance(value, origin)]
        if len(found) != 1 or found[0] is None:
            return Undefined
        return found[0].complete(value, pending)

    return complete


def _object(
    nullable: bool,
    is_type_of: Callable[[Any, Any], Any] | None,
    fields: tuple[tuple[str, Plain], ...],
) -> Complete:
    steps = tuple(
        (name, field.read, field.same, field.wide, field.complete) for name, field in fields
    )
    is_awaitable = optimized_is_awaitable  # the test strawberry (and prepared.py) run with
    plain_objects = _PLAIN_OBJECTS

    def complete(value: Any, pending: list[Pending]) -> Any:
        if value is None:
            return None if nullable else Undefined
        if is_type_of is not None:
            try:
                # strawberry's test is an isinstance check that ignores the info.
                if is_type_of(value, None) is not True:
                    return Undefined
            except Exception:
                return Undefined
        completed: dict[str, Any] = {}
        for name, read, same, wide, complete_field in steps:
            try:
                item = read(value)
            except Exception:
                return Undefined
            kind = type(item)
            if kind is same and (
                kind is not int or wide or GRAPHQL_MIN_INT <= item <= GRAPHQL_MAX_INT
            ):
                # The commonest leaves (a str where a String or ID goes, an int where an
                # Int or BigInt goes, a bool where a Boolean goes) are their own coerced
                # values.
                completed[name] = item
                continue
            if (
                kind not in _NEVER_AWAITABLE
                and not (plain_objects.get(kind) or _plain_object(kind))
                and is_awaitable(item)
            ):
                pending.append(Pending(item, complete_field, completed, name))
                completed[name] = None  # keeps the selection's order
                continue
            item = complete_field(item, pending)
            if item is Undefined:
                return Undefined
            completed[name] = item
        return completed

    return complete
