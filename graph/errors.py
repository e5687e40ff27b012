"""Exceptions raised by sessiongraph.

Every error a user can cause or meet has its own class, and each class knows the
``extensions.code`` it carries in a GraphQL response:

    SessiongraphError                 base of everything below
    ├── ConfigError                   bad settings: paths, flags, environment
    ├── StoreError                    the database file
    │   ├── MigrationError            a migration failed and was rolled back
    │   │   └── ChecksumMismatch      an applied migration was edited afterwards
    │   ├── SchemaOutOfDate           the database needs `sessiongraph migrate up`
    │   └── CleanupPending            old bytes stay until another process lets go
    ├── TranscriptError               a transcript path could not be imported
    ├── WorkerError                   the import's worker process failed or was killed
    └── UserInputError                the client sent something wrong    (BAD_USER_INPUT)
        ├── BadIdError                a malformed global ID              (BAD_ID)
        ├── BadCursorError            a cursor this server did not issue (BAD_USER_INPUT)
        ├── QueryTimeout              the request ran past its time      (QUERY_TIMEOUT)
        └── TooManySubscriptions      one socket's operations are at the limit
                                                               (TOO_MANY_SUBSCRIPTIONS)

Anything else raised while serving a request is a bug: it is logged, and the client
sees only "Internal error" with the request id.
"""

from __future__ import annotations

from typing import Any

__all__ = [
    "BadCursorError",
    "BadIdError",
    "ChecksumMismatch",
    "CleanupPending",
    "ConfigError",
    "MigrationError",
    "QueryTimeout",
    "SchemaOutOfDate",
    "SessionSourceConflict",
    "SessiongraphError",
    "StoreError",
    "TooManySubscriptions",
    "TranscriptError",
    "UserInputError",
    "WorkerError",
]


class SessiongraphError(Exception):
    """Base class of every error sessiongraph raises on purpose."""

    code = "INTERNAL_SERVER_ERROR"
    # A traceback that explains the error but is too long to show (a worker's, say).
    trace: str | None = None

    def __init__(self, message: str, **extensions: Any) -> None:
        super().__init__(message)
        self.message = message
        self.extensions = extensions

    def __str__(self) -> str:
        return self.message


class ConfigError(SessiongraphError):
    """A setting (flag, environment variable, path) is missing or invalid."""

    code = "CONFIG_ERROR"


class StoreError(SessiongraphError):
    """The database could not be opened, read or written."""

    code = "STORE_ERROR"


class SessionSourceConflict(StoreError):
    """A session id is already stored from another agent (ids are unique on their own)."""


class MigrationError(StoreError):
    """A migration failed; the database was left as it was before it."""


class ChecksumMismatch(MigrationError):
    """A migration that was already applied has changed on disk since."""


class SchemaOutOfDate(StoreError):
    """The database has pending migrations and was opened without applying them."""


class CleanupPending(StoreError):
    """A re-seal's clean-up (vacuum, copies) could not finish: another process's read
    kept the WAL from being folded back, so the file may still hold old bytes. It is
    finished by the next open after that process is done."""


class TranscriptError(SessiongraphError):
    """A transcript path could not be imported at all."""

    code = "IMPORT_ERROR"


class WorkerError(SessiongraphError):
    """The import's worker process failed (a bug) or was killed; what it had sent stays."""

    code = "IMPORT_ERROR"

    def __init__(self, message: str, trace: str | None = None) -> None:
        super().__init__(message)
        self.trace = trace


class UserInputError(SessiongraphError):
    """The client sent an argument the API cannot accept."""

    code = "BAD_USER_INPUT"


class BadIdError(UserInputError):
    """A global ID that is not one this server issued, or of the wrong type."""

    code = "BAD_ID"


class BadCursorError(UserInputError):
    """A pagination cursor that is not one this server issued for this field."""


class QueryTimeout(UserInputError):
    """The request ran past the server's time limit; its SQL was interrupted."""

    code = "QUERY_TIMEOUT"


class TooManySubscriptions(UserInputError):
    """A WebSocket has as many operations running as one may; one must end first."""

    code = "TOO_MANY_SUBSCRIPTIONS"
