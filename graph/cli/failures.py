"""Any exception a command ends with, as one line that says what happened and what to do.

Expected errors (:class:`~graph.errors.SessiongraphError`) already say so. The faults
of the machine (a full disk, a damaged database file, an unreadable path) get a line of
their own here. Anything else is a bug: one line too, with where its full trace was
written; ``SESSIONGRAPH_DEBUG=1`` lets the trace through to the terminal instead.
"""

from __future__ import annotations

import errno
import os
import re
import tempfile
import traceback
from typing import Final

from graph.errors import SessiongraphError

__all__ = ["DEBUG_ENV", "debugging", "describe", "usage"]

DEBUG_ENV: Final = "SESSIONGRAPH_DEBUG"
_CONTROL: Final = re.compile(r"[\x00-\x1f\x7f]")
_FULL: Final = "free some space and run the command again"


def debugging() -> bool:
    """Whether the user asked for full tracebacks."""
    return os.environ.get(DEBUG_ENV, "") not in ("", "0")


def describe(exc: BaseException) -> str:
    """One line for ``exc``: what happened, what to do, and any notes added on the way."""
    line, trace = _line(exc)
    notes = getattr(exc, "__notes__", None) or []
    # Text from a damaged file can hold anything, a line break included.
    text = _CONTROL.sub(_escape, "; ".join([line, *(str(note) for note in notes)]))
    return f"{text}\n{trace}" if trace else text


def usage(message: str, command: str) -> str:
    """One line for a command line that does not parse (``message`` says why), and where
    to read how it goes: ``command``, as the user typed it (``sessiongraph sessions``)."""
    return f"{_CONTROL.sub(_escape, message)} (see {command} --help)"


def _escape(match: re.Match[str]) -> str:
    return repr(match.group())[1:-1]


def _line(exc: BaseException) -> tuple[str, str]:
    """The line, and the trace printed after it (only when asked for, else empty)."""
    if isinstance(exc, SessiongraphError):
        return _trace_line(str(exc), exc.trace) if exc.trace else (str(exc), "")
    from graph.store.faults import database_fault  # loads the store: only on a failure

    fault = database_fault(exc)
    if fault is not None:
        return fault, ""
    if isinstance(exc, OSError):
        return _os(exc), ""
    what = f"unexpected {type(exc).__name__}" + (f": {exc}" if str(exc) else "")
    return _trace_line(what, "".join(traceback.format_exception(exc)), bug=True)


def _os(exc: OSError) -> str:
    what = exc.strerror or str(exc) or type(exc).__name__
    where = f"{exc.filename}: " if exc.filename else ""
    if exc.errno in (errno.ENOSPC, errno.EDQUOT):
        return f"{where}{what}: {_FULL}"
    return f"{where}{what}"


def _trace_line(line: str, trace: str, *, bug: bool = False) -> tuple[str, str]:
    """``line``, and where the full ``trace`` went (a file, or a hint to print it)."""
    if debugging():  # asked for: the trace follows the line
        return line, trace.rstrip()
    saved = _save_trace(trace)
    report = "; please report it" if bug else ""
    if saved is None:
        return f"{line} (set {DEBUG_ENV}=1 to see the full trace){report}", ""
    return f"{line} (full trace in {saved}, or set {DEBUG_ENV}=1 to print it){report}", ""


def _save_trace(trace: str) -> str | None:
    try:
        fd, path = tempfile.mkstemp(prefix="sessiongraph-", suffix=".trace.txt")
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            fh.write(trace)
    except OSError:  # no room for it either: the hint will have to do
        return None
    return path
