"""Snippets and highlights, cut in Python from the stored (decrypted) text.

The index is never asked for text (in an encrypted database it has none): the hit's
document is rebuilt from its row, tokenized with the same tokenizer, and the window with
the most query tokens is cut out around them.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Final

from graph.search.documents import Fields
from graph.search.tokenize import Token, normalize, tokenize

__all__ = ["SNIPPET_TOKENS", "Snippet", "make_snippet"]

SNIPPET_TOKENS: Final = 24  # tokens of context a snippet shows
_ELLIPSIS: Final = "…"
_REGION: Final = 1_600  # characters of an ASCII field tokenized for a snippet
# Which field a snippet prefers when several match equally: what a person wrote first.
_PREFERENCE: Final = ("title", "text", "thinking", "tool_input", "event", "tool_output")


@dataclass(frozen=True, slots=True)
class Snippet:
    """A piece of one field's text; ``highlights`` are (start, end) offsets into ``text``."""

    field: str
    text: str
    highlights: list[tuple[int, int]]


def _matches(tokens: Sequence[Token], exact: frozenset[str], prefixes: frozenset[str]) -> list[int]:
    if not prefixes:
        return [index for index, token in enumerate(tokens) if token.text in exact]
    return [
        index
        for index, token in enumerate(tokens)
        if token.text in exact or any(token.text.startswith(p) for p in prefixes)
    ]


def _best_window(matches: list[int], width: int) -> tuple[int, int]:
    """The first token index of the window holding the most matches, and how many."""
    best_start, best_count, left = matches[0], 0, 0
    for right, position in enumerate(matches):
        while position - matches[left] >= width:
            left += 1
        if right - left + 1 > best_count:
            best_start, best_count = matches[left], right - left + 1
    return best_start, best_count


def _first(lowered: str, token: str) -> int:
    """Where ``token`` first starts a word (else anywhere: a camelCase part), or -1."""
    at_word = re.search(rf"(?<![a-z0-9]){re.escape(token)}", lowered)
    return at_word.start() if at_word else lowered.find(token)


def _region(text: str, wanted: frozenset[str]) -> tuple[int, int]:
    """The part of an ASCII ``text`` worth tokenizing: around the first query token.

    Tokenizing is what a snippet costs (a tool output can be megabytes); a snippet shows
    a few dozen tokens, so only a stretch around where a query token first appears is
    tokenized (whole words: it starts after a space).
    """
    lowered = text.lower()
    found = [i for i in (_first(lowered, token) for token in wanted) if i >= 0]
    if not found:
        return 0, min(len(text), _REGION)
    first = min(found)
    begin = max(0, first - _REGION // 4)
    if begin:
        begin = text.rfind(" ", 0, begin) + 1
    return begin, min(len(text), first + _REGION)


def make_snippet(
    fields: Fields,
    exact: frozenset[str],
    prefixes: frozenset[str] = frozenset(),
    width: int = SNIPPET_TOKENS,
) -> Snippet | None:
    """The best snippet of ``fields`` for the query tokens, or ``None`` if all are empty."""
    best: tuple[int, str, str, list[Token], list[int], tuple[int, int]] | None = None
    wanted = exact | prefixes
    for rank, column in enumerate(_PREFERENCE):
        text = normalize(fields.get(column))
        if not text:
            continue
        region = (0, len(text))
        if text.isascii():
            if best is not None and not any(token in text.lower() for token in wanted):
                continue  # can not match: not worth tokenizing
            region = _region(text, wanted)
        begin, stop = region
        # Spans stay relative to the region until the winner is cut.
        tokens = list(tokenize(text[begin:stop]))
        matches = _matches(tokens, exact, prefixes)
        score = len(matches) * len(_PREFERENCE) - rank  # most matches, then preference
        if best is None or score > best[0]:
            best = (score, column, text, tokens, matches, region)
    if best is None:
        return None
    _, column, text, tokens, matches, (begin, stop) = best
    if not tokens:
        return Snippet(column, _flat(text[: width * 8]), [])
    if matches:
        first, _ = _best_window(matches, width)
        # Center the window's matches, a few tokens of lead-in before the first.
        start = max(0, min(first - width // 4, len(tokens) - width))
    else:
        start = 0
    end = min(len(tokens), start + width)
    char_start = 0 if start == 0 and begin == 0 else begin + tokens[start].start
    last = len(text) if end == len(tokens) and stop == len(text) else None
    char_end = last if last is not None else begin + tokens[end - 1].end
    lead = _ELLIPSIS if char_start > 0 else ""
    body = _flat(text[char_start:char_end])
    trail = _ELLIPSIS if char_end < len(text) else ""
    shift = len(lead) - char_start + begin
    highlights = [
        (tokens[i].start + shift, tokens[i].end + shift) for i in matches if start <= i < end
    ]
    return Snippet(column, lead + body + trail, highlights)


def _flat(text: str) -> str:
    """One line: newlines and tabs become spaces (same length, so offsets hold)."""
    return text.replace("\r", " ").replace("\n", " ").replace("\t", " ")
