"""The small types the node types are made of: the Node interface, enums, token usage and
secret findings."""

from __future__ import annotations

from datetime import datetime
from enum import Enum
from typing import Protocol, TypeAlias

import strawberry

from graph.schema.scalars import BigInt, from_db_time
from graph.sources import Source
from graph.store import KindCount, TokenTotals

__all__ = ["Node", "SecretFinding", "SessionSource", "TitleSource", "TokenUsage"]


@strawberry.interface(description="An object with a global ID, fetchable with `node(id:)`.")
class Node:
    id: strawberry.ID


@strawberry.enum(description="Where a session's title comes from.")
class TitleSource(Enum):
    CUSTOM = strawberry.enum_value("custom", description="The user named the session.")
    AI = strawberry.enum_value("ai", description="Claude Code wrote a title for it.")
    SUMMARY = strawberry.enum_value(
        "summary", description="Claude Code's summary of the conversation."
    )
    FIRST_PROMPT = strawberry.enum_value(
        "prompt",
        description="Derived: the first prompt the user typed, on one line. A title "
        "Claude Code writes later replaces it.",
    )
    SLUG = strawberry.enum_value(
        "slug", description="Derived: the session's slug (no prompt typed yet)."
    )


class TokenColumns(Protocol):
    """A row with token columns (sessions and messages)."""

    @property
    def input_tokens(self) -> int: ...
    @property
    def output_tokens(self) -> int: ...
    @property
    def cache_read_tokens(self) -> int: ...
    @property
    def cache_creation_tokens(self) -> int: ...
    @property
    def cache_creation_1h_tokens(self) -> int: ...


@strawberry.type(description="Token counts; each API message is counted once.")
class TokenUsage:
    input: BigInt
    output: BigInt
    cache_read: BigInt
    cache_creation: BigInt
    cache_creation_1h: BigInt = strawberry.field(
        description="Of cacheCreation, the tokens written with a 1-hour TTL (priced higher)."
    )

    @strawberry.field(description="input + output + cacheRead + cacheCreation.")
    def total(self) -> BigInt:
        return BigInt(self.input + self.output + self.cache_read + self.cache_creation)

    @classmethod
    def of_row(cls, row: TokenColumns) -> TokenUsage:
        """A session's or message's own counts, read off its columns (a page reads one
        per row: no :class:`TokenTotals` in between)."""
        return cls._of_counts(
            row.input_tokens,
            row.output_tokens,
            row.cache_read_tokens,
            row.cache_creation_tokens,
            row.cache_creation_1h_tokens,
        )

    @classmethod
    def of(cls, totals: TokenTotals) -> TokenUsage:
        return cls._of_counts(*totals)

    @classmethod
    def _of_counts(
        cls, input: int, output: int, cache_read: int, cache_creation: int, cache_1h: int
    ) -> TokenUsage:
        return cls(
            input=BigInt(input),
            output=BigInt(output),
            cache_read=BigInt(cache_read),
            cache_creation=BigInt(cache_creation),
            cache_creation_1h=BigInt(cache_1h),
        )


@strawberry.type(description="Secrets of one kind found in a session.")
class SecretFinding:
    kind: str = strawberry.field(description="aws-access-key, github-token, jwt, private-key...")
    count: int = strawberry.field(description="How many times one was found.")
    values: int = strawberry.field(description="How many different values (by fingerprint).")
    first_seen: datetime | None

    @classmethod
    def of(cls, row: KindCount) -> SecretFinding:
        return cls(
            kind=row.kind,
            count=row.count,
            values=row.values,
            first_seen=from_db_time(row.first_seen),
        )


# The schema's name for the agents' enum: strawberry marks the class itself, so the
# command line and the importers use the same one without loading strawberry.
strawberry.enum(Source, name="SessionSource", description="The coding agent that wrote a session.")
SessionSource: TypeAlias = Source
