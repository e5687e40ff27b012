"""What API usage costs: USD per million tokens, per model and date. Pure (no database).

Prices come from the ``genai-prices`` package's bundled data (Anthropic, OpenAI, Google
and more, with cache prices, long-context tiers and price history), read offline: its
updater, which would fetch newer data, is never started. A user file may override or
add models (see :meth:`PriceBook.load`). A model neither knows has no price: its cost is
``None``, never 0.

Tiers are per request: a long-context tier applies to every token of a request whose
input (uncached + cache reads + cache writes) exceeds the tier's start. Costs of many
messages are therefore computed per *bucket* of requests on the same side of every tier
start (:attr:`PriceBook.thresholds`); see :func:`bucket_of`.
"""

from __future__ import annotations

import fnmatch
import math
import os
import tomllib
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, time
from decimal import Decimal
from functools import cache, lru_cache
from pathlib import Path
from typing import Any, Final

import platformdirs

from graph.config import APP_NAME
from graph.errors import ConfigError
from graph.inputs import TokenTotals

__all__ = [
    "PRICES_ENV",
    "ModelRates",
    "PriceBook",
    "Rate",
    "bucket_of",
    "default_prices_path",
]

PRICES_ENV: Final = "SESSIONGRAPH_PRICES"
_MTOK: Final = Decimal(1_000_000)
_FILE_KEYS: Final = ("input", "output", "cache_read", "cache_write", "cache_write_1h")


@dataclass(frozen=True, slots=True)
class Rate:
    """USD per million tokens: ``base``, or a tier's price once a request's input
    exceeds the tier's start (``tiers``: (start, price), ascending)."""

    base: Decimal
    tiers: tuple[tuple[int, Decimal], ...] = ()

    def at(self, request_input: int) -> Decimal:
        """The price for a request with ``request_input`` input tokens in all."""
        for start, price in reversed(self.tiers):
            if request_input > start:
                return price
        return self.base


@dataclass(frozen=True, slots=True)
class ModelRates:
    """A model's prices on one date, and where they came from."""

    input: Rate
    output: Rate
    cache_read: Rate
    cache_write: Rate  # 5-minute TTL, the default
    cache_write_1h: Rate
    origin: str

    def cost(self, tokens: TokenTotals, request_input: int) -> Decimal:
        """USD for ``tokens`` of requests that each had about ``request_input`` input."""
        five_minutes = tokens.cache_creation - tokens.cache_creation_1h
        total = (
            tokens.input * self.input.at(request_input)
            + tokens.output * self.output.at(request_input)
            + tokens.cache_read * self.cache_read.at(request_input)
            + five_minutes * self.cache_write.at(request_input)
            + tokens.cache_creation_1h * self.cache_write_1h.at(request_input)
        )
        return total / _MTOK


def request_input(tokens: TokenTotals) -> int:
    """What a request's tier is decided by: all of its input, cached or not."""
    return tokens.input + tokens.cache_read + tokens.cache_creation


def bucket_of(request_input_tokens: int, thresholds: Sequence[int]) -> int:
    """The largest threshold a request's input exceeds, else 0 (what the store groups by).

    Every request of one bucket is on the same side of every tier start, so
    ``rates.cost(sums, bucket + 1)`` prices a bucket's sums exactly.
    """
    return max((t for t in thresholds if request_input_tokens > t), default=0)


class PriceBook:
    """Model prices: a user's own first, then genai-prices' bundled data.

    Args:
        overrides: (pattern, rates) pairs; a pattern is a model name or an fnmatch glob
            (``claude-sonnet-4-5*``), matched case-insensitively, first match wins.
        bundled: Whether to fall back on genai-prices.
    """

    def __init__(
        self, overrides: Sequence[tuple[str, ModelRates]] = (), *, bundled: bool = True
    ) -> None:
        self._overrides = [(pattern.lower(), rates) for pattern, rates in overrides]
        self._bundled = bundled
        self._found: dict[tuple[str, date], ModelRates | None] = {}

    @classmethod
    def load(cls, path: Path | None = None) -> PriceBook:
        """The bundled prices with the user's file over them.

        ``path`` defaults to ``$SESSIONGRAPH_PRICES``, else ``prices.toml`` in the user
        config dir when it exists. The file holds one table per model, in USD per million
        tokens; ``cache_read``, ``cache_write`` (5-minute) and ``cache_write_1h`` default
        to the input price, the last to ``cache_write``::

            [models."claude-sonnet-4-5*"]
            input = 3
            output = 15
            cache_read = 0.3
            cache_write = 3.75
            cache_write_1h = 6

        A file is read once per modification time and size (every settings object of a
        server shares its book; an edited file is read again); without one, the process
        has one book of the bundled prices. A bad file is never remembered: each load
        of it fails.

        Raises:
            ConfigError: the file named is missing, not TOML, or holds a bad price.
        """
        explicit = path is not None or bool(os.environ.get(PRICES_ENV))
        path = path or default_prices_path()
        try:
            stat = path.stat()
        except OSError:
            if explicit:
                raise ConfigError(f"price file {path} does not exist") from None
            return _bundled_book()
        return _file_book(path, stat.st_mtime_ns, stat.st_size)

    @property
    def thresholds(self) -> tuple[int, ...]:
        """Every tier start of every price, ascending (the store buckets requests by them)."""
        return _bundled_thresholds() if self._bundled else ()

    def rates(self, model: str | None, day: date) -> ModelRates | None:
        """The prices of ``model`` on ``day`` (UTC), or ``None`` when it has none."""
        if not model:
            return None
        key = (model, day)
        if key not in self._found:
            self._found[key] = self._lookup(model, day)
        return self._found[key]

    def cost(
        self, model: str | None, day: date, tokens: TokenTotals, request_input: int
    ) -> Decimal | None:
        """USD for ``tokens`` of ``model`` on ``day``; ``None`` when the model is unpriced."""
        rates = self.rates(model, day)
        return rates.cost(tokens, request_input) if rates is not None else None

    def _lookup(self, model: str, day: date) -> ModelRates | None:
        lowered = model.lower()
        for pattern, rates in self._overrides:
            if fnmatch.fnmatchcase(lowered, pattern):
                return rates
        return _bundled_rates(model, day) if self._bundled else None


