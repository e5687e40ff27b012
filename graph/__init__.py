"""sessiongraph: the history of AI coding-assistant sessions, in SQLite, over GraphQL."""

__version__ = "0.1.0"
