"""What every resolver gets: the request's loaders and the server's settings."""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import TypeAlias

import strawberry

from graph.loaders import Loaders
from graph.store import Store

__all__ = ["ApiSettings", "Context", "Info"]


@dataclass(frozen=True, slots=True)
class ApiSettings:
    """Server-wide limits and facts the schema reports."""

    max_page_size: int = 500
    default_page_size: int = 50
    started_at: float = field(default_factory=time.monotonic)


@dataclass(slots=True)
class Context:
    """One request's context: made fresh per request, so loader caches are per request."""

    store: Store
    settings: ApiSettings
    request_id: str
    loaders: Loaders = field(init=False)

    def __post_init__(self) -> None:
        self.loaders = Loaders(self.store)


Info: TypeAlias = strawberry.Info[Context, None]
