"""Per-request bookkeeping the store does for its caller: a deadline, a statement count.

The HTTP layer sets a :class:`RequestScope` in a context variable; every reader taken
while it is set interrupts SQL past the deadline and adds its statements to the count.
Tasks spawned by the request (DataLoader batches) inherit the same scope object.
"""

from __future__ import annotations

from contextvars import ContextVar
from dataclasses import dataclass

__all__ = ["CURRENT_SCOPE", "RequestScope"]


@dataclass(slots=True)
class RequestScope:
    """``deadline`` is a ``time.monotonic()`` value; ``statements`` counts reads."""

    deadline: float | None = None
    statements: int = 0


CURRENT_SCOPE: ContextVar[RequestScope | None] = ContextVar("sessiongraph_scope", default=None)
