"""The Starlette application: routes, middleware, and the store's lifetime."""

from __future__ import annotations

import asyncio
import contextlib
import gc
import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

from starlette.applications import Starlette
from starlette.datastructures import State
from starlette.middleware import Middleware
from starlette.middleware.cors import CORSMiddleware
from starlette.middleware.gzip import GZipMiddleware
from starlette.middleware.trustedhost import TrustedHostMiddleware
from starlette.requests import Request
from starlette.responses import JSONResponse, RedirectResponse, Response
from starlette.routing import Mount, Route, WebSocketRoute
from starlette.staticfiles import StaticFiles

from graph.feed import ChangeFeed
from graph.graphiql import STATIC_DIR
from graph.http import GraphQLEndpoint, bearer_matches
from graph.importers.summary import ImportSummary
from graph.metrics import CONTENT_TYPE_LATEST, Metrics
from graph.middleware import AccessLog, OriginCheck
from graph.schema import build_schema
from graph.settings import ServerSettings
from graph.store import Store, load_migrations, snapshots
from graph.store.keyring import KeyMaterial
from graph.ws import SubscriptionEndpoint
from graph.wslog import WebSocketAccessLog

__all__ = ["create_app", "metrics_app"]

log = logging.getLogger(__name__)

# The young generation's collection threshold while the app runs (see the lifespan).
YOUNG_COLLECTION_AT = 10_000


async def internal_error(request: Request, exc: Exception) -> JSONResponse:
    """What a client sees of a bug outside GraphQL's own error handling: JSON, a code and
    the request id, never a trace (the trace goes to the log)."""
    request_id = request.scope.get("state", {}).get("request_id")
    body = {
        "message": "Internal error",
        "extensions": {"code": "INTERNAL_SERVER_ERROR", "requestId": request_id},
    }
    return JSONResponse({"errors": [body]}, status_code=500)


async def metrics_endpoint(request: Request) -> Response:
    """Prometheus's text format; the bearer token is required as on /graphql."""
    server: ServerSettings = request.app.state.server
    if server.token is not None and not bearer_matches(request, server.token):
        return JSONResponse(
            {
                "errors": [
                    {
                        "message": "missing or wrong bearer token",
                        "extensions": {"code": "UNAUTHENTICATED"},
                    }
                ]
            },
            status_code=401,
            headers={"www-authenticate": 'Bearer realm="sessiongraph"'},
        )
    return await scrape(request.app.state)


async def scrape(state: State) -> Response:
    """The metrics of the app whose ``state`` this is, read now."""
    store: Store = state.store
    async with store.read() as reader:
        stats = await reader.stats()
        imports = await reader.import_figures()
    counts = {
        "sessions": stats.sessions,
        "conversations": stats.conversations,
        "messages": stats.messages,
        "events": stats.events,
    }
    feed: ChangeFeed | None = getattr(state, "feed", None)
    subscriptions = len(feed.subscribers()) if feed is not None else 0
    metrics: Metrics = state.metrics
    body = metrics.scrape(
        store.path, counts, subscriptions, imports, feed.last if feed is not None else None
    )
    return Response(body, media_type=CONTENT_TYPE_LATEST)


def metrics_app(api: Starlette, host: str | None = None) -> Starlette:
    """``/metrics`` of ``api`` alone, without a token: for ``serve --metrics-port``, which
    listens on a loopback address only (``host``). It answers the ``Host`` names the API
    answers, and ``host``: loopback alone does not stop a DNS-rebound page from reading it.
    """
    server: ServerSettings = api.state.server
    hosts = list(server.allowed_hosts)
    if host is not None and host not in hosts:
        hosts.append(host)

    async def endpoint(request: Request) -> Response:
        return await scrape(api.state)

    return Starlette(
        routes=[Route("/metrics", endpoint, methods=["GET"])],
        middleware=[Middleware(TrustedHostMiddleware, allowed_hosts=hosts)],
    )


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


