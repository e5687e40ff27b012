"""5-hour billing blocks: where they start and end, which is active, burn rate, projection."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from graph.pricing import PriceBook
from graph.store import NewConversation, NewMessage, NewSession, Store, TokenTotals
from graph.store.usage import Clock, Dimension, UsageFilter
from graph.usage import Block, blocks
from tests.conftest import GraphQL

SONNET = "claude-sonnet-4-5-20250929"


async def _messages(store: Store, times: list[str], tokens: int = 1000) -> None:
    async with store.write() as writer:
        pk = await writer.upsert_session(NewSession("s-blocks"))
        thread = await writer.upsert_conversation(pk, NewConversation())
        await writer.add_messages(
            pk,
            thread,
            [
                NewMessage(
                    f"m:{n}:r",
                    "assistant",
                    f"2026-02-10T{t}:00.000Z",
                    [(n, {})],
                    uuid=f"a{n}",
                    model=SONNET,
                    usage=TokenTotals(tokens, 0, 0, 0),
                )
                for n, t in enumerate(times, 1)
            ],
        )


async def _blocks(store: Store, now: datetime) -> list[Block]:
    book = PriceBook()
    async with store.read() as reader:
        cells = await reader.usage([Dimension.HOUR], UsageFilter(), Clock(), book.thresholds)
    return blocks(cells, book, now)


async def test_blocks_start_on_the_hour_and_last_five_hours(store: Store) -> None:
    # 10:15 opens 10:00-15:00; 14:59 is in it; 15:00 opens the next (15:00-20:00);
    # 21:30 is more than 5 h after 15:00's block start: 21:00.
    await _messages(store, ["10:15", "12:00", "14:59", "15:00", "16:10", "21:30"])
    found = await _blocks(store, datetime(2026, 2, 12, tzinfo=UTC))
    assert [(b.start.hour, b.end.hour, b.usage.messages) for b in found] == [
        (10, 15, 3),
        (15, 20, 2),
        (21, 2, 1),
    ]
    assert not any(b.active for b in found)
    assert sum(b.total_tokens for b in found) == 6000


async def test_the_active_block_has_a_burn_rate_and_a_projection(store: Store) -> None:
    await _messages(store, ["10:15", "11:15", "12:15"])
    [block] = await _blocks(store, datetime(2026, 2, 10, 13, 0, tzinfo=UTC))
    assert block.active
    assert block.tokens_per_hour == pytest.approx(1500.0)  # 3000 tokens over 2 hours
    assert block.cost_per_hour == pytest.approx(float(block.usage.cost or 0) / 2)
    projected = block.projected(datetime(2026, 2, 10, 13, 0, tzinfo=UTC))
    assert projected is not None
    assert projected[0] == 3000 + 1500 * 2  # two hours left until 15:00
    assert projected[1] == pytest.approx(0.009 + 0.0045 * 2)


async def test_a_block_is_active_only_until_its_end(store: Store) -> None:
    await _messages(store, ["10:15", "11:15"])
    [inside] = await _blocks(store, datetime(2026, 2, 10, 14, 59, tzinfo=UTC))
    assert inside.active
    end = datetime(2026, 2, 10, 15, 0, tzinfo=UTC)
    [after] = await _blocks(store, end)
    assert not after.active
    assert after.projected(end) is None


async def test_usage_blocks_newest_first(store: Store, gql: GraphQL) -> None:
    await _messages(store, ["01:15", "07:00", "13:30"])
    data = await gql(
        "{ usageBlocks(first: 2) { start end active messageCount costUsd"
        " tokensPerHour projectedTokens } }"
    )
    assert [b["start"] for b in data["usageBlocks"]] == [
        "2026-02-10T13:00:00.000Z",
        "2026-02-10T07:00:00.000Z",
    ]
    assert data["usageBlocks"][0] == {
        "start": "2026-02-10T13:00:00.000Z",
        "end": "2026-02-10T18:00:00.000Z",
        "active": False,
        "messageCount": 1,
        "costUsd": pytest.approx(0.003),
        "tokensPerHour": None,
        "projectedTokens": None,
    }
