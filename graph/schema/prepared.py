"""Prepared queries: documents that once passed every check, run again without
strawberry's per-request pipeline.

strawberry takes every request through its extensions: parsing and validation (both
cached), the token, depth, alias and cost limits, and error masking, each with its hooks,
whatever the document. Of those checks only the cost depends on more than the document's
text and the schema: a query document that passed them once passes them again, except
the cost when a variable gives a page size, which is checked again. Such a request is run
directly, with graphql-core's ``execute`` and the schema's execution context, the way
strawberry would run it.

Only answers without errors are given this way. An answer with an error is dropped and
the request runs again through the whole pipeline, which gives every error its code,
masks internal ones and logs them: a query only reads, so running it twice is safe (and
the second run finds the first one's loads in the request's loaders). Until the pipeline
answers that document without an error again, its requests go to the pipeline alone.
"""

from __future__ import annotations

from collections import OrderedDict
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Final

from graphql import DocumentNode, OperationType, execute, get_operation_ast, parse
from graphql import ExecutionResult as CoreResult
from strawberry.execution.is_awaitable import optimized_is_awaitable
from strawberry.types import ExecutionResult

from graph.errors import UserInputError
from graph.schema.limits import check_cost, cost_varies
from graph.settings import ServerSettings

if TYPE_CHECKING:
    from strawberry import Schema

__all__ = ["Prepared", "PreparedQueries"]

_KEPT: Final = 256  # documents, as many as the parser and validation caches keep


@dataclass(slots=True)
class Prepared:
    """A document that passed every check, and whether its cost depends on the variables.

    ``erred``: its last answer had an error. The next request of it goes straight to the
    pipeline (which would answer it anyway): a document that keeps failing, a client
    polling a row that is gone, say, is not run twice each time.
    """

    document: DocumentNode
    cost_varies: bool
    erred: bool = False


class PreparedQueries:
    """The query documents a schema has answered, by text and operation name (LRU), and
    how to run one of them again."""

    def __init__(self, schema: Schema, limits: ServerSettings, maxsize: int = _KEPT) -> None:
        self.schema = schema
        self.limits = limits
        self.maxsize = maxsize
        self._documents: OrderedDict[tuple[str, str | None], Prepared] = OrderedDict()

    def __len__(self) -> int:
        return len(self._documents)

    def get(self, query: str, operation_name: str | None) -> Prepared | None:
        """``query`` prepared, if it passed every check before and its last answer had
        no error."""
        key = (query, operation_name)
        prepared = self._documents.get(key)
        if prepared is None or prepared.erred:
            return None
        self._documents.move_to_end(key)
        return prepared

    def remember(self, query: str, operation_name: str | None, *, erred: bool) -> None:
        """Keeps ``query``, which the pipeline has just answered (``erred``: with an
        error) after every check passed, if it is a query."""
        key = (query, operation_name)
        known = self._documents.get(key)
        if known is not None:
            known.erred = erred
            return
        document = parse(query)
        operation = get_operation_ast(document, operation_name)
        if operation is None or operation.operation is not OperationType.QUERY:
            return
        self._documents[key] = Prepared(document, cost_varies(document), erred)
        if len(self._documents) > self.maxsize:
            self._documents.popitem(last=False)

    async def run(
        self,
        prepared: Prepared,
        variables: dict[str, Any] | None,
        context: Any,
        operation_name: str | None,
    ) -> ExecutionResult | None:
        """The answer to the prepared document, or None when it has an error (or costs
        too much with these variables): the whole pipeline must answer then."""
        core, document = self.schema._schema, prepared.document
        if prepared.cost_varies:
            try:
                check_cost(core, document, operation_name, variables, self.limits)
            except UserInputError:
                prepared.erred = True
                return None
        answer = execute(
            core,
            document,
            variable_values=variables,
            operation_name=operation_name,
            context_value=context,
            is_awaitable=optimized_is_awaitable,  # type: ignore[arg-type]  # (a bool, not a TypeGuard)
            executor_class=self.schema.execution_context_class,
            operation_extensions=None,  # strawberry's execution context takes it
        )
        result = answer if isinstance(answer, CoreResult) else await answer
        if result.errors:
            prepared.erred = True
            return None
        return ExecutionResult(data=result.data, errors=None, extensions={})
