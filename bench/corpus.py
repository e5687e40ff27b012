"""What both agents' generators write with: text pools (prose and code handed out as
slices of pools built once, so generating is cheap), ids, timestamps, the tally."""

from __future__ import annotations

import random
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any, BinaryIO, Final

import orjson

Json = dict[str, Any]
_WORDS: Final = (  # noqa: SIM905 - a word list reads better as one string
    "the a to of and in is it that for on with as this be are not by or from at we can "
    "will should test file function module error value return import class session query "
    "database index cursor page message event record export token usage schema migration "
    "connection reader writer loader resolver field type union block tool result assistant "
    "user system progress hook snapshot queue subagent thread conversation timeline search "
    "snippet encrypt decrypt key nonce cipher fixture assert expect raise handle parse stream "
    "batch commit rollback transaction pragma journal checkpoint vacuum analyze plan let me "
    "check implementation first then run tests and fix what fails I now update configuration "
    "build deploy review refactor rename split merge"
).split()
_CODE: Final = """def {w}(self, {v}: int) -> None:
    {v} = await self._{w}({v}, limit={n})
    if {v} is None:
        raise ValueError(f"bad {v}")
class {W}:
from {w}.{v} import {W}
    assert {v} == {n}, {v}
  src/{w}/{v}.py:{n}: {W}Error
PASSED tests/test_{w}.py::test_{v}
SELECT {v}, {w} FROM {v} WHERE id = ? LIMIT {n};""".splitlines()


def random_uuid(rng: random.Random, version: str = "4") -> str:
    h = f"{rng.getrandbits(128):032x}"
    return f"{h[:8]}-{h[8:12]}-{version}{h[13:16]}-a{h[17:20]}-{h[20:32]}"


def iso_stamp(ms: int) -> str:
    """ISO 8601 UTC with milliseconds, as both agents write it."""
    return time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(ms // 1000)) + f".{ms % 1000:03d}Z"


class TextPool:
    """Deterministic prose and code, handed out as slices of two large strings."""

    def __init__(self, rng: random.Random, size: int = 1 << 19) -> None:
        self.rng = rng
        prose: list[str] = []
        code: list[str] = []
        while len(prose) < size // 70:  # ~70 characters a sentence
            words = " ".join(rng.choices(_WORDS, k=rng.randint(6, 18)))
            prose.append(words.capitalize() + rng.choice((". ", "? ", ".\n\n")))
        while len(code) < size // 30:  # ~30 characters a line
            w, v = rng.choice(_WORDS), rng.choice(_WORDS)
            code.append(rng.choice(_CODE).format(w=w, v=v, W=w.title(), n=rng.randint(0, 999)))
        self.prose, self.code = "".join(prose), "\n".join(code)

    def _cut(self, pool: str, length: int) -> str:
        length = max(1, min(length, len(pool)))
        start = self.rng.randrange(0, len(pool) - length + 1)
        return pool[start : start + length]

    def words(self, length: int) -> str:
        """About ``length`` characters of prose."""
        return self._cut(self.prose, length).strip() or "ok"

    def code_text(self, length: int) -> str:
        """About ``length`` characters of code or tool output."""
        return self._cut(self.code, length)

    def short(self, low: int = 3, high: int = 8) -> str:
        return " ".join(self.rng.choices(_WORDS, k=self.rng.randint(low, high)))


@dataclass(slots=True)
class Corpus:
    """A corpus being written under ``root`` (the folder to import), and its tally."""

    root: Path
    rng: random.Random
    text: TextPool
    records: int = 0
    messages: int = 0
    events: int = 0
    bytes: int = 0

    @property
    def megabytes(self) -> float:
        return self.bytes / 1e6

    def open(self, path: str) -> BinaryIO:
        """A new file at ``path`` under the root, its folders made."""
        (self.root / path).parent.mkdir(parents=True, exist_ok=True)
        return (self.root / path).open("wb", buffering=1 << 20)

    def write(self, fh: BinaryIO, record: Json, *, message: bool = False) -> None:
        line = orjson.dumps(record) + b"\n"
        fh.write(line)
        self.records += 1
        self.bytes += len(line)
        self.events += not message