def default_prices_path() -> Path:
    """``$SESSIONGRAPH_PRICES``, else ``prices.toml`` in the platform's user config dir."""
    from_env = os.environ.get(PRICES_ENV)
    if from_env:
        return Path(from_env).expanduser()
    return platformdirs.user_config_path(APP_NAME) / "prices.toml"


@cache
def _bundled_book() -> PriceBook:
    return PriceBook()


@lru_cache(maxsize=8)
def _file_book(path: Path, mtime_ns: int, size: int) -> PriceBook:
    """The bundled prices under the file at ``path`` as it was at ``mtime_ns``/``size``
    (the two only key the cache)."""
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError) as exc:
        raise ConfigError(f"price file {path}: {exc}") from exc
    return PriceBook(list(_parse_file(data, str(path))))


def _parse_file(data: Mapping[str, Any], origin: str) -> Iterator[tuple[str, ModelRates]]:
    models = data.get("models", {})
    unknown = set(data) - {"models"}
    if unknown or not isinstance(models, dict):
        raise ConfigError(f'price file {origin}: expected only [models."NAME"] tables')
    for pattern, table in models.items():
        if not isinstance(table, dict):
            raise ConfigError(f"price file {origin}: models.{pattern} is not a table")
        extra = set(table) - set(_FILE_KEYS)
        if extra:
            raise ConfigError(
                f"price file {origin}: models.{pattern} has unknown keys {sorted(extra)}; "
                f"known: {', '.join(_FILE_KEYS)}"
            )
        for needed in ("input", "output"):
            if needed not in table:
                raise ConfigError(f"price file {origin}: models.{pattern} needs `{needed}`")
        price = {key: _price(table[key], origin, f"{pattern}.{key}") for key in table}
        cache_write = price.get("cache_write", price["input"])
        yield (
            pattern,
            ModelRates(
                input=Rate(price["input"]),
                output=Rate(price["output"]),
                cache_read=Rate(price.get("cache_read", price["input"])),
                cache_write=Rate(cache_write),
                cache_write_1h=Rate(price.get("cache_write_1h", cache_write)),
                origin=origin,
            ),
        )


def _price(value: Any, origin: str, where: str) -> Decimal:
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise ConfigError(f"price file {origin}: {where} must be a number (USD per MTok)")
    if not math.isfinite(value) or value < 0:
        raise ConfigError(f"price file {origin}: {where} must be a finite price of 0 or more")
    return Decimal(str(value))


# genai-prices


def _rate(value: Any) -> Rate | None:
    from genai_prices.types import TieredPrices

    if value is None:
        return None
    if isinstance(value, TieredPrices):
        return Rate(value.base, tuple((tier.start, tier.price) for tier in value.tiers))
    return Rate(Decimal(value))


@cache
def _origin() -> str:
    from genai_prices import __version__

    return f"genai-prices {__version__}"


def _bundled_rates(model: str, day: date) -> ModelRates | None:
    # The bundled snapshot only: genai_prices.UpdatePrices (a download) is never started.
    from genai_prices.data_snapshot import get_snapshot

    try:
        _, info = get_snapshot().find_provider_model(model, None, None, None)
    except LookupError:
        return None
    prices = info.get_prices(datetime.combine(day, time(12), tzinfo=UTC))
    input_, output = _rate(prices.input_mtok), _rate(prices.output_mtok)
    if input_ is None or output is None:
        return None
    cache_write = (
        _rate(getattr(prices, "cache_write_5m_mtok", None))
        or _rate(prices.cache_write_mtok)
        or input_
    )
    return ModelRates(
        input=input_,
        output=output,
        cache_read=_rate(prices.cache_read_mtok) or input_,
        cache_write=cache_write,
        cache_write_1h=_rate(getattr(prices, "cache_write_1h_mtok", None)) or cache_write,
        origin=_origin(),
    )


@cache
def _bundled_thresholds() -> tuple[int, ...]:
    from genai_prices.data_snapshot import get_snapshot
    from genai_prices.types import ModelPrice, TieredPrices

    # Only models a name can reach: of providers found by model name, and of the
    # providers those fall back on (fewer thresholds, fewer cells per report).
    providers = {p.id: p for p in get_snapshot().providers}
    reachable = {p.id for p in providers.values() if p.model_match is not None}
    for provider_id in list(reachable):
        reachable.update(providers[provider_id].fallback_model_providers or ())
    starts: set[int] = set()
    for provider in (providers[p] for p in reachable if p in providers):
        for model in provider.models:
            prices = model.prices
            sets = [prices] if isinstance(prices, ModelPrice) else [c.prices for c in prices]
            for price in sets:
                for value in vars(price).values():
                    if isinstance(value, TieredPrices):
                        starts.update(tier.start for tier in value.tiers)
    return tuple(sorted(starts))
