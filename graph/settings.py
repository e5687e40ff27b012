"""What the HTTP server enforces: authentication, browser safety and abuse limits."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Final

from graph.pricing import PriceBook

__all__ = ["LOOPBACK_HOSTS", "ServerSettings", "parse_interval"]

LOOPBACK_HOSTS: Final = ("127.0.0.1", "localhost", "::1", "[::1]")


@dataclass(frozen=True, slots=True)
class ServerSettings:
    """The settings of one server: what the HTTP layer enforces and what the schema allows.

    One object for all of them (``sessiongraph serve`` fills it from its flags); the app,
    the schema's limits and the resolvers read their parts of it.

    Attributes:
        token: The bearer token clients must send; ``None`` turns authentication off
            (``sessiongraph serve`` allows that only on a loopback address).
        token_hint: Where the token is kept, for GraphiQL's login banner (e.g. ``in
            ~/.config/sessiongraph/token``); a place, never the token.
        allowed_hosts: ``Host`` header values accepted (DNS-rebinding defense).
        cors_origins: Origins allowed to call the API from a browser.
        introspection: Whether ``__schema``/``__type`` and field suggestions are served.
        max_body_bytes: Largest request body.
        timeout_seconds: Longest a request may run (SQL included).
        body_timeout_seconds: Longest a request body may take to arrive.
        head_timeout_seconds: Longest a request's headers may take to arrive (the
            serving protocol closes a connection that trickles them).
        max_depth, max_aliases, max_tokens: Document limits (strawberry extensions).
        max_cost: Largest number of nodes a query may ask for: page sizes multiplied
            through nested connections, summed.
        max_page_size, default_page_size: Page sizes of a connection (``first``/``last``
            above the maximum are refused; none given takes the default).
        backup_every_seconds: Back the database up this often (``None``: never), keeping
            the ``keep_backups`` newest.
        watch: Transcript folders or files the server imports as they are written
            (``serve --watch``), through its own store: one writer.
        prices: Model prices for costs, loaded when the settings are made (a bad
            price file fails at the start, not per request); settings made again share
            the book while the price file is unchanged (see :meth:`PriceBook.load`).
    """

    token: str | None = None
    token_hint: str = ""
    allowed_hosts: tuple[str, ...] = LOOPBACK_HOSTS
    cors_origins: tuple[str, ...] = ()
    introspection: bool = True
    max_body_bytes: int = 1 << 20
    timeout_seconds: float = 10.0
    body_timeout_seconds: float = 10.0
    head_timeout_seconds: float = 10.0
    max_depth: int = 12
    max_aliases: int = 30
    max_tokens: int = 2_000
    max_cost: int = 50_000
    max_page_size: int = 500
    default_page_size: int = 50
    backup_every_seconds: float | None = None
    keep_backups: int = 7
    watch: tuple[Path, ...] = ()
    prices: PriceBook = field(default_factory=PriceBook.load)


_UNITS: Final = {"s": 1, "m": 60, "h": 3600, "d": 86_400}


def parse_interval(text: str) -> float:
    """Seconds in ``30s``, ``15m``, ``24h`` or ``7d`` (a bare number is seconds).

    Raises:
        ConfigError: anything else, or less than a minute.
    """
    from graph.errors import ConfigError

    value = text.strip().lower()
    unit = value[-1:] if value[-1:] in _UNITS else "s"
    number = value[:-1] if value[-1:] in _UNITS else value
    try:
        seconds = float(number) * _UNITS[unit]
    except ValueError:
        raise ConfigError(f"not an interval: {text!r} (say 30m, 12h or 1d)") from None
    if seconds < 60:
        raise ConfigError(f"an interval of at least a minute, please (not {text!r})")
    return seconds
