"""``sessiongraph serve``: the API, safe by default."""

from __future__ import annotations

import contextlib
import logging
import socket
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer

from graph.cli.base import (
    AskPassphraseOption,
    DbOption,
    KeyFileOption,
    PassphraseFileOption,
    app,
    checked,
    fail,
    key_material,
    resolve_db_path,
    run,
)
from graph.errors import ConfigError
from graph.security import (
    default_token_path,
    is_loopback,
    load_or_create_token,
    read_token_file,
    rotate_token,
    token_from_env,
)

if TYPE_CHECKING:
    from graph.settings import ServerSettings
    from graph.store.keyring import KeyMaterial

__all__: list[str] = []

_WILDCARDS = ("0.0.0.0", "::", "[::]", "")  # noqa: S104 - names, not a bind


def _token(token_file: Path | None, no_auth: bool, host: str) -> tuple[str | None, str, str]:
    """The token to require, where it came from (for the startup line) and where it is
    kept (for GraphiQL's login banner: a place, never the token)."""
    if no_auth:
        if not is_loopback(host):
            fail(f"--no-auth is only allowed on a loopback address, not {host}")
        return None, "none: authentication is off (--no-auth)", ""
    if token_file is not None:
        return read_token_file(token_file.expanduser()), f"from {token_file}", f"in {token_file}"
    from_env = token_from_env()
    if from_env is not None:
        return from_env, "from $SESSIONGRAPH_TOKEN", "in $SESSIONGRAPH_TOKEN"
    path = default_token_path()
    token, created = load_or_create_token(path)
    if created:
        return token, f"new, saved to {path} (mode 0600)", f"in {path}"
    return token, f"from {path}", f"in {path}"


def _watched(watch: bool, paths: list[Path] | None) -> tuple[Path, ...]:
    if paths and not watch:
        fail("PATHs are what --watch watches: add --watch")
    if not watch:
        return ()
    from graph.cli.importing import default_targets
    from graph.importers.history import is_history_file

    targets = tuple(p.expanduser() for p in paths) if paths else tuple(default_targets())
    missing = [str(p) for p in targets if not p.exists()]
    if missing:
        fail(f"nothing to watch at {', '.join(missing)}")
    # The prompt history is no transcript: the watcher would read it as one session.
    # `sessiongraph import` reads it (as `import --watch` does, once).
    transcripts = tuple(p for p in targets if not is_history_file(p))
    if not transcripts:
        fail(
            "the prompt history is read by `sessiongraph import`, not watched: give --watch "
            "the transcripts' folders"
        )
    return transcripts


def link(url: str, token: str | None) -> str:
    """The URL to open in a browser: GraphiQL, with the token in the fragment."""
    return f"{url}#token={token}" if token else url


