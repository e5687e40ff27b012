"""The ``/graphql`` endpoint, following the GraphQL-over-HTTP specification.

Written here rather than taken from ``strawberry.asgi`` because the spec's media type
``application/graphql-response+json`` changes status codes (a request that fails to
parse or validate is a 400 under it, a 200 under ``application/json``), and that view
does not implement it.
"""

from __future__ import annotations

import asyncio
import logging
import re
import uuid
from dataclasses import dataclass
from typing import Any, Final

import orjson
from graphql import GraphQLError
from starlette.requests import ClientDisconnect, Request
from starlette.responses import HTMLResponse, Response
from strawberry.exceptions import MissingQueryError
from strawberry.schema.exceptions import CannotGetOperationTypeError, InvalidOperationTypeError
from strawberry.types import ExecutionResult
from strawberry.types.execution import PreExecutionError
from strawberry.types.graphql import OperationType

from graph import jsontext
from graph.graphiql import graphiql_html
from graph.schema import Context, Schema
from graph.schema.errors import LIMIT_CODES
from graph.security import tokens_match
from graph.settings import ServerSettings
from graph.store import Store

__all__ = ["GRAPHQL_RESPONSE_JSON", "GraphQLEndpoint", "bearer_matches"]

log = logging.getLogger(__name__)

GRAPHQL_RESPONSE_JSON: Final = "application/graphql-response+json"
# What the access log shows for a client that left before its request was read (nginx's
# number for it: no response is sent).
CLIENT_CLOSED_REQUEST: Final = 499
JSON: Final = "application/json"


@dataclass(frozen=True, slots=True)
class _Params:
    query: str | None
    variables: dict[str, Any] | None
    operation_name: str | None


class _RequestError(Exception):
    """The HTTP request itself is wrong: answered without running anything."""

    def __init__(
        self,
        status: int,
        message: str,
        headers: dict[str, str] | None = None,
        *,
        code: str = "BAD_REQUEST",
    ) -> None:
        super().__init__(message)
        self.status = status
        self.message = message
        self.headers = headers or {}
        self.code = code


_OPERATION: Final = re.compile(r"^\s*(?:query|mutation|subscription)\s+([_A-Za-z][_0-9A-Za-z]*)")
_NAME: Final = re.compile(r"[_A-Za-z][_0-9A-Za-z]*")
# Longer names are cut in the log and metrics (a client's name is not ours to store whole).
_SHOWN_NAME: Final = 100


def _named(query: str | None, given: str | None) -> str | None:
    """The operation's name for the log and metrics: ``operationName`` when it is a GraphQL
    name, else the name of the document's first operation (not parsed: a document that
    does not start with a named operation is simply unnamed here). Either is cut to
    ``_SHOWN_NAME`` characters."""
    if given is None:
        found = _OPERATION.match(query[:200]) if query else None
        given = found.group(1) if found else None
    elif not _NAME.fullmatch(given):
        return None  # no such operation: the request fails, and says why
    return given[:_SHOWN_NAME] if given else None


def bearer_matches(request: Request, token: str) -> bool:
    """Whether the request carries ``Authorization: Bearer <token>``."""
    scheme, _, presented = request.headers.get("authorization", "").partition(" ")
    return scheme.lower() == "bearer" and tokens_match(presented.strip(), token)


def _accepted_media_type(accept: str) -> str | None:
    """The response media type for an Accept header (``None``: nothing we can send)."""
    if not accept.strip():
        return JSON
    ranked = []
    for position, part in enumerate(accept.split(",")):
        media, *options = (item.strip() for item in part.split(";"))
        quality = 1.0
        for option in options:
            name, _, value = option.partition("=")
            if name.strip() == "q":
                try:
                    quality = float(value)
                except ValueError:
                    quality = 0.0
        if quality > 0:
            ranked.append((-quality, position, media.lower()))
    for _, _, media in sorted(ranked):
        if media == GRAPHQL_RESPONSE_JSON:
            return GRAPHQL_RESPONSE_JSON
        if media in (JSON, "application/*", "*/*"):
            return JSON
    return None


def _wants_graphiql(request: Request) -> bool:
    accept = request.headers.get("accept", "")
    return "text/html" in accept and "query" not in request.query_params


