"""Prometheus metrics of one app, served at ``/metrics`` (the token protects it like /graphql).

Each app has its own registry (several apps in one process, as in the tests, never share
counters). Request metrics are observed where every request passes (the access log
middleware), GraphQL error codes where results are encoded; what the database holds is
read when a scrape asks, so it is current and costs nothing between scrapes.
"""

from __future__ import annotations

from pathlib import Path
from typing import Final

from prometheus_client import (
    CONTENT_TYPE_LATEST,
    CollectorRegistry,
    Counter,
    Gauge,
    Histogram,
    generate_latest,
)

__all__ = ["CONTENT_TYPE_LATEST", "Metrics"]

_SECONDS: Final = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)
_STATEMENTS: Final = (1, 2, 3, 4, 6, 8, 12, 16, 32, 64)


class Metrics:
    """The counters, histograms and gauges of one app."""

    def __init__(self) -> None:
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
        self.requests.labels(path, operation or "", str(status)).inc()
        self.latency.labels(path).observe(seconds)

    def scrape(self, db: Path, counts: dict[str, int], subscriptions: int) -> bytes:
        """The exposition, with what is read now (row counts, file sizes) filled in."""
        for table, count in counts.items():
            self.rows.labels(table).set(count)
        for label, path in (("db", db), ("wal", db.with_name(db.name + "-wal"))):
            self.file_bytes.labels(label).set(path.stat().st_size if path.exists() else 0)
        self.subscriptions.set(subscriptions)
        return generate_latest(self.registry)
