"""Prices: hand-computed costs (cache writes, 1-hour TTL, long-context tiers, price
history, unknown models), the user's price file, and bundled data read offline."""

from __future__ import annotations

import os
import re
import socket
import tomllib
from datetime import date
from decimal import Decimal
from importlib.metadata import version
from pathlib import Path
from typing import Any

import pytest

from graph.errors import ConfigError
from graph.importers.importer import import_paths
from graph.pricing import PRICES_ENV, PriceBook, bucket_of
from graph.settings import ServerSettings
from graph.store import Store, TokenTotals
from tests.conftest import GraphQL
from tests.usage_data import assistant, write

SONNET, HAIKU, OPUS = "claude-sonnet-4-5-20250929", "claude-haiku-4-5-20251001", "claude-opus-4-6"
FEB = date(2026, 2, 10)


def cost(model: str, day: date, tokens: TokenTotals, book: PriceBook | None = None) -> Any:
    request = tokens.input + tokens.cache_read + tokens.cache_creation
    return (book or PriceBook()).cost(model, day, tokens, request)


@pytest.mark.parametrize(
    ("model", "day", "tokens", "usd"),
    [
        # 1000 x $3 + 2000 x $15 + 10000 x $0.30 + 3000 x $3.75 (5 min) + 1000 x $6 (1 h)
        (SONNET, FEB, TokenTotals(1000, 2000, 10_000, 4000, 1000), "0.05325"),
        # Over 200k input in one request: every token at the long-context price.
        (SONNET, FEB, TokenTotals(1000, 500, 250_000, 0, 0), "0.16725"),
        # Haiku 4.5: cache writes $1.25 (5 min) and $2 (1 h) per MTok.
        (HAIKU, FEB, TokenTotals(0, 0, 0, 2000, 0), "0.0025"),
        (HAIKU, FEB, TokenTotals(0, 0, 0, 2000, 2000), "0.004"),
        # Opus 4.6 had a long-context tier until 2026-03-13, a flat price after.
        (OPUS, date(2026, 3, 1), TokenTotals(0, 0, 300_000, 0, 0), "0.3"),
        (OPUS, date(2026, 3, 20), TokenTotals(0, 0, 300_000, 0, 0), "0.15"),
    ],
)
def test_hand_computed_costs(model: str, day: date, tokens: TokenTotals, usd: str) -> None:
    assert cost(model, day, tokens) == Decimal(usd)


def test_an_unknown_model_has_no_cost_not_zero() -> None:
    book = PriceBook()
    assert book.rates("local-llama-3", FEB) is None
    assert cost("local-llama-3", FEB, TokenTotals(10, 10)) is None
    assert book.cost(None, FEB, TokenTotals(10, 10), 20) is None


def test_buckets_price_sums_exactly() -> None:
    # Two requests on either side of the 200k tier, summed: pricing the sums as one
    # request would put both at the long-context price.
    thresholds = PriceBook().thresholds
    small, large = TokenTotals(100, 10, 50_000), TokenTotals(100, 10, 250_000)
    assert bucket_of(50_100, thresholds) != bucket_of(250_100, thresholds)
    each = cost(SONNET, FEB, small) + cost(SONNET, FEB, large)
    parts = [
        PriceBook().cost(SONNET, FEB, t, bucket_of(t.input + t.cache_read, thresholds) + 1)
        for t in (small, large)
    ]
    assert each == sum(part for part in parts if part is not None) and None not in parts


async def test_a_group_s_cost_is_the_sum_of_its_requests(
    store: Store, gql: GraphQL, tmp_path: Path
) -> None:
    sid = "33333333-0000-4000-8000-000000000003"
    write(
        tmp_path,
        sid,
        [
            assistant(
                sid, "a1", "m1", "2026-02-10T10:00:00.000Z", input=100, output=10, cache_read=50_000
            ),
            assistant(
                sid,
                "a2",
                "m2",
                "2026-02-10T10:05:00.000Z",
                input=100,
                output=10,
                cache_read=250_000,
                cache_write=1000,
                cache_write_1h=400,
            ),
            assistant(sid, "a3", "m3", "2026-02-10T10:06:00.000Z", model="local-llama", input=5),
        ],
    )
    await import_paths(store, [tmp_path], worker=False)
    data = await gql("""{ usage(groupBy: [DAY], timeZone: "UTC") { nodes { costUsd
      unpricedModels } } session(id: "33333333-0000-4000-8000-000000000003") { messages {
      nodes { model costUsd } } } }""")
    first = Decimal("0.0003") + Decimal("0.00015") + Decimal("0.015")  # base prices
    second = (
        Decimal("0.0006")
        + Decimal("0.000225")
        + Decimal("0.15")  # long context
        + 600 * Decimal("7.5") / 10**6
        + 400 * Decimal("12") / 10**6
    )
    assert [m["costUsd"] for m in data["session"]["messages"]["nodes"]] == [
        float(first),
        float(second),
        None,
    ]
    [day] = data["usage"]["nodes"]
    assert day["costUsd"] == pytest.approx(float(first + second), rel=1e-12)
    assert day["unpricedModels"] == ["local-llama"]
    only_unknown = await gql(
        '{ usage(groupBy: [MODEL], filter: {models: ["local-llama"]}) { nodes { costUsd '
        "unpricedModels } totals { costUsd } } }"
    )
    assert only_unknown["usage"]["nodes"] == [{"costUsd": None, "unpricedModels": ["local-llama"]}]
    assert only_unknown["usage"]["totals"]["costUsd"] is None


