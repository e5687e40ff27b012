"""Read queries over the whole database: its totals, usage, secret findings and filter
options (each one SQL statement, like every read)."""

from __future__ import annotations

from collections import defaultdict
from typing import TYPE_CHECKING

import orjson

from graph.store.filters import json_list
from graph.store.findings import FINDINGS_BY_SESSION, REPORT, KindCount, ReportRow
from graph.store.reader_base import ReaderBase
from graph.store.rows import ImportFigures, SourceCount, StatsRow, TokenTotals
from graph.store.usage import (
    Clock,
    Dimension,
    FilterOptions,
    ProjectCells,
    UsageCell,
    UsageFilter,
    filter_options_sql,
    projects_sql,
    usage_sql,
)

if TYPE_CHECKING:
    from collections.abc import Sequence

__all__ = ["Figures"]


class Figures(ReaderBase):
    """The whole database's figures (a base of :class:`~graph.store.Reader`)."""

    async def stats(self) -> StatsRow:
        rows = await self._all(
            "SELECT (SELECT count(*) FROM sessions), (SELECT count(*) FROM conversations),"
            " (SELECT count(*) FROM messages), (SELECT count(*) FROM events),"
            # total(), cast back: saturates instead of failing with "integer overflow".
            " CAST(total(input_tokens) AS INTEGER), CAST(total(output_tokens) AS INTEGER),"
            " CAST(total(cache_read_tokens) AS INTEGER),"
            " CAST(total(cache_creation_tokens) AS INTEGER),"
            " CAST(total(cache_creation_1h_tokens) AS INTEGER),"
            " (SELECT page_count * page_size FROM pragma_page_count(), pragma_page_size()),"
            " (SELECT coalesce(max(version), 0) FROM schema_migrations),"
            " sqlite_version()"
            " FROM sessions"
        )
        r = rows[0]
        return StatsRow(
            sessions=r[0],
            conversations=r[1],
            messages=r[2],
            events=r[3],
            tokens=TokenTotals(r[4], r[5], r[6], r[7], r[8]),
            db_size_bytes=r[9],
            schema_version=r[10],
            sqlite_version=r[11],
        )

    async def sessions_by_source(self) -> list[SourceCount]:
        """Sessions and messages per agent that wrote them, by source name."""
        rows = await self._all(
            "SELECT source, count(*), CAST(total(message_count) AS INTEGER) FROM sessions"
            " GROUP BY source ORDER BY source"
        )
        return [SourceCount(str(s), int(n), int(m)) for s, n, m in rows]

    async def import_figures(self) -> ImportFigures:
        """Lines imported and when last (by any process), and the newest change."""
        lines, last, head = (
            await self._all(
                "SELECT (SELECT CAST(total(line_count) AS INTEGER) FROM import_files),"
                " (SELECT max(imported_at) FROM import_files),"
                " (SELECT coalesce(max(seq), 0) FROM changes)"
            )
        )[0]
        return ImportFigures(lines, last, head)

    async def secret_findings_of_sessions(self, pks: Sequence[int]) -> list[list[KindCount]]:
        """What the secret scan found in each session, by kind (most found first)."""
        found: dict[int, list[KindCount]] = defaultdict(list)
        for pk, kind, count, values, first in await self._all(
            FINDINGS_BY_SESSION, (json_list(list(pks)),)
        ):
            found[pk].append(KindCount(kind, count, values, first))
        return [found.get(pk, []) for pk in pks]

    async def secret_report(self, session_pk: int | None = None) -> list[ReportRow]:
        """Every secret value found (by fingerprint), in one session or in all."""
        return [
            ReportRow(
                kind,
                fingerprint,
                count,
                tuple(orjson.loads(sessions)),
                tuple(orjson.loads(fields)),
                first,
            )
            for kind, fingerprint, count, sessions, fields, first in await self._all(
                REPORT, (session_pk,)
            )
        ]

    # usage (see graph/store/usage.py)

    async def usage(
        self,
        dimensions: Sequence[Dimension],
        where: UsageFilter,
        clock: Clock,
        thresholds: Sequence[int],
    ) -> list[UsageCell]:
        """Sums of counted messages per group, model, UTC day and request-size bucket."""
        sql, params = usage_sql(dimensions, where, clock, thresholds)
        return [UsageCell.of(row, len(dimensions)) for row in await self._all(sql, params)]

    async def projects(self, thresholds: Sequence[int]) -> list[ProjectCells]:
        """Every project with its sessions' facts and its usage cells."""
        sql, params = projects_sql(thresholds)
        found: dict[str | None, ProjectCells] = {}
        for row in await self._all(sql, params):
            project = found.get(row[0])
            if project is None:
                project = ProjectCells(
                    row[0], row[1], int(row[2]), int(row[3] or 0), row[4], row[5]
                )
                found[row[0]] = project
            if row[8] is not None:  # the cell's UTC day: NULL for a project without usage
                project.cells.append(UsageCell.of(row[6:], 1))
        return list(found.values())

    async def filter_options(self) -> FilterOptions:
        """The distinct projects, models, git branches and sources, sorted."""
        values: dict[str, list[str]] = {"project": [], "model": [], "git_branch": [], "source": []}
        for kind, value in await self._all(filter_options_sql()):
            values[kind].append(value)
        return FilterOptions(*(sorted(v) for v in values.values()))

    async def schema_version(self) -> int:
        rows = await self._all("SELECT coalesce(max(version), 0) FROM schema_migrations")
        return int(rows[0][0])
