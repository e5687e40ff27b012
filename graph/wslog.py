"""WebSocket connections in the access log, as the same JSON lines as HTTP requests.

``AccessLog`` (graph/middleware.py) logs HTTP requests; uvicorn logged WebSockets in its
own plain format (``127.0.0.1:5000 - "WebSocket /graphql" [accepted]``, then
``connection open`` and ``connection closed``). :class:`WebSocketAccessLog` logs one line
per connection when it ends instead, and :class:`QuietWebSocketLines` drops uvicorn's.
"""

from __future__ import annotations

import logging
import time
import uuid
from typing import Final

import orjson
from starlette.datastructures import Headers
from starlette.types import ASGIApp, Message, Receive, Scope, Send

__all__ = ["QuietWebSocketLines", "WebSocketAccessLog"]

access_log = logging.getLogger("graph.access")

_UVICORN_LINES: Final = ("connection open", "connection closed")


class WebSocketAccessLog:
    """One JSON line per WebSocket: path, status (101 accepted, 403 refused), close code,
    duration and request id; never what went over it."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "websocket":
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        given = Headers(scope=scope).get("x-request-id", "")
        request_id = given if 0 < len(given) <= 64 and given.isprintable() else uuid.uuid4().hex
        status: int | None = None
        close_code: int | None = None

        async def logged_send(message: Message) -> None:
            nonlocal status, close_code
            if message["type"] == "websocket.accept":
                status = 101
            elif message["type"] == "websocket.close":
                status = status or 403
                close_code = close_code or int(message.get("code", 1000))
            await send(message)

        async def logged_receive() -> Message:
            nonlocal close_code
            message = await receive()
            if message["type"] == "websocket.disconnect":
                close_code = close_code or int(message.get("code", 1005))
            return message

        try:
            await self.app(scope, logged_receive, logged_send)
        finally:
            access_log.info(
                orjson.dumps(
                    {
                        "method": "WEBSOCKET",
                        "path": scope["path"],
                        "status": status or 403,
                        "closeCode": close_code,
                        "ms": round((time.perf_counter() - started) * 1000, 2),
                        "requestId": request_id,
                    }
                ).decode()
            )


class QuietWebSocketLines(logging.Filter):
    """Drops uvicorn's own lines about WebSockets (``WebSocketAccessLog`` logs them)."""

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.msg
        if not isinstance(message, str):
            return True
        return not (message.startswith('%s - "WebSocket ') or message in _UVICORN_LINES)
