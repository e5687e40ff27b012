"""GraphQL subscriptions over WebSocket (graphql-transport-ws, strawberry's own handler).

Browsers can not set headers on a WebSocket, so the token travels in the
``connection_init`` payload (``{"authorization": "Bearer ..."}``). It is checked here, on
the protocol's first message, before strawberry sees it: a missing or wrong token
closes the socket with 4401. The Origin check happens earlier, in ``OriginCheck``.

A frame is held to the size of an HTTP body (``max_body_bytes``): a larger one closes
the socket with 1009 before it is decoded. Frames are decoded by orjson, as HTTP bodies
are: JSON nested too deep is "not JSON" (4400), not a RecursionError.
"""

from __future__ import annotations

import uuid
from typing import Any, Final

import orjson
from starlette.requests import Request
from starlette.responses import Response
from starlette.types import Message, Receive, Scope, Send
from starlette.websockets import WebSocket
from strawberry.asgi import GraphQL
from strawberry.subscriptions import GRAPHQL_TRANSPORT_WS_PROTOCOL

from graph.schema import Context, Schema
from graph.security import tokens_match
from graph.settings import ServerSettings

__all__ = ["SubscriptionEndpoint"]

# RFC 6455's close code for a message too big to process.
MESSAGE_TOO_BIG: Final = 1009


class _View(GraphQL[Context, None]):
    def __init__(
        self, schema: Schema, settings: ServerSettings, allowed_origins: tuple[str, ...]
    ) -> None:
        super().__init__(
            schema,
            graphql_ide=None,
            subscription_protocols=(GRAPHQL_TRANSPORT_WS_PROTOCOL,),
            keep_alive=True,
            keep_alive_interval=15,
            # strawberry checks the Origin of an upgrade itself (same origin, else this
            # list): the origins `serve --cors-origin` allows over HTTP, allowed here too.
            allowed_origins=allowed_origins,
        )
        self.settings = settings

    def decode_json(self, data: str | bytes) -> object:
        # orjson refuses nesting past 1,024 levels with a JSONDecodeError, which the
        # handler answers (4400); the json module recursed until RecursionError, a crash.
        return orjson.loads(data)

    async def get_context(
        self, request: Request | WebSocket, response: Response | WebSocket
    ) -> Context:
        state = request.app.state
        return Context(
            store=state.store,
            settings=self.settings,
            request_id=uuid.uuid4().hex,
            feed=getattr(state, "feed", None),
        )


class SubscriptionEndpoint:
    """The ASGI app behind ``/graphql`` for WebSocket upgrades."""

    def __init__(self, schema: Schema, settings: ServerSettings) -> None:
        # strawberry checks the Origin of an upgrade itself: the origins allowed over HTTP
        # (`serve --cors-origin`) are allowed here too.
        self.view = _View(schema, settings, settings.cors_origins)
        self.token = settings.token
        self.max_frame_bytes = settings.max_body_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        metrics = getattr(scope["app"].state, "metrics", None) if "app" in scope else None
        if metrics is not None:
            metrics.websockets.inc()
        try:
            await self._serve(scope, receive, send)
        finally:
            if metrics is not None:
                metrics.websockets.dec()

    async def _serve(self, scope: Scope, receive: Receive, send: Send) -> None:
        checked = self.token is None
        closed = False

        async def guarded_send(message: Message) -> None:
            if not closed:
                await send(message)

        async def close(code: int, reason: str) -> Message:
            nonlocal closed
            closed = True
            await send({"type": "websocket.close", "code": code, "reason": reason})
            return {"type": "websocket.disconnect", "code": code}

        async def guarded_receive() -> Message:
            nonlocal checked
            message = await receive()
            if message["type"] != "websocket.receive":
                return message
            if len(message.get("text") or message.get("bytes") or b"") > self.max_frame_bytes:
                # A text frame is measured in characters, at most its bytes: the server's
                # own bound (uvicorn's ws_max_size, which `serve` sets alike) holds bytes.
                return await close(
                    MESSAGE_TOO_BIG, f"a frame is limited to {self.max_frame_bytes:,} bytes"
                )
            if checked:
                return message
            checked = True
            if self._authorized(message):
                return message
            return await close(4401, "Unauthorized")

        await self.view(scope, guarded_receive, guarded_send)

    def _authorized(self, message: Message) -> bool:
        assert self.token is not None
        try:
            frame: Any = orjson.loads(message.get("text") or message.get("bytes") or b"")
        except orjson.JSONDecodeError:
            return False
        if not isinstance(frame, dict) or frame.get("type") != "connection_init":
            return False
        payload = frame.get("payload")
        value = payload.get("authorization") if isinstance(payload, dict) else None
        if not isinstance(value, str):
            return False
        scheme, _, presented = value.partition(" ")
        return scheme.lower() == "bearer" and tokens_match(presented.strip(), self.token)
