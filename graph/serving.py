"""The HTTP protocol uvicorn serves with: h11, plus a deadline for a request's head.

uvicorn closes a keep-alive connection that stays idle, but not one that never finishes
sending its headers: a client trickling a header a minute holds a connection (and its
memory) for ever, and enough of them hold them all. Here every request's head must be
complete within the deadline, counted from the connection (or the previous response);
a connection that misses it is closed. A body that trickles is the app's to time out
(``GraphQLEndpoint`` answers 408).
"""

from __future__ import annotations

import asyncio
import logging
from typing import Any

import h11
from uvicorn.protocols.http.h11_impl import H11Protocol

__all__ = ["head_deadline_protocol"]

log = logging.getLogger("graph.serving")


def head_deadline_protocol(seconds: float) -> type[H11Protocol]:
    """uvicorn's h11 protocol, closing connections whose request head takes over
    ``seconds`` to arrive."""

    class HeadDeadline(H11Protocol):
        _head_timer: asyncio.TimerHandle | None = None

        def connection_made(self, transport: Any) -> None:
            super().connection_made(transport)
            self._arm()

        def handle_events(self) -> None:
            super().handle_events()
            if self.conn.their_state is not h11.IDLE:  # a whole head arrived
                self._disarm()

        def on_response_complete(self) -> None:
            super().on_response_complete()
            self._arm()  # the next request's head has its own deadline

        def connection_lost(self, exc: Exception | None) -> None:
            self._disarm()
            super().connection_lost(exc)

        def _arm(self) -> None:
            self._disarm()
            self._head_timer = self.loop.call_later(seconds, self._expired)

        def _disarm(self) -> None:
            if self._head_timer is not None:
                self._head_timer.cancel()
                self._head_timer = None

        def _expired(self) -> None:
            self._head_timer = None
            if self.conn.their_state is h11.IDLE and not self.transport.is_closing():
                log.info("closing a connection whose request head took over %g s", seconds)
                self.transport.close()

    return HeadDeadline
