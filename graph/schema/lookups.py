"""Resolving IDs that clients may give in more than one form."""

from __future__ import annotations

import re
from typing import Final

from graph.errors import BadIdError
from graph.schema.context import Info
from graph.schema.ids import try_decode_id

__all__ = ["session_pk"]

# What a raw Claude sessionId can look like (a UUID today; kept loose for other tools).
_RAW_SESSION_ID: Final = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._:-]{0,127}$")


async def session_pk(info: Info, session_id: str) -> int | None:
    """The pk of a session given by global ID or raw sessionId (``None``: not found).

    Raises:
        BadIdError: another type's global ID, or a string that can be neither.
    """
    decoded = try_decode_id(session_id)
    if decoded is not None:
        if decoded[0] != "Session":
            raise BadIdError(f"{session_id!r} is a {decoded[0]} ID, expected a Session ID")
        return decoded[1]
    if not _RAW_SESSION_ID.match(session_id):
        raise BadIdError(f"{session_id!r} is neither a Session ID nor a Claude sessionId")
    loaders = info.context.loaders
    row = await loaders.session_by_sid.load(session_id)
    if row is None:
        return None
    loaders.session.prime(row.id, row)  # the caller loads it by pk next: no second read
    return row.id
