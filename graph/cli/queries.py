"""Commands that show what the API shows run the same GraphQL query in process: the same
decryption, secret masking and errors as a client gets, without a server."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import typer

from graph.crypto import DecryptionFailed
from graph.errors import SessiongraphError, UserInputError
from graph.schema import Context, build_schema
from graph.settings import ServerSettings
from graph.store import KeyMaterial, Store

__all__ = ["query"]


async def query(
    path: Path, key: KeyMaterial | None, document: str, variables: dict[str, Any], field: str
) -> Any:
    """``data[field]`` of ``document`` run against the database at ``path``.

    Values that do not authenticate are left out (null), as the API leaves them out, and
    counted in one line on stderr: the rest of the answer is still worth showing.

    Raises:
        SessiongraphError: the first other error, as the class that raised it (a bad
            search query stays a BAD_SEARCH_QUERY, say), else as a UserInputError.
    """
    store = await Store.open(path, key=key)
    try:
        result = await build_schema().execute(
            document,
            variable_values=variables,
            context_value=Context(store=store, settings=ServerSettings(), request_id="cli"),
        )
    finally:
        await store.close()
    errors = [e for e in result.errors or () if not isinstance(e.original_error, DecryptionFailed)]
    if result.errors and not errors and result.data is not None:
        typer.echo(
            f"sessiongraph: warning: {len(result.errors)} value(s) do not authenticate and "
            "are left out: run `sessiongraph doctor`",
            err=True,
        )
    elif result.errors:
        original = (errors or result.errors)[0].original_error
        if isinstance(original, SessiongraphError):
            raise original
        raise UserInputError((errors or result.errors)[0].message)
    assert result.data is not None
    return result.data[field]
