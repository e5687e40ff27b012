"""GraphQL subscriptions over WebSocket (graphql-transport-ws, strawberry's own handler).

Browsers can not set headers on a WebSocket, so the token travels in the
``connection_init`` payload (``{"authorization": "Bearer ..."}``). It is checked here, on
the protocol's first message, before strawberry sees it: a missing or wrong token
closes the socket with 4401. The Origin check happens earlier, in ``OriginCheck``.
"""

from __future__ import annotations

import uuid
from typing import Any

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
        if self.token is None:
            await self.view(scope, receive, send)
            return
        checked = False
        closed = False

        async def guarded_send(message: Message) -> None:
            if not closed:
                await send(message)

        async def guarded_receive() -> Message:
            nonlocal checked, closed
            message = await receive()
            if checked or message["type"] != "websocket.receive":
                return message
            checked = True
            if self._authorized(message):
                return message
            closed = True
            await send({"type": "websocket.close", "code": 4401, "reason": "Unauthorized"})
            return {"type": "websocket.disconnect", "code": 4401}

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
