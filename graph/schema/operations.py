"""Which operation of a document a request runs: the one ``operationName`` names, or the
document's only one.

strawberry, given a document of several operations and no ``operationName``, runs the
first (it takes the first's name as the name asked for). GraphQL's GetOperation, and so
GraphQL over HTTP, make that a request error; here it is refused as an unknown
``operationName`` is: a 400 with ``BAD_REQUEST`` over HTTP, an ``error`` message over a
WebSocket.
"""

from __future__ import annotations

from collections.abc import Iterator

from graphql import OperationDefinitionNode
from strawberry.extensions import SchemaExtension
from strawberry.schema.exceptions import CannotGetOperationTypeError

__all__ = ["OperationNotChosen", "OperationPicked"]


class OperationNotChosen(CannotGetOperationTypeError):
    """A document of several operations came without ``operationName``."""

    def __init__(self, count: int) -> None:
        super().__init__(None)
        self.count = count

    def as_http_error_reason(self) -> str:
        return f"the document has {self.count} operations: name the one to run in `operationName`"


class OperationPicked(SchemaExtension):
    """Refuses a document of several operations sent without ``operationName``."""

    def on_parse(self) -> Iterator[None]:
        yield
        context = self.execution_context
        document = context.graphql_document
        # The name the client sent (``operation_name`` falls back to the first's).
        if document is None or context._provided_operation_name is not None:
            return
        count = sum(isinstance(d, OperationDefinitionNode) for d in document.definitions)
        if count > 1:
            raise OperationNotChosen(count)
