"""The Starlette application: routes, middleware, and the store's lifetime."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.middleware.gzip import GZipMiddleware
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Mount, Route
from starlette.staticfiles import StaticFiles

from graph.graphiql import STATIC_DIR
from graph.http import GraphQLEndpoint
from graph.schema import ApiSettings, build_schema
from graph.store import Store

__all__ = ["create_app"]


async def healthz(request: Request) -> JSONResponse:
    """Liveness: 200 with the schema version when the database answers, else 503."""
    try:
        store: Store = request.app.state.store
        async with store.read() as reader:
            version = await reader.schema_version()
    except Exception:
        return JSONResponse({"status": "unavailable"}, status_code=503)
    return JSONResponse({"status": "ok", "schemaVersion": version})


def create_app(
    db_path: Path | None = None,
    *,
    store: Store | None = None,
    settings: ApiSettings | None = None,
) -> Starlette:
    """The app over ``store``, or over a store it opens on ``db_path`` at startup.

    A store passed in is the caller's to close; one opened here (applying pending
    migrations, with a backup of a non-empty database first) is closed at shutdown.
    """
    if (db_path is None) == (store is None):
        raise ValueError("pass either db_path or store")

    @asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        if db_path is None:
            yield
            return
        app.state.store = await Store.open(db_path)
        try:
            yield
        finally:
            await app.state.store.close()

    app = Starlette(
        routes=[
            Route(
                "/graphql",
                GraphQLEndpoint(build_schema(), settings or ApiSettings()).handle,
                methods=["GET", "POST"],
            ),
            Route("/healthz", healthz, methods=["GET"]),
            Mount("/static", StaticFiles(directory=STATIC_DIR), name="static"),
        ],
        # Level 9 (the default) costs more CPU than it saves bytes on JSON.
        middleware=[Middleware(GZipMiddleware, minimum_size=1024, compresslevel=5)],
        lifespan=lifespan,
    )
    if store is not None:
        app.state.store = store
    return app
