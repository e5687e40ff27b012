"""Resolving IDs that clients may give in more than one form."""

from __future__ import annotations

from typing import Final

from graph.errors import BadIdError
from graph.schema.context import Info
from graph.schema.ids import try_decode_id

__all__ = ["session_pk"]

# A raw sessionId is whatever the transcript said (a UUID from Claude Code, but any text
# the importer stored can be looked up); this bounds only what a lookup is sent with.
_MAX_RAW_ID: Final = 1_024


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
    if not session_id or len(session_id) > _MAX_RAW_ID:
        raise BadIdError(f"{session_id[:80]!r} is neither a Session ID nor a sessionId")
    loaders = info.context.loaders
    row = await loaders.session_by_sid.load(session_id)
    if row is None:
        return None
    loaders.remember_sessions([row])  # the caller loads it by pk next: no second read
    return row.id
