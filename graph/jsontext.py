"""JSON read and written exactly, however deep or large the values a transcript holds.

orjson is fast and used first, but it reads integers beyond 64 bits as floats, stops at
1,024 levels, and writes neither such integers nor more than 254 levels. What it cannot
do exactly goes through the json module, with room on the stack for deep values: a
transcript line that one of them read must be servable and exportable as it was.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any, Final

import orjson

__all__ = ["deep_recursion", "dumps", "loads"]

# A run of 19 digits may be an integer orjson reads as a float (beyond 64 bits): a value
# with one is read by the json module instead. Found by mapping every digit to "0"
# (much faster than a regular expression).
_DIGITS: Final = bytes(0x30 if 0x30 <= byte <= 0x39 else 0x20 for byte in range(256))
_LONG_NUMBER: Final = b"0" * 19
# Deep enough for anything orjson reads (1,024 levels), with room for the caller's frames.
_RECURSION: Final = 4_000


@contextmanager
def deep_recursion() -> Iterator[None]:
    """Room on the stack for walking values as deep as any stored one."""
    limit = sys.getrecursionlimit()
    sys.setrecursionlimit(max(limit, _RECURSION))
    try:
        yield
    finally:
        sys.setrecursionlimit(limit)


def loads(data: bytes) -> Any:
    """Stored JSON, read exactly: by orjson, or by the json module where orjson can't."""
    if _LONG_NUMBER not in data.translate(_DIGITS):
        try:
            return orjson.loads(data)
        except orjson.JSONDecodeError:
            pass  # too deep for orjson: the json module below says if it is JSON at all
    with deep_recursion():
        return json.loads(data)


def dumps(value: Any, *, newline: bool = False) -> bytes:
    """JSON of ``value``: orjson's, or the json module's for what orjson can't write."""
    try:
        return orjson.dumps(value, option=orjson.OPT_APPEND_NEWLINE if newline else None)
    except orjson.JSONEncodeError:
        pass
    with deep_recursion():
        text = json.dumps(value, ensure_ascii=False, separators=(",", ":"), allow_nan=False)
    return text.encode() + (b"\n" if newline else b"")