def _parse_json(raw: str | bytes, what: str) -> Any:
    try:
        return orjson.loads(raw)
    except orjson.JSONDecodeError as exc:
        raise _RequestError(400, f"{what} is not valid JSON: {exc}") from exc


def _params(payload: Any, *, get: bool = False) -> _Params:
    if not isinstance(payload, dict):
        raise _RequestError(400, "the request body must be a JSON object")
    query, variables, name = (
        payload.get("query"),
        payload.get("variables"),
        payload.get("operationName"),
    )
    if query is not None and not isinstance(query, str):
        raise _RequestError(400, "`query` must be a string")
    if get and isinstance(variables, str):  # GET parameters carry JSON as strings
        variables = _parse_json(variables, "`variables`") if variables else None
    if variables is not None and not isinstance(variables, dict):
        raise _RequestError(400, "`variables` must be an object")
    if name is not None and not isinstance(name, str):
        raise _RequestError(400, "`operationName` must be a string")
    extensions = payload.get("extensions")
    if get and isinstance(extensions, str):
        extensions = _parse_json(extensions, "`extensions`") if extensions else None
    if extensions is not None and not isinstance(extensions, dict):
        raise _RequestError(400, "`extensions` must be an object")
    return _Params(query, variables, name or None)


class GraphQLEndpoint:
    """Executes GraphQL requests against the store of the app (``app.state.store``)."""

    def __init__(self, schema: Schema, server: ServerSettings) -> None:
        self.schema = schema
        self.server = server

    async def handle(self, request: Request) -> Response:
        request_id = request.scope.get("state", {}).get("request_id") or uuid.uuid4().hex
        if request.method == "GET" and _wants_graphiql(request):
            return HTMLResponse(
                graphiql_html(endpoint=request.url.path, token_hint=self.server.token_hint)
            )
        media_type = _accepted_media_type(request.headers.get("accept", ""))
        try:
            if media_type is None:
                raise _RequestError(
                    406, f"cannot answer with any of: {request.headers.get('accept')}"
                )
            self._authenticate(request)
            try:
                params = await self._read(request)
            except ClientDisconnect:
                # Gone before its request was read: nothing to answer, nothing wrong here.
                log.info("client went away before its request was read (request %s)", request_id)
                return Response(status_code=CLIENT_CLOSED_REQUEST)
            request.state.operation_name = _named(params.query, params.operation_name)
            return await self._execute(request, params, media_type, request_id)
        except _RequestError as exc:
            return self._error(exc, media_type or JSON)

    def _authenticate(self, request: Request) -> None:
        expected = self.server.token
        if expected is None:
            return
        if not bearer_matches(request, expected):
            raise _RequestError(
                401,
                "missing or wrong bearer token: send `Authorization: Bearer <token>`",
                {"www-authenticate": 'Bearer realm="sessiongraph"'},
                code="UNAUTHENTICATED",
            )

    async def _body(self, request: Request) -> bytes:
        limit = self.server.max_body_bytes
        declared = request.headers.get("content-length", "")
        if declared.isdigit() and int(declared) > limit:
            raise _RequestError(
                413, f"the request body is over {limit:,} bytes", code="PAYLOAD_TOO_LARGE"
            )
        chunks, size = [], 0
        seconds = self.server.body_timeout_seconds
        try:
            # A body trickled in a byte at a time would hold a connection for ever.
            async with asyncio.timeout(seconds):
                async for chunk in request.stream():
                    size += len(chunk)
                    if size > limit:  # a lying or absent Content-Length: stop reading here
                        raise _RequestError(
                            413,
                            f"the request body is over {limit:,} bytes",
                            code="PAYLOAD_TOO_LARGE",
                        )
                    chunks.append(chunk)
        except TimeoutError as exc:
            raise _RequestError(
                408,
                f"the request body took more than {seconds:g} s to arrive",
                {"connection": "close"},
                code="REQUEST_TIMEOUT",
            ) from exc
        return b"".join(chunks)

    async def _read(self, request: Request) -> _Params:
        if request.method == "GET":
            return _params(dict(request.query_params), get=True)
        content_type = request.headers.get("content-type", "").split(";")[0].strip().lower()
        if content_type not in (JSON, "application/graphql"):
            raise _RequestError(
                415, "send the request as application/json (or application/graphql)"
            )
        body = await self._body(request)
        if content_type == JSON:
            return _params(_parse_json(body, "the request body"))
        return _Params(body.decode("utf-8", "replace"), None, None)

    async def _execute(
        self, request: Request, params: _Params, media_type: str, request_id: str
    ) -> Response:
        allowed = (
            {OperationType.QUERY}
            if request.method == "GET"
            else {OperationType.QUERY, OperationType.MUTATION}
        )
        store: Store = request.app.state.store
        context = Context(store=store, settings=self.server, request_id=request_id)
        timeout = self.server.timeout_seconds
        with store.request_scope(timeout) as scope:
            try:
                async with asyncio.timeout(timeout):
                    result = await self.schema.execute(
                        params.query,
                        variable_values=params.variables,
                        context_value=context,
                        operation_name=params.operation_name,
                        allowed_operation_types=allowed,
                    )
            except TimeoutError as exc:
                raise _RequestError(
                    400,
                    f"the request ran past the {timeout:g} s limit and was stopped",
                    code="QUERY_TIMEOUT",
                ) from exc
            except MissingQueryError as exc:
                raise _RequestError(400, "the request has no `query`") from exc
            except InvalidOperationTypeError as exc:
                if request.method == "GET":
                    raise _RequestError(
                        405, "only queries can be sent with GET; use POST", {"allow": "POST"}
                    ) from exc
                raise _RequestError(
                    400,
                    "subscriptions are served over a WebSocket (graphql-transport-ws) at this "
                    "same URL: use a WebSocket client, not POST",
                    code="SUBSCRIPTION_OVER_HTTP",
                ) from exc
            except CannotGetOperationTypeError as exc:
                raise _RequestError(400, exc.as_http_error_reason()) from exc
            finally:
                request.state.sql_statements = scope.statements
                metrics = getattr(request.app.state, "metrics", None)
                if metrics is not None:
                    metrics.statements.observe(scope.statements)
        metrics = getattr(request.app.state, "metrics", None)
        if metrics is not None:
            for error in result.errors or ():
                metrics.errors.labels((error.extensions or {}).get("code", "UNKNOWN")).inc()
        status = 200
        if _is_limit_error(result) or (
            media_type == GRAPHQL_RESPONSE_JSON and _is_request_error(result)
        ):
            status = 400
        return Response(_encode(result), status_code=status, media_type=media_type)

    def _error(self, exc: _RequestError, media_type: str) -> Response:
        body = {"errors": [{"message": exc.message, "extensions": {"code": exc.code}}]}
        return Response(
            orjson.dumps(body), status_code=exc.status, media_type=media_type, headers=exc.headers
        )