async def _watch(store: Store, paths: tuple[Path, ...], stop: asyncio.Event) -> None:
    """``serve --watch``: import what is appended to the transcripts, in this process (the
    store's one writer), so a running session shows up live."""
    from graph.importers.watch import watch_paths

    def report(summary: ImportSummary) -> None:
        log.info("%s", summary.change_line())

    try:
        # Secrets redacted or kept as secrets.toml's redact_on_import says (watch_paths asks).
        await watch_paths(store, list(paths), on_import=report, stop=stop)
    except Exception:  # the server goes on serving what is stored: say why watching stopped
        log.exception("watching %s stopped", ", ".join(map(str, paths)))


async def _backups(path: Path, server: ServerSettings) -> None:
    """``serve --backup-every``: a verified backup on schedule, the newest few kept."""
    assert server.backup_every_seconds is not None
    while True:
        await asyncio.sleep(server.backup_every_seconds)
        target = snapshots.default_backup_dir(path) / snapshots.backup_name(path)
        try:
            done = await asyncio.to_thread(snapshots.backup, path, target)
            await asyncio.to_thread(snapshots.prune, path, server.keep_backups)
        except Exception:  # a failed backup must not stop the server: say so, try later
            log.exception("the scheduled backup of %s failed", path)
            continue
        log.info("backed up %s to %s (%d bytes)", path, done.path, done.size)


def create_app(
    db_path: Path | None = None,
    *,
    store: Store | None = None,
    server: ServerSettings | None = None,
    key: KeyMaterial | None = None,
) -> Starlette:
    """The app over ``store``, or over a store it opens on ``db_path`` at startup.

    A store passed in is the caller's to close; one opened here (applying pending
    migrations, with a backup of a non-empty database first) is closed at shutdown.
    ``server`` holds the settings (token, hosts, origins, limits, page sizes);
    ``sessiongraph serve`` decides its policy, the defaults here are for tests and
    embedding (no token).
    """
    if (db_path is None) == (store is None):
        raise ValueError("pass either db_path or store")
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
        # A request makes thousands of containers (rows, objects, answers) and, by
        # design, no cycles: each is freed by reference counting when the request ends.
        # With the default threshold (700 more containers than freed) a nested page ran
        # three young collections, walking its live objects each time, for nothing.
        thresholds = gc.get_threshold()
        gc.set_threshold(max(thresholds[0], YOUNG_COLLECTION_AT), *thresholds[1:])
        backups = (
            asyncio.create_task(_backups(app.state.store.path, server), name="sessiongraph-backups")
            if server.backup_every_seconds
            else None
        )
        stop_watching = asyncio.Event()
        watcher = (
            asyncio.create_task(
                _watch(app.state.store, server.watch, stop_watching), name="sessiongraph-watch"
            )
            if server.watch
            else None
        )
        try:
            yield
        finally:
            if watcher is not None:
                stop_watching.set()
                with contextlib.suppress(asyncio.CancelledError):
                    await watcher
            if backups is not None:
                backups.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await backups
            await app.state.feed.close()  # ends every subscription cleanly
            if db_path is not None:
                await app.state.store.close()
            # An app that stops in a process that goes on (tests, embedding) hands
            # its heap back to the collector, as it found it.
            gc.set_threshold(*thresholds)
            gc.unfreeze()

    schema = build_schema(server)
    metrics = Metrics()
    middleware = [
        Middleware(AccessLog, metrics=metrics),
        Middleware(WebSocketAccessLog),
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
                GraphQLEndpoint(schema, server).handle,
                methods=["GET", "POST"],
            ),
            WebSocketRoute(
                "/graphql",
                SubscriptionEndpoint(schema, server),
            ),
            # Where uvicorn's banner points: the playground is one step further.
            Route("/", lambda request: RedirectResponse("/graphql"), methods=["GET"]),
            Route("/healthz", healthz, methods=["GET"]),
            Route("/readyz", readyz, methods=["GET"]),
            Route("/metrics", metrics_endpoint, methods=["GET"]),
            Mount("/static", StaticFiles(directory=STATIC_DIR), name="static"),
        ],
        middleware=middleware,
        lifespan=lifespan,
        exception_handlers={Exception: internal_error},
    )
    if store is not None:
        app.state.store = store
    app.state.metrics = metrics
    app.state.server = server
    return app
