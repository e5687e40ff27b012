"""What every resolver gets: the request's loaders and the server's settings."""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Any, TypeAlias

import orjson
import strawberry

from graph.feed import ChangeFeed
from graph.loaders import Loaders
from graph.pricing import PriceBook
from graph.store import Store

__all__ = ["ApiSettings", "Context", "Info"]


@dataclass(frozen=True, slots=True)
class ApiSettings:
    """Server-wide limits and facts the schema reports."""

    max_page_size: int = 500
    default_page_size: int = 50
    started_at: float = field(default_factory=time.monotonic)
    # Read once, when the server starts: a bad price file fails there, not per request.
    prices: PriceBook = field(default_factory=PriceBook.load)


@dataclass(slots=True)
class Context:
    """One request's context: made fresh per request, so loader caches are per request.

    Encrypted fields are opened here, when a resolver asks for them (a field nobody
    selected is never decrypted), and each value at most once per request.
    """

    store: Store
    settings: ApiSettings
    request_id: str
    feed: ChangeFeed | None = None
    loaders: Loaders = field(init=False)
    opened: dict[tuple[str, str, str], Any] = field(init=False, default_factory=dict)

    def __post_init__(self) -> None:
        self.loaders = Loaders(self.store, thresholds=self.settings.prices.thresholds)

    def open_json(self, table: str, column: str, row: str, stored: bytes | str) -> Any:
        """A stored JSON value, decrypted if it is sealed.

        Raises:
            DecryptionFailed: the value does not authenticate (code DECRYPTION_FAILED).
        """
        key = (table, column, row)
        if key not in self.opened:
            self.opened[key] = orjson.loads(self.store.codec.open(table, column, row, stored))
        return self.opened[key]

    def open_text(
        self, table: str, column: str, row: str, stored: bytes | str | None
    ) -> str | None:
        """A stored text value (title, summary), decrypted if it is sealed."""
        if stored is None:
            return None
        if not self.store.codec.encrypted:
            return stored.decode() if isinstance(stored, bytes) else stored
        key = (table, column, row)
        if key not in self.opened:
            self.opened[key] = self.store.codec.open(table, column, row, stored).decode()
        value: str = self.opened[key]
        return value


Info: TypeAlias = strawberry.Info[Context, None]