def _is_limit_error(result: ExecutionResult) -> bool:
    """Refusals of the server's limits are 4xx whatever the media type (a policy, not a
    GraphQL error the client could partly use)."""
    return any((error.extensions or {}).get("code") in LIMIT_CODES for error in result.errors or ())


def _is_request_error(result: ExecutionResult) -> bool:
    """Parse, validation and variable errors: nothing was executed (no data, no paths)."""
    if isinstance(result, PreExecutionError):
        return True
    return (
        result.data is None
        and bool(result.errors)
        and all(error.path is None for error in result.errors or [])
    )


def _encode(result: ExecutionResult) -> bytes:
    body: dict[str, Any] = {}
    if result.errors:
        body["errors"] = [_format(error) for error in result.errors]
    if not isinstance(result, PreExecutionError) or result.data is not None:
        body["data"] = result.data
    if result.extensions:
        body["extensions"] = result.extensions
    # A stored record deeper than orjson writes (or with an integer beyond 64 bits) is
    # still written, by the json module: what was imported can be served.
    return jsontext.dumps(body)


def _format(error: GraphQLError) -> dict[str, Any]:
    formatted: dict[str, Any] = dict(error.formatted)
    if not formatted.get("extensions"):
        formatted.pop("extensions", None)
    return formatted
