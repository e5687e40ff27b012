"""Filler text for generated transcripts: prose and code, cut from pools built once.

Slicing a pre-built pool is what keeps generating a 500 MB corpus fast: no per-record
word picking, just a random offset into text that looks like what Claude Code stores.
"""

from __future__ import annotations

import random
from typing import Final

__all__ = ["TextPool"]

_WORDS: Final = (  # noqa: SIM905 - a word list reads better as one string
    "the a to of and in is it that for on with as this be are not by or from at we can "
    "will should test file function module error value return import class session query "
    "database index cursor page message event record import export token usage schema "
    "migration connection reader writer loader resolver field type union block tool result "
    "assistant user system progress hook snapshot queue subagent thread conversation timeline "
    "search snippet encrypt decrypt key nonce cipher fixture assert expect raise handle parse "
    "stream batch commit rollback transaction pragma journal checkpoint vacuum analyze plan "
    "let me check the implementation first then run tests and fix what fails I will now "
    "update configuration build deploy review refactor rename split merge"
).split()

_CODE_LINES: Final = (
    "def {w}(self, {v}: int) -> None:",
    '    """{W} the {v} and return it."""',
    "    {v} = await self._{w}({v}, limit={n})",
    "    if {v} is None:",
    '        raise ValueError(f"bad {v}: {{{v}!r}}")',
    "    return [{v} for {v} in {w}s if {v}.ok]",
    "class {W}{W2}:",
    "import {w}",
    "from {w}.{w2} import {W}",
    "    assert {v} == {n}, {v}",
    "{n}:    {w}_{w2} = self.{v}[{n}]",
    "  src/{w}/{w2}.py:{n}: {W}Error: {w} {w2} failed",
    "PASSED tests/test_{w}.py::test_{w2}_{v}",
    'SELECT {v}, {w} FROM {w2} WHERE id = ? ORDER BY "{v}" LIMIT {n};',
    "// {W} {w2} {v}: see {w}.ts line {n}",
    "const {v} = {{ {w}: {n}, {w2}: '{v}' }};",
    "    \\t{w}\\t{n}\\t{w2}",
)


class TextPool:
    """Deterministic prose and code, handed out as slices of two large strings."""

    def __init__(self, rng: random.Random, size: int = 1 << 19) -> None:
        self._rng = rng
        self.prose = self._build_prose(size)
        self.code = self._build_code(size)

    def _build_prose(self, size: int) -> str:
        rng, parts, total = self._rng, [], 0
        while total < size:
            sentence = " ".join(rng.choices(_WORDS, k=rng.randint(6, 18)))
            piece = sentence.capitalize() + rng.choice((". ", ". ", "? ", ".\n\n", ": `x`. "))
            parts.append(piece)
            total += len(piece)
        return "".join(parts)

    def _build_code(self, size: int) -> str:
        rng, parts, total = self._rng, [], 0
        while total < size:
            w, w2, v = rng.choice(_WORDS), rng.choice(_WORDS), rng.choice(_WORDS)
            line = rng.choice(_CODE_LINES).format(
                w=w, w2=w2, v=v, W=w.capitalize(), W2=w2.capitalize(), n=rng.randint(0, 999)
            )
            parts.append(line + "\n")
            total += len(line) + 1
        return "".join(parts)

    def _cut(self, pool: str, length: int) -> str:
        length = max(1, min(length, len(pool)))
        start = self._rng.randrange(0, len(pool) - length + 1)
        return pool[start : start + length]

    def words(self, length: int) -> str:
        """About ``length`` characters of prose."""
        return self._cut(self.prose, length).strip() or "ok"

    def code_text(self, length: int) -> str:
        """About ``length`` characters of code or tool output."""
        return self._cut(self.code, length)

    def short(self, low: int = 3, high: int = 8) -> str:
        """A few words: a description, a title, a search query."""
        return " ".join(self._rng.choices(_WORDS, k=self._rng.randint(low, high)))
