"""Commands that show what the API shows run the same GraphQL query in process: the same
decryption, secret masking and errors as a client gets, without a server."""

from __future__ import annotations

import json
import logging
import traceback
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import typer

from graph.crypto import DecryptionFailed
from graph.errors import SessiongraphError, StoreError, UserInputError
from graph.schema import Context, build_schema
from graph.schema.errors import unreadable_only
from graph.settings import ServerSettings
from graph.store import KeyMaterial, Store

__all__ = ["query", "query_store"]


async def query(
    path: Path, key: KeyMaterial | None, document: str, variables: dict[str, Any], field: str
) -> Any:
    """``data[field]`` of ``document`` run against the database at ``path``.

    Values that do not authenticate are left out (null), as the API leaves them out, and
    counted in one line on stderr: the rest of the answer is still worth showing.

    Raises:
        SessiongraphError: the first other error, as the class that raised it (a bad
            search query stays a BAD_SEARCH_QUERY, say), else as a UserInputError.
        Exception: what an internal error was before the schema masked it (a damaged
            file's SQLite error, a bug), for :func:`graph.cli.base.run` to describe.
    """
    store = await Store.open(path, key=key)
    try:
        return await query_store(store, document, variables, field)
    finally:
        await store.close()


async def query_store(store: Store, document: str, variables: dict[str, Any], field: str) -> Any:
    """:func:`query` on an open store."""
    with _masked() as masked:
        result = await build_schema().execute(
            document,
            variable_values=variables,
            context_value=Context(store=store, settings=ServerSettings(), request_id="cli"),
        )
    if result.errors and unreadable_only(result.errors) and result.data is not None:
        typer.echo(
            f"sessiongraph: warning: {len(result.errors)} value(s) do not authenticate and "
            "are left out: run `sessiongraph doctor`",
            err=True,
        )
    elif result.errors:
        first = next(
            (e for e in result.errors if not isinstance(e.original_error, DecryptionFailed)),
            result.errors[0],
        )
        original = first.original_error
        if isinstance(original, SessiongraphError):
            raise original
        if original is None and masked:  # "Internal error": say what it was
            raise _unmasked(masked[0])
        raise UserInputError(first.message)
    assert result.data is not None
    return result.data[field]


@contextmanager
def _masked() -> Iterator[list[BaseException]]:
    """The errors the schema masks as "Internal error", kept instead of logged.

    A server logs them, trace and all, for its operator; in a command that log would be a
    traceback on the terminal, before a line that says nothing ("Internal error").
    """
    kept: list[BaseException] = []

    class Keep(logging.Handler):
        def emit(self, record: logging.LogRecord) -> None:
            if record.exc_info and record.exc_info[1] is not None:
                kept.append(record.exc_info[1])

    logger = logging.getLogger("graph.errors")
    handler, propagate = Keep(), logger.propagate
    logger.addHandler(handler)
    logger.propagate = False
    try:
        yield kept
    finally:
        logger.removeHandler(handler)
        logger.propagate = propagate


def _unmasked(exc: BaseException) -> BaseException:
    """``exc`` as the command reports it: a stored value that does not decode (JSON, UTF-8)
    is a damaged file, as SQLite's own errors about one are."""
    if not isinstance(exc, UnicodeDecodeError | json.JSONDecodeError):  # orjson's is one
        return exc
    damaged = StoreError(
        f"the database file is damaged (a stored value does not decode: {exc}): run "
        "`sessiongraph doctor` to see what is wrong, or restore the file from a backup"
    )
    damaged.trace = "".join(traceback.format_exception(exc))
    return damaged
