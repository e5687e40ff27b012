"""The execution context: strawberry's, without the reference cycle it leaves per request,
completing the fields that have a plan (:mod:`graph.schema.plans`) in place, and the
items of a list breadth first.

graphql-core's executor hands resolvers helpers that are bound methods of the executor
itself (``executor.async_helpers.track is executor.track_async_work``): a cycle, so each
request's executor, and through its ``context_value`` every loader, future and row of
the request, outlived it until the next full collection. Here the helpers reach the
executor through a weak reference, so a request is freed by reference counting.

Most fields of a page are attributes or small methods with a scalar, enum or object
type. For each of those the generic path builds a resolve info, coerces and converts
the arguments, calls the resolver through strawberry's wrappers and completes the value,
per field and per row; and it resolves the items of a list depth first, so every item
with an awaitable field costs a chain of coroutines. A field with a plan is read
and completed directly, its arguments converted once per selection; the awaitables met
while completing a list (one page per parent, say) are awaited together, and the
completion goes on from their values.

Anything unusual (an exception, a null where not allowed, a value the type refuses)
sends the field, or the whole list, down the generic path, which resolves it again and
reports the error as it always did. Resolving again is safe because a query's
resolvers only read (the loaders cache per request). Middleware, ``@defer`` and
``@stream`` always take the generic path.
"""

from __future__ import annotations

import asyncio
import weakref
from collections.abc import Awaitable, Callable, Iterable, Sequence
from functools import partial
from typing import Any

from graphql import (
    GraphQLObjectType,
    GraphQLOutputType,
    GraphQLResolveInfo,
)
from graphql.execution.collect_fields import FieldDetailsList, GroupedFieldSet
from graphql.execution.executor import to_nodes
from graphql.pyutils import Path, Undefined, gather_with_cancel
from graphql.type.definition import GraphQLResolveInfoHelpers

from graph.schema.chained import Chained
from graph.schema.completion import Pending, complete_items
from graph.schema.planner import Planner
from graph.schema.plans import Plain, close

__all__ = ["CycleFreeExecutionContext"]


