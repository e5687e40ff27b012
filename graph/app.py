"""The Starlette application: routes, middleware, and the store's lifetime."""

from __future__ import annotations

import gc
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.middleware.cors import CORSMiddleware
from starlette.middleware.gzip import GZipMiddleware
from starlette.middleware.trustedhost import TrustedHostMiddleware
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Mount, Route, WebSocketRoute
from starlette.staticfiles import StaticFiles

from graph.feed import ChangeFeed
from graph.graphiql import STATIC_DIR
from graph.http import GraphQLEndpoint
from graph.middleware import AccessLog, OriginCheck
from graph.schema import ApiSettings, Limits, build_schema
from graph.settings import ServerSettings
from graph.store import Store, load_migrations
from graph.store.keyring import KeyMaterial
from graph.ws import SubscriptionEndpoint

__all__ = ["create_app"]


async def internal_error(request: Request, exc: Exception) -> JSONResponse:
    """What a client sees of a bug outside GraphQL's own error handling: JSON, a code and
    the request id, never a trace (the trace goes to the log)."""
    request_id = request.scope.get("state", {}).get("request_id")
    body = {"message": "Internal error", "extensions": {
        "code": "INTERNAL_SERVER_ERROR", "requestId": request_id}}  # fmt: skip
    return JSONResponse({"errors": [body]}, status_code=500)


async def healthz(request: Request) -> JSONResponse:
    """Liveness: 200 with the schema version when the database answers, else 503."""
    try:
        store: Store = request.app.state.store
        async with store.read() as reader:
            version = await reader.schema_version()
    except Exception:
        return JSONResponse({"status": "unavailable"}, status_code=503)
    return JSONResponse({"status": "ok", "schemaVersion": version})


async def readyz(request: Request) -> JSONResponse:
    """Readiness: the database answers and its schema is the one this code expects."""
    checks: dict[str, str] = {}
    try:
        store: Store = request.app.state.store
        async with store.read() as reader:
            version = await reader.schema_version()
        checks["database"] = "ok"
        latest = load_migrations()[-1].version
        checks["migrations"] = "ok" if version == latest else f"at {version}, expected {latest}"
    except Exception as exc:
        checks["database"] = type(exc).__name__
    ready = all(value == "ok" for value in checks.values())
    return JSONResponse(
        {"status": "ready" if ready else "not ready", "checks": checks},
        status_code=200 if ready else 503,
    )


def create_app(
    db_path: Path | None = None,
    *,
    store: Store | None = None,
    settings: ApiSettings | None = None,
    server: ServerSettings | None = None,
    key: KeyMaterial | None = None,
) -> Starlette:
    """The app over ``store``, or over a store it opens on ``db_path`` at startup.

    A store passed in is the caller's to close; one opened here (applying pending
    migrations, with a backup of a non-empty database first) is closed at shutdown.
    ``server`` holds what the HTTP layer enforces (token, hosts, origins, limits);
    ``sessiongraph serve`` decides its policy, the defaults here are for tests and
    embedding (no token).
    """
    if (db_path is None) == (store is None):
        raise ValueError("pass either db_path or store")
    settings = settings or ApiSettings()
    server = server or ServerSettings()

    @asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        if db_path is not None:
            app.state.store = await Store.open(db_path, key=key)
        # One change feed per process, whatever the number of subscriptions.
        app.state.feed = ChangeFeed(app.state.store.path)
        await app.state.feed.start()
        # What start-up built (modules, the schema, the store) lives as long as the
        # process: frozen, the collector never walks it again on a request's behalf.
        gc.collect()
        gc.freeze()
        try:
            yield
        finally:
            await app.state.feed.close()  # ends every subscription cleanly
            if db_path is not None:
                await app.state.store.close()

    schema = build_schema(
        limits=Limits(
            max_depth=server.max_depth,
            max_aliases=server.max_aliases,
            max_tokens=server.max_tokens,
            max_cost=server.max_cost,
            default_page_size=settings.default_page_size,
        ),
        introspection=server.introspection,
    )
    middleware = [
        Middleware(AccessLog),
        # Host allowlist first: a DNS-rebound page talks to us under its own name.
        Middleware(TrustedHostMiddleware, allowed_hosts=list(server.allowed_hosts)),
        Middleware(OriginCheck, allowed_origins=server.cors_origins),
    ]
    if server.cors_origins:
        middleware.append(
            Middleware(
                CORSMiddleware,
                allow_origins=list(server.cors_origins),
                allow_methods=["GET", "POST"],
                allow_headers=["authorization", "content-type", "x-request-id"],
                expose_headers=["x-request-id"],
                max_age=600,
            )
        )
    # Level 9 (the default) costs more CPU than it saves bytes on JSON.
    middleware.append(Middleware(GZipMiddleware, minimum_size=1024, compresslevel=5))
    app = Starlette(
        routes=[
            Route(
                "/graphql",
                GraphQLEndpoint(schema, settings, server).handle,
                methods=["GET", "POST"],
            ),
            WebSocketRoute(
                "/graphql",
                SubscriptionEndpoint(schema, settings, server.token, server.cors_origins),
            ),
            Route("/healthz", healthz, methods=["GET"]),
            Route("/readyz", readyz, methods=["GET"]),
            Mount("/static", StaticFiles(directory=STATIC_DIR), name="static"),
        ],
        middleware=middleware,
        lifespan=lifespan,
        exception_handlers={Exception: internal_error},
    )
    if store is not None:
        app.state.store = store
    return app
