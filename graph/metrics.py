"""Prometheus metrics of one app, served at ``/metrics`` (the token protects it like /graphql).

Each app has its own registry (several apps in one process, as in the tests, never share
counters). Request metrics are observed where every request passes (the access log
middleware), GraphQL error codes where results are encoded; what the database holds is
read when a scrape asks, so it is current and costs nothing between scrapes.
"""

from __future__ import annotations

from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Final

from prometheus_client import (
    CONTENT_TYPE_LATEST,
    CollectorRegistry,
    Counter,
    Gauge,
    Histogram,
    generate_latest,
)

if TYPE_CHECKING:
    from graph.store.rows import ImportFigures

__all__ = ["CONTENT_TYPE_LATEST", "Metrics"]

_SECONDS: Final = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)
_STATEMENTS: Final = (1, 2, 3, 4, 6, 8, 12, 16, 32, 64)
# Operation names are the clients': the label takes the first names seen, and counts any
# other under OTHER_OPERATIONS (not a GraphQL name, so no operation can be called that).
# A client naming each request anew would otherwise grow the registry, and every scrape,
# without bound.
MAX_OPERATIONS: Final = 200
OTHER_OPERATIONS: Final = "(other)"


class Metrics:
    """The counters, histograms and gauges of one app."""

    def __init__(self, max_operations: int = MAX_OPERATIONS) -> None:
        self.max_operations = max_operations
        self._operations: set[str] = set()
        self.registry = CollectorRegistry(auto_describe=True)
        r = self.registry
        self.requests = Counter(
            "sessiongraph_http_requests",
            "HTTP requests, by path, GraphQL operation and status.",
            ["path", "operation", "status"],
            registry=r,
        )
        self.latency = Histogram(
            "sessiongraph_http_request_seconds",
            "Time to answer a request, by path.",
            ["path"],
            buckets=_SECONDS,
            registry=r,
        )
        self.statements = Histogram(
            "sessiongraph_graphql_sql_statements",
            "SQL statements a GraphQL request ran.",
            buckets=_STATEMENTS,
            registry=r,
        )
        self.errors = Counter(
            "sessiongraph_graphql_errors",
            "GraphQL errors returned, by extensions.code.",
            ["code"],
            registry=r,
        )
        self.websockets = Gauge(
            "sessiongraph_websocket_connections", "Open WebSocket connections.", registry=r
        )
        self.subscriptions = Gauge(
            "sessiongraph_subscriptions_active", "Subscriptions being served.", registry=r
        )
        self.rows = Gauge(
            "sessiongraph_stored_rows",
            "Rows stored, by table (read at scrape time).",
            ["table"],
            registry=r,
        )
        self.imported_lines = Gauge(
            "sessiongraph_imported_lines",
            "Transcript lines imported, by any process (read at scrape time).",
            registry=r,
        )
        self.last_import = Gauge(
            "sessiongraph_last_import_timestamp_seconds",
            "When an import last stored lines (Unix time; 0: never).",
            registry=r,
        )
        self.feed_lag = Gauge(
            "sessiongraph_watcher_lag_changes",
            "Changes stored but not yet pushed to subscribers by the change feed.",
            registry=r,
        )
        self.file_bytes = Gauge(
            "sessiongraph_database_file_bytes",
            "Size of the database's files, by file.",
            ["file"],
            registry=r,
        )

    def observe_request(
        self, path: str, operation: str | None, status: int, seconds: float
    ) -> None:
        # Paths are few and fixed (unknown ones are 404s): one label value each.
        self.requests.labels(path, self._operation(operation), str(status)).inc()
        self.latency.labels(path).observe(seconds)

    def _operation(self, name: str | None) -> str:
        if not name:
            return ""
        if name in self._operations:
            return name
        if len(self._operations) >= self.max_operations:
            return OTHER_OPERATIONS
        self._operations.add(name)
        return name

    def scrape(
        self,
        db: Path,
        counts: dict[str, int],
        subscriptions: int,
        imports: ImportFigures,
        feed_position: int | None,
    ) -> bytes:
        """The exposition, with what is read now (rows, imports, file sizes) filled in.

        ``feed_position`` is the last change the feed pushed (``None``: no feed).
        """
        for table, count in counts.items():
            self.rows.labels(table).set(count)
        self.imported_lines.set(imports.lines)
        last = imports.last_imported_at
        self.last_import.set(datetime.fromisoformat(last).timestamp() if last else 0)
        if feed_position is not None:
            self.feed_lag.set(max(imports.change_head - feed_position, 0))
        for label, path in (("db", db), ("wal", db.with_name(db.name + "-wal"))):
            self.file_bytes.labels(label).set(path.stat().st_size if path.exists() else 0)
        self.subscriptions.set(subscriptions)
        return generate_latest(self.registry)
