"""ASGI middleware: request ids and the access log, and the Origin check.

Both are plain ASGI (not ``BaseHTTPMiddleware``), so they add no task or buffering.
"""

from __future__ import annotations

import logging
import time
import uuid
from typing import TYPE_CHECKING, Any, Final
from urllib.parse import urlsplit

import orjson
from starlette.datastructures import Headers
from starlette.types import ASGIApp, Message, Receive, Scope, Send

if TYPE_CHECKING:
    from graph.metrics import Metrics

__all__ = ["AccessLog", "OriginCheck", "json_error"]

access_log = logging.getLogger("graph.access")

_REQUEST_ID: Final = "request_id"


def json_error(status: int, code: str, message: str) -> tuple[int, bytes]:
    """A GraphQL-shaped error body, for answers given before GraphQL runs."""
    return status, orjson.dumps({"errors": [{"message": message, "extensions": {"code": code}}]})


# The paths metrics name one by one (anything else is "other": label values stay few).
_PATHS: Final = frozenset({"/graphql", "/healthz", "/readyz", "/metrics", "/"})


class AccessLog:
    """One structured line per request: method, path, operation, status, time, SQL
    statements and request id; never variables or results.

    It also gives each request its id (``x-request-id`` from the client when it looks
    sane, else a new one), in ``scope["state"]`` and in the response headers.
    """

    def __init__(self, app: ASGIApp, metrics: Metrics | None = None) -> None:
        self.app = app
        self.metrics = metrics

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        state: dict[str, Any] = scope.setdefault("state", {})
        given = Headers(scope=scope).get("x-request-id", "")
        request_id = given if 0 < len(given) <= 64 and given.isprintable() else uuid.uuid4().hex
        state[_REQUEST_ID] = request_id
        status = 500

        async def send_with_id(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
                message.setdefault("headers", [])
                message["headers"] = [
                    *message["headers"],
                    (b"x-request-id", request_id.encode("latin-1")),
                ]
            await send(message)

        try:
            await self.app(scope, receive, send_with_id)
        finally:
            seconds = time.perf_counter() - started
            if self.metrics is not None:
                path = scope["path"] if scope["path"] in _PATHS else "other"
                self.metrics.observe_request(path, state.get("operation_name"), status, seconds)
            access_log.info(
                orjson.dumps(
                    {
                        "method": scope["method"],
                        "path": scope["path"],
                        "operation": state.get("operation_name"),
                        "status": status,
                        "ms": round(seconds * 1000, 2),
                        "sql": state.get("sql_statements"),
                        "requestId": request_id,
                    }
                ).decode()
            )


class OriginCheck:
    """Refuses browser requests from origins that are neither this server nor allowed.

    Cross-site pages cannot read the answers anyway (CORS), but they can *send*: this
    stops them before anything runs. Requests without an ``Origin`` (curl, scripts,
    same-origin GETs) pass.
    """

    def __init__(self, app: ASGIApp, allowed_origins: tuple[str, ...]) -> None:
        self.app = app
        self.allowed = {origin.rstrip("/").lower() for origin in allowed_origins}

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] not in ("http", "websocket"):
            await self.app(scope, receive, send)
            return
        headers = Headers(scope=scope)
        origin = headers.get("origin")
        if origin is None or self._allowed(origin, headers.get("host", "")):
            await self.app(scope, receive, send)
            return
        if scope["type"] == "websocket":
            await send({"type": "websocket.close", "code": 4403})
            return
        status, body = json_error(403, "FORBIDDEN_ORIGIN", f"origin {origin} is not allowed")
        await send(
            {
                "type": "http.response.start",
                "status": status,
                "headers": [
                    (b"content-type", b"application/json"),
                    (b"content-length", str(len(body)).encode()),
                ],
            }
        )
        await send({"type": "http.response.body", "body": body})

    def _allowed(self, origin: str, host: str) -> bool:
        origin = origin.rstrip("/").lower()
        if origin in self.allowed:
            return True
        # Same origin: the page this server served (GraphiQL) calling it back.
        return urlsplit(origin).netloc == host.lower() and bool(host)
