"""Walking a JSON value's strings and object keys: to mask or redact them (a copy), or
to look at each (none)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

__all__ = ["map_strings", "visit_strings"]


def map_strings(
    value: Any,
    change: Callable[[str, str | None], str],
    keys: Callable[[str], str] | None = None,
) -> Any:
    """A JSON value with ``change`` applied to every string in it, with the key it is the
    value of (None in a list, or at the top), and ``keys`` to every object key.

    A key that ``keys`` changes into one its object already has (two keys masked alike,
    or a placeholder already there) is numbered (``"[REDACTED:...] (2)"``): a value
    silently dropped would be lost for good once the record is redacted."""
    return _mapped(value, change, keys, None)


def _mapped(
    value: Any,
    change: Callable[[str, str | None], str],
    keys: Callable[[str], str] | None,
    key: str | None,
) -> Any:
    # Exact classes: values come from orjson, which makes no subclasses.
    if value.__class__ is str:
        return change(value, key)
    if value.__class__ is dict:
        if keys is None:
            return {name: _mapped(item, change, None, name) for name, item in value.items()}
        mapped: dict[str, Any] = {}
        for name, item in value.items():
            new = keys(name)
            if new != name and (new in mapped or new in value):
                new = _unique(new, mapped, value)
            mapped[new] = _mapped(item, change, keys, name)
        return mapped
    if value.__class__ is list:
        return [_mapped(item, change, keys, None) for item in value]
    return value


def _unique(key: str, *taken: dict[str, Any]) -> str:
    """``key`` numbered so that none of the ``taken`` objects has it."""
    n = 2
    while any(f"{key} ({n})" in t for t in taken):
        n += 1
    return f"{key} ({n})"


def visit_strings(
    value: Any,
    visit: Callable[[str, str | None], object],
    keys: Callable[[str], object],
    key: str | None,
) -> None:
    """:func:`map_strings` that makes no copy: ``visit`` sees each string and its key,
    ``keys`` each key."""
    if value.__class__ is str:
        visit(value, key)
    elif value.__class__ is dict:
        for name, item in value.items():
            keys(name)
            visit_strings(item, visit, keys, name)
    elif value.__class__ is list:
        for item in value:
            visit_strings(item, visit, keys, None)
