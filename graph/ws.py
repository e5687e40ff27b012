"""GraphQL subscriptions over WebSocket (graphql-transport-ws, strawberry's own handler).

Browsers can not set headers on a WebSocket, so the token travels in the
``connection_init`` payload (``{"authorization": "Bearer ..."}``). It is checked here, on
the protocol's first message, before strawberry sees it: a missing or wrong token
closes the socket with 4401. The Origin check happens earlier, in ``OriginCheck``.

A frame is held to the size of an HTTP body (``max_body_bytes``): a larger one closes
the socket with 1009 before it is decoded. Frames are decoded by orjson, as HTTP bodies
are: JSON nested too deep is "not JSON" (4400), not a RecursionError. A message of the
wrong shape (not an object, a ``subscribe`` without a string ``query``, ``variables``
that are not an object, ...) closes it with 4400 too, saying what is wrong, as HTTP
answers such a body with a 400: strawberry's handler would fail on it with a TypeError.
A close reason is cut to what a close frame holds (strawberry's quote the client: an
unknown message type, an id in use), which websockets otherwise refuses to send.
An operation past strawberry's limit per socket (100 running) is refused with the code
``TOO_MANY_SUBSCRIPTIONS``.
"""

from __future__ import annotations

import uuid
from typing import Any, Final

import orjson
from graphql import GraphQLError
from starlette.requests import Request
from starlette.responses import Response
from starlette.types import Message, Receive, Scope, Send
from starlette.websockets import WebSocket
from strawberry.asgi import GraphQL
from strawberry.subscriptions import GRAPHQL_TRANSPORT_WS_PROTOCOL
from strawberry.subscriptions.protocols.graphql_transport_ws import types as protocol
from strawberry.subscriptions.protocols.graphql_transport_ws.handlers import (
    BaseGraphQLTransportWSHandler,
)

from graph.errors import TooManySubscriptions
from graph.schema import Context, Schema
from graph.security import tokens_match
from graph.settings import ServerSettings

__all__ = ["SubscriptionEndpoint"]

# RFC 6455's close code for a message too big to process.
MESSAGE_TOO_BIG: Final = 1009
# RFC 6455: a close frame's payload is at most 125 bytes, two of them the code.
_CLOSE_REASON_BYTES: Final = 123


def _fitted(message: Message) -> Message:
    """``message``, its close reason (if any) cut to fit a close frame."""
    reason = message.get("reason") if message["type"] == "websocket.close" else None
    if not reason or len(encoded := reason.encode()) <= _CLOSE_REASON_BYTES:
        return message
    cut = encoded[: _CLOSE_REASON_BYTES - 3].decode("utf-8", "ignore") + "…"  # 3 bytes
    return {**message, "reason": cut}


def malformed(message: object) -> str | None:
    """What is wrong with the shape of a graphql-transport-ws ``message``, if anything
    strawberry's handler does not check itself."""
    if not isinstance(message, dict):
        return "a message must be a JSON object"
    kind = message.get("type")
    if kind in ("subscribe", "complete") and not isinstance(message.get("id"), str):
        return f"a {kind} message needs a string `id`"
    if kind != "subscribe":
        return None
    payload = message.get("payload")
    if not isinstance(payload, dict):
        return "a subscribe message needs a `payload` object"
    if not isinstance(payload.get("query"), str):
        return "`query` must be a string"
    for name, kind_ in (("variables", dict), ("extensions", dict), ("operationName", str)):
        if payload.get(name) is not None and not isinstance(payload[name], kind_):
            return f"`{name}` must be {'a string' if kind_ is str else 'an object'}"
    return None


class _Handler(BaseGraphQLTransportWSHandler[Context, None]):
    async def handle_message(self, message: protocol.Message) -> None:
        problem = malformed(message)
        if problem is not None:
            await self.handle_invalid_message(problem)  # closes the socket with 4400
            return
        await super().handle_message(message)

    async def handle_subscribe(self, message: protocol.SubscribeMessage) -> None:
        # strawberry refuses the operation past the limit with an error without a code.
        limit = self.max_subscriptions_per_connection
        if (
            self.connection_acknowledged
            and message["id"] not in self.operations
            and limit is not None
            and len(self.operations) >= limit
        ):
            refusal = TooManySubscriptions(
                f"{limit} operations are running on this socket, as many as one may: "
                "complete one first",
                maximum=limit,
            )
            error = GraphQLError(
                refusal.message, extensions={**refusal.extensions, "code": refusal.code}
            )
            await self.send_message(
                {"id": message["id"], "type": "error", "payload": [error.formatted]}
            )
            return
        await super().handle_subscribe(message)


class _View(GraphQL[Context, None]):
    graphql_transport_ws_handler_class = _Handler

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
                await send(_fitted(message))

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
