"""JSON lines to records: the parser base every transcript format extends.

It reads one line at a time (one ``orjson.loads``, no copies: the record object read is
the one stored, and the line as read is its stored text), repairs what can be repaired
(a byte-order mark, invalid UTF-8), refuses what can not be stored or served, and
reports both as problems. What a record means is the format's: its ``_add``.
"""

from __future__ import annotations

import json
import math
import re
from datetime import UTC, datetime
from typing import Any, BinaryIO, Final

import orjson

from graph.importers.batch import (
    REPAIRED_JSON,
    REPAIRED_UTF8,
    SKIPPED_NOT_JSON,
    SKIPPED_NOT_OBJECT,
    SKIPPED_TOO_DEEP,
    Batch,
    Problem,
)
from graph.inputs import NewEvent, NewMessage
from graph.times import format_timestamp

__all__ = [
    "CANONICAL_TS",
    "LINE_KEY",
    "MAX_DEPTH",
    "MAX_TOKENS",
    "TranscriptParser",
    "lenient_loads",
    "nesting_depth",
    "normalize_timestamp",
]

Record = dict[str, Any]

CANONICAL_TS: Final = re.compile(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z")
# How every format here keys a message that has no id of its own: by its line
# (``l:<line>``).
LINE_KEY: Final = "l:"

# The deepest record kept. orjson reads 1,024 levels but writes only 254, and a record
# is written back inside a few more (a stored message's ``[[line, record]]``, the json
# export's ``{"line", "record"}``, a GraphQL response): a deeper one could be stored
# but never served or exported, so it is refused with a report instead.
MAX_DEPTH: Final = 128
# A token count is kept if every JSON reader gets it exactly (JavaScript's safe
# integers); the usage of a record with one outside is left out, the record kept.
MAX_TOKENS: Final = (1 << 53) - 1


def normalize_timestamp(value: Any) -> str | None:
    """A record's timestamp in canonical form, or ``None`` when it has no usable one.

    Accepts ISO-8601 strings with any offset (naive ones are taken as UTC) and epoch
    numbers (seconds, or milliseconds when too large to be seconds).
    """
    if isinstance(value, str):
        if CANONICAL_TS.fullmatch(value):
            return value
        try:
            moment = datetime.fromisoformat(value.strip())
        except ValueError:
            return None
    elif isinstance(value, int | float) and not isinstance(value, bool):
        if not math.isfinite(value):
            return None
        seconds = value / 1000 if abs(value) > 1e11 else value
        try:
            moment = datetime.fromtimestamp(seconds, UTC)
        except (OverflowError, OSError, ValueError):
            return None
    else:
        return None
    return format_timestamp(moment)


_SURROGATE: Final = re.compile("[\ud800-\udfff]")
# Integers orjson reads (as a float beyond 64 bits): a larger one is no double either.
_MAX_NUMBER: Final = 1.7976931348623157e308


def lenient_loads(data: bytes | str) -> tuple[Any, list[str]]:
    """JSON that orjson refuses although it is valid, made storable: a lone surrogate
    (``"\\ud83d"``, which Claude Code writes when it cuts output mid-emoji) becomes
    U+FFFD, a number beyond a double (``1e400``) the string of its digits. Returns the
    value and what was replaced (empty: nothing).

    Raises:
        ValueError: ``data`` is not JSON (``NaN`` and ``Infinity`` are not either).
    """
    notes: list[str] = []

    def number(literal: str) -> Any:
        value = float(literal)
        if math.isfinite(value):
            return value
        notes.append(f"number {_clip(literal)} kept as a string")
        return literal

    def integer(literal: str) -> Any:
        value = int(literal)
        if -(1 << 63) <= value < 1 << 64:
            return value
        return float(value) if abs(value) <= _MAX_NUMBER else number(literal)

    def constant(name: str) -> Any:
        raise ValueError(f"{name} is not JSON")

    try:
        value = json.loads(data, parse_float=number, parse_int=integer, parse_constant=constant)
    except RecursionError:
        raise ValueError("nested too deeply for the json module") from None
    if _has_surrogate(value):
        notes.append("lone surrogate replaced by U+FFFD")
        value = _without_surrogates(value)
    return value, notes


def _has_surrogate(value: Any) -> bool:
    stack = [value]
    while stack:
        item = stack.pop()
        if item.__class__ is str:
            if _SURROGATE.search(item):
                return True
        elif item.__class__ is dict:
            stack.extend(item)
            stack.extend(item.values())
        elif item.__class__ is list:
            stack.extend(item)
    return False


def _without_surrogates(value: Any) -> Any:
    if value.__class__ is str:
        return _SURROGATE.sub("\ufffd", value)
    if value.__class__ is dict:
        return {_without_surrogates(k): _without_surrogates(v) for k, v in value.items()}
    if value.__class__ is list:
        return [_without_surrogates(item) for item in value]
    return value


def _clip(text: str, limit: int = 24) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


def nesting_depth(record: Record) -> int:
    """How deeply ``record`` nests (an object of scalars is 1)."""
    deepest = 0
    stack: list[tuple[Any, int]] = [(record, 1)]
    while stack:
        value, depth = stack.pop()
        deepest = max(deepest, depth)
        children = value.values() if value.__class__ is dict else value
        stack.extend((child, depth + 1) for child in children if child.__class__ in (dict, list))
    return deepest


class TranscriptParser:
    """Turns the lines of one file into batches; keeps what carries over between them.

    Args:
        path: The file, for problem reports.
        previous_timestamp: The timestamp of the last record read before the first line
            fed (a record without one inherits it).
        fallback_timestamp: Used while no record has had a timestamp (the file's mtime).
    """

    def __init__(
        self, path: str, *, previous_timestamp: str | None, fallback_timestamp: str
    ) -> None:
        self.path = path
        self._previous_ts = previous_timestamp or fallback_timestamp
        # Set while the records read have no time of their own but the mtime.
        self._untimed = fallback_timestamp if previous_timestamp is None else None
        self.batch = Batch()

    def resume(self, fh: BinaryIO, offset: int, state: str | None) -> None:
        """Pick up what the lines before ``offset`` carry over (a read that resumes):
        ``state`` if the last run saved one (see :meth:`state`), else those lines.

        Nothing, unless the format's lines depend on earlier ones (it overrides this).
        """

    def state(self) -> str | None:
        """What carries over past the lines fed so far, as JSON (``None``: nothing)."""
        return None

    def take(self) -> Batch:
        """The batch so far; the next lines start a new one."""
        batch, self.batch = self.batch, Batch()
        if self._untimed is not None:
            _time_leading_records(batch, self._untimed)
            self._untimed = None
        for message in batch.messages.values():
            # A line key names a line of this file, never a message another session
            # replays: the store must not take two such messages for copies.
            message.local_key = message.msg_key.startswith(LINE_KEY)
        return batch

    def feed(self, line_no: int, raw: bytes) -> None:
        """Parse one physical line (with its newline) numbered ``line_no``."""
        batch = self.batch
        batch.lines += 1
        batch.nbytes += len(raw)
        text: bytes | None
        try:
            record = orjson.loads(raw)
            # The line as read is what gets stored: it is JSON of this very record, and
            # serializing the record again would cost as much as parsing it did.
            text = raw[:-2] if raw.endswith(b"\r\n") else raw[:-1]
        except orjson.JSONDecodeError as exc:
            if raw.isspace():
                return
            record = self._repair(line_no, raw, exc)
            if record is None:
                return
            text = None  # repaired: stored as serialized from the record
        if record.__class__ is not dict:
            self._problem(line_no, SKIPPED_NOT_OBJECT, type(record).__name__)
            return
        # Only a line with that many brackets can nest that deeply: counting them is
        # cheap, walking the record is not (and is rarely needed).
        if raw.count(b"{") + raw.count(b"[") > MAX_DEPTH and nesting_depth(record) > MAX_DEPTH:
            self._problem(line_no, SKIPPED_TOO_DEEP, f"more than {MAX_DEPTH} levels")
            return
        self._add(line_no, record, batch, text)

    def _repair(self, line_no: int, raw: bytes, exc: orjson.JSONDecodeError) -> Any:
        if raw.startswith(b"\xef\xbb\xbf"):  # a byte-order mark, left by some editors
            try:
                return orjson.loads(raw[3:])
            except orjson.JSONDecodeError as again:
                exc, raw = again, raw[3:]
        try:
            raw.decode()
        except UnicodeDecodeError:
            text = raw.decode(errors="replace")
            try:
                record = orjson.loads(text)
            except orjson.JSONDecodeError:
                record = self._lenient(line_no, text)
                if record is None:
                    return None
            self._problem(line_no, REPAIRED_UTF8)
            return record
        return self._lenient(line_no, raw, exc)

    def _lenient(self, line_no: int, data: bytes | str, exc: Exception | None = None) -> Any | None:
        """Valid JSON orjson refuses, kept with what can not be stored replaced (see
        :func:`lenient_loads`); ``None`` (reported) if it is not JSON."""
        try:
            record, notes = lenient_loads(data)
        except ValueError as again:
            self._problem(line_no, SKIPPED_NOT_JSON, _short(exc or again))
            return None
        if notes:
            self._problem(line_no, REPAIRED_JSON, "; ".join(notes))
        return record

    def _problem(self, line_no: int, kind: str, detail: str = "") -> None:
        self.batch.problems.append(Problem(self.path, line_no, kind, detail))

    def _add(self, line_no: int, record: Record, batch: Batch, text: bytes | None) -> None:
        """Take one record (``text``: the JSON it was read from, if it was)."""
        raise NotImplementedError


def _time_leading_records(batch: Batch, fallback: str) -> None:
    """Time the records before a file's first timed one by that one, not by the file's
    mtime (``fallback``): a copy of the file changes its mtime, and the records at its
    head (a resumed session's summaries, say) are no later than what follows them."""
    items: list[NewEvent | NewMessage] = [*batch.events, *batch.messages.values()]
    timed = [(item.seq, item.timestamp) for item in items if item.timestamp != fallback]
    if not timed:
        return  # nothing in the file has a time: the mtime is all there is
    first, timestamp = min(timed)
    for item in items:
        if item.seq < first and item.timestamp == fallback:
            item.timestamp = timestamp


def _short(exc: Exception, limit: int = 80) -> str:
    text = str(exc)
    return text if len(text) <= limit else text[: limit - 1] + "…"
