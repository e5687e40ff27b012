"""A value made of a future's, without a future of its own: what relationship fields and
connection pages hand graphql-core while their loads are pending."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Generator
from typing import Any, Generic, TypeVar

__all__ = ["Chained", "then"]

A = TypeVar("A")
B = TypeVar("B")

_UNSET: Any = object()


class Chained(Generic[A]):
    """What ``transform`` makes of a future's value: awaitable, without a future, a
    callback or a turn of the event loop of its own.

    graphql-core awaits it like any awaitable. The execution context instead awaits the
    sources of a whole level at once and then reads each value (:meth:`result`), so a
    page of 50 parents costs one wait, not a chain of futures per parent. The value is
    made once, however many times it is read.
    """

    __slots__ = ("_source", "_transform", "_value")

    def __init__(self, source: asyncio.Future[Any], transform: Callable[[Any], A]) -> None:
        self._source = source
        self._transform = transform
        self._value: A = _UNSET

    @property
    def source(self) -> asyncio.Future[Any]:
        """The future this waits for."""
        return self._source

    def done(self) -> bool:
        return self._source.done()

    def result(self) -> A:
        """The transformed value (the source done).

        Raises:
            Exception: what the source or the transform raised.
        """
        if self._value is _UNSET:
            self._value = self._transform(self._source.result())
        return self._value

    def then(self, transform: Callable[[A], B]) -> Chained[B]:
        """What ``transform`` makes of this value, when it is in."""
        return Chained(self._source, lambda _: transform(self.result()))

    def __await__(self) -> Generator[Any, None, A]:
        if not self._source.done():
            yield from self._source.__await__()
        return self.result()


def then(awaitable: Awaitable[A], transform: Callable[[A], B]) -> Chained[B]:
    """What ``transform`` makes of what ``awaitable`` gives: a loader's future is
    chained as it is, a coroutine runs as a task."""
    if isinstance(awaitable, Chained):
        return awaitable.then(transform)
    return Chained(asyncio.ensure_future(awaitable), transform)