class CycleFreeExecutionContext(Planner):
    """Strawberry's execution context whose resolver helpers hold it weakly, completing
    fields that have a plan in place."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        executor = weakref.ref(self)

        def track(values: Sequence[Any]) -> None:
            # Once the executor is gone, nothing would await the work any more.
            alive = executor()
            if alive is not None:
                alive.track_async_work(values)

        def gather(values: Sequence[Awaitable[Any]]) -> Awaitable[list[Any]]:
            return gather_with_cancel(*values)

        self.async_helpers = GraphQLResolveInfoHelpers(gather=gather, track=track)

    def execute_fields(
        self,
        parent_type: GraphQLObjectType,
        source_value: Any,
        path: Path | None,
        grouped_field_set: GroupedFieldSet,
        position_context: Any,
    ) -> Any:
        plan = self._plan(parent_type, grouped_field_set) if self._planning else ()
        if not any(plan):
            return super().execute_fields(
                parent_type, source_value, path, grouped_field_set, position_context
            )
        return self._execute_planned(
            parent_type, source_value, path, grouped_field_set, plan, position_context
        )

    def complete_iterable_value(
        self,
        item_type: GraphQLOutputType,
        field_details_list: FieldDetailsList,
        info: GraphQLResolveInfo[Any],
        path: Path,
        items: Iterable[Any],
        position_context: Any,
    ) -> Any:
        # A list of objects whose selection has plans (a page's edges) is completed in
        # place, unless an item needs the generic path (then the whole list takes it).
        item = self._item_plan(item_type, field_details_list, path)
        generic = partial(
            super().complete_iterable_value,
            item_type,
            field_details_list,
            info,
            path,
            items,
            position_context,
        )
        if item is None or not isinstance(items, list | tuple):
            return generic()
        pending: list[Pending] = []
        completed = complete_items(item.complete, items, pending)
        if completed is Undefined:
            _let_go(pending)
            return generic()
        return self._settle(completed, pending, generic) if pending else completed

    async def _settle(
        self, completed: Any, pending: list[Pending], generic: Callable[[], Any]
    ) -> Any:
        """Await what completing left pending, all at once per level, and complete their
        values in place; on anything unusual, the generic path's answer instead."""
        while pending:
            values = await _outcomes([p.value for p in pending])
            later: list[Pending] = []
            for each, value in zip(pending, values, strict=True):
                done = (
                    Undefined if isinstance(value, BaseException) else each.complete(value, later)
                )
                if done is Undefined:
                    _let_go(later)
                    answer = generic()
                    return await answer if self.is_awaitable(answer) else answer
                each.container[each.key] = done
            pending = later
        return completed

    def _execute_planned(
        self,
        parent_type: GraphQLObjectType,
        source_value: Any,
        path: Path | None,
        grouped_field_set: GroupedFieldSet,
        plan: tuple[Plain | None, ...],
        position_context: Any,
    ) -> Any:
        """graphql-core's ``execute_fields``, fields with a plan completed in place."""
        results: dict[str, Any] = {}
        awaitable_fields: list[str] = []
        is_awaitable = self.is_awaitable
        try:
            for (name, details), plain in zip(grouped_field_set.items(), plan, strict=True):
                result: Any = Undefined
                if plain is not None:
                    result = self._planned_field(
                        plain, parent_type, source_value, path, name, details, position_context
                    )
                if result is Undefined:
                    field_path = Path(path, name, parent_type.name)
                    result = self.execute_field(
                        parent_type, source_value, details, field_path, position_context
                    )
                if result is not Undefined:
                    results[name] = result
                    if is_awaitable(result):
                        awaitable_fields.append(name)
        except Exception:
            if awaitable_fields:
                self.settle_in_background([results[name] for name in awaitable_fields])
            raise
        if not awaitable_fields:
            return results

        async def get_results() -> dict[str, Any]:
            if len(awaitable_fields) == 1:
                # One awaitable needs no gathering (nor the task gathering makes).
                name = awaitable_fields[0]
                results[name] = await results[name]
                return results
            values = await gather_with_cancel(*(results[name] for name in awaitable_fields))
            results.update(zip(awaitable_fields, values, strict=True))
            return results

        return get_results()

    def _planned_field(
        self,
        plain: Plain,
        parent_type: GraphQLObjectType,
        source_value: Any,
        path: Path | None,
        name: str,
        details: FieldDetailsList,
        position_context: Any,
    ) -> Any:
        """A field's completed value (or an awaitable of it) by its plan, or Undefined
        when the generic path must resolve it."""
        try:
            value = plain.read(source_value)
        except Exception:
            return Undefined  # the generic path reports it
        if self.is_awaitable(value):
            # Completed as graphql-core completes an awaited value (reporting a failure).
            field_path = Path(path, name, parent_type.name)
            assert plain.field is not None
            info = self.build_resolve_info(plain.field, to_nodes(details), parent_type, field_path)
            return self.complete_awaitable_value(
                plain.field.type, details, info, field_path, value, position_context
            )
        pending: list[Pending] = []
        completed = plain.complete(value, pending)
        if completed is Undefined:
            _let_go(pending)
            return Undefined
        if not pending:
            return completed
        generic = partial(
            self.execute_field,
            parent_type,
            source_value,
            details,
            Path(path, name, parent_type.name),
            position_context,
        )
        return self._settle(completed, pending, generic)


async def _outcomes(awaitables: list[Awaitable[Any]]) -> list[Any]:
    """What each of ``awaitables`` gives, or the exception it raises.

    A :class:`Chained` waits for its source future, which the other pages of the same
    loader batch share: once one is in, the rest are too, and reading them costs no turn
    of the event loop (``asyncio.gather`` would add a callback and a turn per item, and
    wrap each Chained in a task). Coroutines all start as tasks before any is awaited,
    so the loads they make still share their batches.
    """
    futures = [
        each.source if isinstance(each, Chained) else asyncio.ensure_future(each)
        for each in awaitables
    ]
    try:
        for future in futures:
            if not future.done():
                await asyncio.wait((future,))
    except BaseException:
        # Cancelled: the tasks made here stop too (a loader's future is not ours).
        for each, future in zip(awaitables, futures, strict=True):
            if not isinstance(each, Chained):
                future.cancel()
        raise
    outcomes: list[Any] = []
    for each, future in zip(awaitables, futures, strict=True):
        try:
            outcomes.append(each.result() if isinstance(each, Chained) else future.result())
        except BaseException as exc:  # the generic path reports it
            outcomes.append(exc)
    return outcomes


def _let_go(pending: list[Pending]) -> None:
    for each in pending:
        close(each.value)
