"""The HTTP protocol uvicorn serves with: httptools, plus a deadline and a size bound for
a request's head.

uvicorn closes a keep-alive connection that stays idle, but not one that never finishes
sending its headers: a client trickling a header a minute holds a connection (and its
memory) for ever, and enough of them hold them all. Here every request's head must be
complete within the deadline, counted from the connection (or the previous response);
a connection that misses it is closed. A body that trickles is the app's to time out
(``GraphQLEndpoint`` answers 408).

httptools (the C parser uvicorn picks when it is installed) parses a request in about a
third of the time h11 takes, but unlike h11 it bounds neither the request line nor the
headers, and it holds a header until the next one begins: a head over
``MAX_HEAD_BYTES`` is answered 400 and its connection closed, as h11 answers one over its
buffer, whether it ended or is still arriving.
"""

from __future__ import annotations

import asyncio
import logging
from typing import Any, Final

from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol

__all__ = ["MAX_HEAD_BYTES", "head_deadline_protocol"]

log = logging.getLogger("graph.serving")

# h11's bound on a request head (its max_incomplete_event_size), which uvicorn kept.
MAX_HEAD_BYTES: Final = 16 * 1024


class HeadTooLarge(Exception):
    """Raised from a parser callback: httptools reports it as a parser error, which
    uvicorn answers 400 (closing the connection)."""


def head_deadline_protocol(seconds: float) -> type[HttpToolsProtocol]:
    """uvicorn's httptools protocol, closing connections whose request head takes over
    ``seconds`` to arrive, and refusing heads over :data:`MAX_HEAD_BYTES`."""

    class HeadDeadline(HttpToolsProtocol):
        _head_timer: asyncio.TimerHandle | None = None
        _head_bytes = 0  # of the head's parts the parser has passed on
        _unparsed = 0  # bytes received after the head's first read, while it is unfinished
        _fresh = False  # the head being read began in the bytes being fed
        # Requests begun, heads complete, requests read whole, responses complete. A head
        # is arriving while begun > heads; the connection waits for one while the other
        # three are equal (a request being answered, or its body still arriving after an
        # early answer, is neither).
        _begun = 0
        _heads = 0
        _ended = 0
        _responses = 0

        def connection_made(self, transport: Any) -> None:
            super().connection_made(transport)
            self._arm()

        def data_received(self, data: bytes) -> None:
            self._fresh = False
            super().data_received(data)
            # The read a head began in may end another request: it is not counted (a
            # head's memory is bounded by MAX_HEAD_BYTES and one read all the same).
            if self._begun > self._heads and not self._fresh and not self.transport.is_closing():
                self._unparsed += len(data)
                if self._unparsed > MAX_HEAD_BYTES:
                    self.send_400_response("Request head too large.")

        def on_message_begin(self) -> None:
            self._begun += 1
            self._head_bytes = self._unparsed = 0
            self._fresh = True
            super().on_message_begin()

        def on_url(self, url: bytes) -> None:
            self._count(len(url))
            super().on_url(url)

        def on_header(self, name: bytes, value: bytes) -> None:
            self._count(len(name) + len(value))
            super().on_header(name, value)

        def on_headers_complete(self) -> None:
            self._heads += 1
            self._disarm()
            super().on_headers_complete()

        def on_message_complete(self) -> None:
            self._ended += 1
            super().on_message_complete()

        def on_response_complete(self) -> None:
            self._responses += 1
            super().on_response_complete()
            self._arm()  # the next request's head has its own deadline

        def connection_lost(self, exc: Exception | None) -> None:
            self._disarm()
            super().connection_lost(exc)

        def _count(self, size: int) -> None:
            self._head_bytes += size
            if self._head_bytes > MAX_HEAD_BYTES:
                raise HeadTooLarge(f"a request head over {MAX_HEAD_BYTES} bytes")

        def _arm(self) -> None:
            self._disarm()
            self._head_timer = self.loop.call_later(seconds, self._expired)

        def _disarm(self) -> None:
            if self._head_timer is not None:
                self._head_timer.cancel()
                self._head_timer = None

        def _expired(self) -> None:
            self._head_timer = None
            waiting = self._heads == self._ended == self._responses
            if waiting and not self.transport.is_closing():
                log.info("closing a connection whose request head took over %g s", seconds)
                self.transport.close()

    return HeadDeadline