def _port_is_free(host: str, port: int) -> None:
    """Refuse, in one line, a port another program already listens on."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    with socket.socket(family, socket.SOCK_STREAM) as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind((host.strip("[]"), port))
        except OSError as exc:
            raise ConfigError(
                f"cannot listen on {host}:{port} ({exc.strerror}): another program has it; "
                "stop it or pick another --port"
            ) from None


def _hosts(host: str, extra: list[str]) -> tuple[str, ...]:
    from graph.settings import LOOPBACK_HOSTS

    hosts = list(LOOPBACK_HOSTS)
    if host not in _WILDCARDS and host not in hosts:
        hosts.append(host)
    hosts += [name for name in extra if name not in hosts]
    return tuple(hosts)


@app.command(rich_help_panel="Serving")
def serve(
    db: DbOption = None,
    host: Annotated[str, typer.Option(help="Address to listen on.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="Port to listen on.", min=0, max=65535)] = 8000,
    token_file: Annotated[
        Path | None,
        typer.Option(
            help="File holding the bearer token, mode 0600 (default: $SESSIONGRAPH_TOKEN, "
            "else one made on first serve in the config dir)."
        ),
    ] = None,
    no_auth: Annotated[
        bool, typer.Option("--no-auth", help="Serve without a token (loopback addresses only).")
    ] = False,
    allowed_host: Annotated[
        list[str] | None,
        typer.Option(help="Another Host header to accept (repeatable); loopback names always."),
    ] = None,
    cors_origin: Annotated[
        list[str] | None,
        typer.Option(help="An origin allowed to call the API from a browser (repeatable)."),
    ] = None,
    introspection: Annotated[
        bool, typer.Option(help="Serve the schema to introspection (and field suggestions).")
    ] = True,
    max_page_size: Annotated[
        int, typer.Option(help="Largest `first`/`last` a client may ask for.", min=1)
    ] = 500,
    timeout: Annotated[
        float, typer.Option(help="Longest a request may run, in seconds.", min=0.1)
    ] = 10.0,
    backup_every: Annotated[
        str | None,
        typer.Option(
            "--backup-every",
            metavar="INTERVAL",
            help="Back the database up on this schedule (30m, 12h, 1d) into backups/.",
            show_default=False,
        ),
    ] = None,
    keep_backups: Annotated[
        int, typer.Option("--keep-backups", min=1, help="With --backup-every: how many to keep.")
    ] = 7,
    metrics_port: Annotated[
        int | None,
        typer.Option(
            "--metrics-port",
            min=1,
            max=65535,
            help="Also serve /metrics without a token on this port, on --metrics-host.",
            show_default=False,
        ),
    ] = None,
    metrics_host: Annotated[
        str,
        typer.Option("--metrics-host", help="A loopback address for --metrics-port."),
    ] = "127.0.0.1",
    watch: Annotated[
        bool,
        typer.Option(
            "--watch",
            help="Import transcripts as they are written, in the server (the PATHs, default "
            "~/.claude/projects): a running session shows up live.",
        ),
    ] = False,
    paths: Annotated[
        list[Path] | None,
        typer.Argument(help="With --watch: what to watch.", show_default=False),
    ] = None,
    key_file: KeyFileOption = None,
    passphrase_file: PassphraseFileOption = None,
    ask_passphrase: AskPassphraseOption = False,
) -> None:
    """Serve the GraphQL API on /graphql (GraphiQL in a browser), /healthz and /readyz.

    Requests need `Authorization: Bearer <token>`. Only loopback Host names (plus
    --allowed-host) and same-origin or --cors-origin browsers are answered. Pending
    migrations are applied first (a non-empty database is copied aside before).
    """
    import uvicorn

    from graph.app import create_app
    from graph.settings import ServerSettings, parse_interval
    from graph.store import snapshots

    if metrics_port is not None and not is_loopback(metrics_host):
        fail(
            f"--metrics-host must be a loopback address (its /metrics has no token), "
            f"not {metrics_host}"
        )
    if host in _WILDCARDS and not allowed_host:
        fail(
            f"binding {host or 'every address'} needs --allowed-host NAME: the Host name "
            "clients will use (anything else is refused, against DNS rebinding)"
        )
    token, source, token_hint = checked(lambda: _token(token_file, no_auth, host))
    path = resolve_db_path(db)
    key = key_material(key_file, passphrase_file, ask_passphrase, db=path)
    # Open once here so that a bad database, a wrong key or a failed migration is one
    # clear line before the server starts, not a traceback from uvicorn's lifespan.
    # Held from the first open to the last request: `restore`, `encrypt` and `rotate-key`
    # refuse while a server has the database open, and none starts while they run.
    lease = contextlib.ExitStack()
    checked(lambda: lease.enter_context(snapshots.hold(path)))
    with lease:
        run(_migrate_up(path, key))
        server = ServerSettings(
            token=token,
            token_hint=token_hint,
            allowed_hosts=_hosts(host, allowed_host or []),
            cors_origins=tuple(cors_origin or ()),
            introspection=introspection,
            timeout_seconds=timeout,
            max_page_size=max_page_size,
            backup_every_seconds=checked(lambda: parse_interval(backup_every))
            if backup_every
            else None,
            keep_backups=keep_backups,
            watch=_watched(watch, paths),
        )
        logging.basicConfig(level=logging.INFO, format="%(levelname)s %(name)s: %(message)s")
        shown = f"[{host}]" if ":" in host and not host.startswith("[") else host
        url = f"http://{shown}:{port}/graphql"
        typer.echo(f"sessiongraph: serving {path} on {url}", err=True)
        typer.echo(f"sessiongraph: token {source}", err=True)
        checked(lambda: _port_is_free(host, port))
        if metrics_port is not None:
            checked(lambda: _port_is_free(metrics_host, metrics_port))
            typer.echo(
                f"sessiongraph: metrics on http://{metrics_host}:{metrics_port}/metrics (no token)",
                err=True,
            )
        # Last, so it is the line to click: the fragment never reaches the server or its logs,
        # and the token file is the user's own (0600), so it is shown at every start.
        typer.echo(f"sessiongraph: open {link(url, token)}", err=True)
        api = create_app(path, server=server, key=key)
        side = None
        if metrics_port is not None:
            from graph.app import metrics_app

            side = uvicorn.Config(
                metrics_app(api, metrics_host),
                host=metrics_host,
                port=metrics_port,
                log_level="warning",
                access_log=False,
                server_header=False,
                lifespan="off",
            )
        _run(uvicorn, api, host, port, server, side)


def _run(
    uvicorn: Any, app: Any, host: str, port: int, server: ServerSettings, side: Any = None
) -> None:
    """Serve ``app``, and the ``side`` listener (``--metrics-port``) beside it if given."""
    from graph.serving import head_deadline_protocol
    from graph.wslog import QuietWebSocketLines

    config = uvicorn.Config(
        app,
        host=host,
        port=port,
        log_level="info",
        access_log=False,  # graph.access logs every request, with more than uvicorn knows
        server_header=False,
        http=head_deadline_protocol(server.head_timeout_seconds),
        timeout_keep_alive=5,
        # A WebSocket frame is held to the limit of an HTTP body (uvicorn's is 16 MiB).
        ws_max_size=server.max_body_bytes,
    )
    # After uvicorn.Config, which sets up uvicorn's loggers: WebSockets are in graph.access.
    logging.getLogger("uvicorn.error").addFilter(QuietWebSocketLines())
    if side is None:
        uvicorn.Server(config).run()
    else:
        import asyncio

        asyncio.run(_serve_both(uvicorn.Server(config), uvicorn.Server(side)))


async def _serve_both(main: Any, side: Any) -> None:
    """The API and the metrics listener in one loop; either stopping stops the other."""
    import asyncio

    task = asyncio.create_task(side.serve())
    # The side server installs its signal handlers first; the main one's, installed next,
    # are those a Ctrl-C reaches, and stopping it stops the side one.
    await asyncio.sleep(0)
    task.add_done_callback(lambda _: setattr(main, "should_exit", True))
    try:
        await main.serve()
    finally:
        side.should_exit = True
        with contextlib.suppress(SystemExit):  # uvicorn exits when it cannot listen
            await task


async def _migrate_up(path: Path, key: KeyMaterial | None) -> None:
    from graph.importers.titles import backfill_titles
    from graph.store import Store

    store = await Store.open(path, migrate=True, key=key)
    try:
        await backfill_titles(store)  # sessions stored before titles were derived
    finally:
        await store.close()


@app.command(rich_help_panel="Serving")
def token(
    host: Annotated[str, typer.Option(help="The address `serve` listens on.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="The port `serve` listens on.")] = 8000,
    rotate: Annotated[
        bool, typer.Option("--rotate", help="Make a new token (restart `serve` to use it).")
    ] = False,
) -> None:
    """Print the GraphiQL link with the API token (from the token file, mode 0600)."""
    path = default_token_path()
    if rotate:
        value = checked(lambda: rotate_token(path))
        typer.echo(f"sessiongraph: a new token is in {path}; restart `serve` to use it", err=True)
    else:
        value, created = checked(lambda: load_or_create_token(path))
        if created:
            typer.echo(f"sessiongraph: a new token was saved to {path}", err=True)
    shown = f"[{host}]" if ":" in host and not host.startswith("[") else host
    typer.echo(link(f"http://{shown}:{port}/graphql", value))
