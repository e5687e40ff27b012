r"""A text's JSON escapes read, with the way back to the text's own offsets.

A tool call's arguments and a tool's output are often JSON written into a string (Codex
CLI's ``function_call.arguments``): as stored, ``password = \"Wq7z...\"`` has a backslash
where a rule expects a quote, and ``\u0041KIA...`` or ``gh\u0070_...`` spell a key
without its prefix. A scan reads such a text's escapes too (:func:`unescaped`) and maps
what it finds there back onto the text, so that masking replaces the escaped spelling
in place and the text stays the JSON it was.
"""

from __future__ import annotations

import bisect
import re
from dataclasses import dataclass
from typing import Final

__all__ = ["EscapeView", "unescaped"]

# Escapes that can hide a credential or break a rule's quoting: a quote, a slash, a
# character spelled by its code. A text with none is scanned as it is (a literal \n in
# code changes no match: rules stop at a backslash as at a newline).
_REVEALING: Final = re.compile(r'\\(?:u[0-9a-fA-F]{4}|["/])')
_ESCAPE: Final = re.compile(r'\\(?:u[0-9a-fA-F]{4}|["\\/bfnrt])')
_SIMPLE: Final = {'"': '"', "\\": "\\", "/": "/", "b": "\b", "f": "\f", "n": "\n", "r": "\r"}
_SIMPLE["t"] = "\t"


@dataclass(frozen=True, slots=True)
class EscapeView:
    """A text with its escapes read.

    Attributes:
        text: The text, each escape replaced by the character it spells.
        at: Where each escape's character is in ``text``, in order.
        starts: Where that escape starts in the original.
        shifts: What to add to an offset of ``text`` past that escape (and before the
            next) to get the original's.
    """

    text: str
    at: list[int]
    starts: list[int]
    shifts: list[int]

    def original(self, offset: int) -> int:
        """The original's offset of ``offset`` in :attr:`text` (the start of an escape
        for its character, so that a span's end stops before an escape it excludes)."""
        k = bisect.bisect_right(self.at, offset) - 1
        if k < 0:
            return offset
        if self.at[k] == offset:
            return self.starts[k]
        return offset + self.shifts[k]


def unescaped(text: str) -> EscapeView | None:
    """``text`` with its JSON escapes read, or None when it has none that could hide a
    credential."""
    if "\\" not in text or _REVEALING.search(text) is None:
        return None
    pieces: list[str] = []
    at: list[int] = []
    starts: list[int] = []
    shifts: list[int] = []
    done = 0  # characters of the original consumed
    length = 0  # characters of the view written
    for match in _ESCAPE.finditer(text):
        start, end = match.span()
        pieces.append(text[done:start])
        length += start - done
        escape = match.group()
        pieces.append(chr(int(escape[2:], 16)) if escape[1] == "u" else _SIMPLE[escape[1]])
        at.append(length)
        starts.append(start)
        length += 1
        shifts.append(end - length)
        done = end
    pieces.append(text[done:])
    return EscapeView("".join(pieces), at, starts, shifts)
