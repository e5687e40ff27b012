"""Global object IDs and pagination cursors: opaque strings that round-trip to keys.

A global ID is base64url of ``Type:pk``; a cursor is base64url of a JSON array
``[kind, *sort key]`` where ``kind`` names the field and ordering it came from, so a
cursor pasted into another field is refused rather than silently misread.
"""

from __future__ import annotations

import base64
import binascii
import math
import re
from typing import Any, Final

import orjson

from graph.errors import BadCursorError, BadIdError
from graph.store import SortKey

__all__ = ["decode_cursor", "decode_id", "encode_cursor", "encode_id"]

# The form of a type name in an ID; which types exist is graph.schema.nodes' table.
_TYPE_NAME: Final = re.compile(r"[A-Z][A-Za-z]{0,39}")


# base64's urlsafe_b64encode, without its layers of calls: an ID is made per row served.
_URL_SAFE: Final = bytes.maketrans(b"+/", b"-_")


def _b64(raw: bytes) -> str:
    return binascii.b2a_base64(raw, newline=False).translate(_URL_SAFE).rstrip(b"=").decode("ascii")


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def encode_id(type_name: str, pk: int) -> str:
    """The global ID of row ``pk`` of ``type_name``."""
    return _b64(f"{type_name}:{pk}".encode())


def try_decode_id(global_id: str) -> tuple[str, int] | None:
    """``(type name, pk)``, or ``None`` when ``global_id`` is not one of ours."""
    if not global_id or len(global_id) > 64:
        return None
    try:
        type_name, _, pk = _unb64(global_id).decode("ascii").partition(":")
    except (binascii.Error, UnicodeDecodeError, ValueError):
        return None
    if not _TYPE_NAME.fullmatch(type_name) or not pk.isdigit() or len(pk) > 18:
        return None
    return type_name, int(pk)


def decode_id(global_id: str, expected: str | None = None) -> tuple[str, int]:
    """Decode a global ID, optionally requiring its type.

    Raises:
        BadIdError: not an ID this server issued, or not of the ``expected`` type.
    """
    decoded = try_decode_id(global_id)
    if decoded is None:
        raise BadIdError(f"{global_id!r} is not a valid ID", id=global_id)
    if expected is not None and decoded[0] != expected:
        raise BadIdError(f"{global_id!r} is a {decoded[0]} ID, expected a {expected} ID")
    return decoded


def _sortable(part: object) -> bool:
    """A sort-key value SQLite can compare: text, a 64-bit integer, a finite float."""
    if isinstance(part, bool):
        return False
    if isinstance(part, int):
        return -(2**63) <= part < 2**63
    if isinstance(part, float):
        return math.isfinite(part)
    return isinstance(part, str)


def encode_cursor(kind: str, key: SortKey) -> str:
    """An opaque cursor for the row with sort ``key`` in the ordering ``kind``."""
    return _b64(orjson.dumps([kind, *key]))


def _typed(part: object, kind: type) -> bool:
    # A float slot (a search score) takes an integer too: JSON writes -5.0 as -5.0, but a
    # client's tool may not, and SQLite compares the two alike.
    return isinstance(part, int | float) if kind is float else isinstance(part, kind)


def decode_cursor(cursor: str, kind: str, shape: int | tuple[type, ...]) -> SortKey:
    """The sort key inside ``cursor``.

    Args:
        cursor: What the client sent.
        kind: The field and ordering the cursor must come from.
        shape: The types of the sort key's values, in order (``str``, ``int`` or
            ``float``), or only how many there are.

    Raises:
        BadCursorError: not a cursor issued by this field with this ordering.
    """
    try:
        value: Any = orjson.loads(_unb64(cursor))
    except (binascii.Error, ValueError):
        value = None
    types = shape if isinstance(shape, tuple) else (object,) * shape
    if (
        not isinstance(value, list)
        or len(value) != len(types) + 1
        or value[0] != kind
        or not all(
            _sortable(part) and _typed(part, type_)
            for part, type_ in zip(value[1:], types, strict=True)
        )
    ):
        raise BadCursorError(
            f"{cursor!r} is not a cursor of this connection (cursors are only valid for the "
            "field and ordering that returned them)"
        )
    return tuple(value[1:])