def test_a_user_file_overrides_and_adds_models(tmp_path: Path) -> None:
    prices = tmp_path / "prices.toml"
    prices.write_text(
        '[models."local-llama*"]\ninput = 1\noutput = 2\n\n'
        '[models."claude-sonnet-4-5*"]\ninput = 10\noutput = 20\ncache_write = 30\n'
    )
    book = PriceBook.load(prices)
    assert cost("local-llama-3", FEB, TokenTotals(1000, 1000), book) == Decimal("0.003")
    # cache_read defaults to the input price, cache_write_1h to cache_write.
    assert cost(SONNET, FEB, TokenTotals(0, 0, 1000, 1000, 500), book) == Decimal("0.04")
    assert cost(HAIKU, FEB, TokenTotals(0, 0, 0, 2000), book) == Decimal("0.0025")  # bundled


def test_the_file_comes_from_the_environment(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    prices = tmp_path / "p.toml"
    prices.write_text('[models."x"]\ninput = 1\noutput = 1\n')
    monkeypatch.setenv(PRICES_ENV, str(prices))
    assert PriceBook.load().rates("x", FEB) is not None
    monkeypatch.setenv(PRICES_ENV, str(tmp_path / "missing.toml"))
    with pytest.raises(ConfigError, match="does not exist"):
        PriceBook.load()


def test_settings_read_the_price_file_once_per_version(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    reads: list[str] = []
    parse = tomllib.loads

    def counting(text: str) -> dict[str, Any]:
        reads.append(text)
        return parse(text)

    monkeypatch.setattr(tomllib, "loads", counting)
    prices = tmp_path / "prices.toml"
    prices.write_text('[models."x"]\ninput = 1\noutput = 1\n')
    monkeypatch.setenv(PRICES_ENV, str(prices))
    books = {id(ServerSettings().prices) for _ in range(5)}
    assert len(reads) == 1 and len(books) == 1
    prices.write_text('[models."x"]\ninput = 2\noutput = 1\n')
    os.utime(prices, ns=(prices.stat().st_atime_ns, prices.stat().st_mtime_ns + 10**9))
    rates = ServerSettings().prices.rates("x", FEB)
    assert len(reads) == 2 and rates is not None and rates.input.base == 2  # edited: read again
    prices.write_text("[models.x\n")
    for _ in range(2):  # a bad file is not remembered: every start fails
        with pytest.raises(ConfigError, match="price file"):
            ServerSettings()
    assert len(reads) == 4
    # No price file: one book of the bundled prices for the process.
    monkeypatch.delenv(PRICES_ENV)
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "config"))
    assert ServerSettings().prices is ServerSettings().prices and len(reads) == 4


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("[models.x]\ninput = 1\n", "needs `output`"),
        ("[models.x]\ninput = -1\noutput = 1\n", "finite price of 0 or more"),
        ('[models.x]\ninput = "3"\noutput = 1\n', "must be a number"),
        ("[models.x]\ninput = 1\noutput = 1\ncache = 2\n", "unknown keys"),
        ("[prices]\nx = 1\n", "expected only"),
        ("[models.x\n", "price file"),
    ],
)
def test_a_bad_price_file_is_a_config_error(tmp_path: Path, text: str, message: str) -> None:
    prices = tmp_path / "prices.toml"
    prices.write_text(text)
    with pytest.raises(ConfigError, match=re.escape(message)):
        PriceBook.load(prices)


def test_bundled_prices_work_offline(monkeypatch: pytest.MonkeyPatch) -> None:
    def refuse(*args: object, **kwargs: object) -> None:
        raise AssertionError("pricing tried to reach the network")

    monkeypatch.setattr(socket.socket, "connect", refuse)
    monkeypatch.setattr(socket, "create_connection", refuse)
    book = PriceBook()
    assert book.thresholds
    for model in (SONNET, HAIKU, OPUS, "gpt-5", "gemini-2.5-pro"):
        assert book.rates(model, date(2026, 6, 1)) is not None, model
    from genai_prices import data_snapshot

    assert data_snapshot._custom_snapshot is None  # no updater ever replaced the bundle


def test_the_price_data_is_pinned() -> None:
    pyproject = (Path(__file__).resolve().parent.parent / "pyproject.toml").read_text()
    pinned = re.search(r'"genai-prices==([^"]+)"', pyproject)
    assert pinned is not None
    assert version("genai-prices") == pinned[1]
