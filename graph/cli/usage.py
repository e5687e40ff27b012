"""``sessiongraph usage``: tokens and USD by day, week, month, session or billing block."""

from __future__ import annotations

from datetime import date, datetime, time, timedelta
from enum import StrEnum
from pathlib import Path
from typing import Annotated
from zoneinfo import ZoneInfo

import typer

from graph.cli.base import (
    AskPassphraseOption,
    DbOption,
    KeyFileOption,
    PassphraseFileOption,
    app,
    checked,
    existing_db,
    fail,
    key_material,
)
from graph.times import format_timestamp

__all__ = ["By", "Report"]


class Report(StrEnum):
    daily = "daily"
    weekly = "weekly"
    monthly = "monthly"
    session = "session"
    blocks = "blocks"


class By(StrEnum):
    model = "model"
    project = "project"
    branch = "branch"
    source = "source"


def _day(text: str, option: str) -> date:
    try:
        if len(text) == 8 and text.isdigit():
            return date(int(text[:4]), int(text[4:6]), int(text[6:]))
        return date.fromisoformat(text)
    except ValueError:
        fail(f"{option} takes a date, YYYY-MM-DD or YYYYMMDD, got {text!r}")
        raise AssertionError("unreachable") from None


def _moment(day: date, zone: ZoneInfo | None) -> str:
    """The stored form of the local midnight starting ``day``."""
    return format_timestamp(datetime.combine(day, time(), tzinfo=zone))


@app.command(rich_help_panel="Reading")
def usage(
    report: Annotated[Report, typer.Argument(help="How to group the rows.")] = Report.daily,
    by: Annotated[
        list[By] | None, typer.Option("--by", help="Break each row down further (repeatable).")
    ] = None,
    since: Annotated[
        str | None, typer.Option(help="From this day (YYYY-MM-DD), in the time zone.")
    ] = None,
    until: Annotated[
        str | None, typer.Option(help="Up to and including this day (YYYY-MM-DD).")
    ] = None,
    project: Annotated[
        list[str] | None, typer.Option(help="Only this Claude project (repeatable).")
    ] = None,
    tz: Annotated[
        str | None,
        typer.Option("--tz", help="IANA time zone days are cut in (default: this machine's)."),
    ] = None,
    prices: Annotated[
        Path | None,
        typer.Option(
            help="A price file over the bundled prices (default: $SESSIONGRAPH_PRICES, "
            "else prices.toml in the user config dir).",
            dir_okay=False,
        ),
    ] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON for scripts.")] = False,
    db: DbOption = None,
    key_file: KeyFileOption = None,
    passphrase_file: PassphraseFileOption = None,
    ask_passphrase: AskPassphraseOption = False,
) -> None:
    """Tokens and USD per day, week, month, session or 5-hour billing block, with totals.

    Each API message counts once, however many sessions replay it. Models without a
    price have no cost (never 0) and are listed as unpriced.
    """
    from graph.cli.usage_report import print_usage
    from graph.pricing import PriceBook
    from graph.store import UsageFilter
    from graph.usage import zone_named

    path = existing_db(db)
    key = key_material(key_file, passphrase_file, ask_passphrase, db=path)
    book = checked(lambda: PriceBook.load(prices))
    zone = checked(lambda: zone_named(tz))
    start = _moment(_day(since, "--since"), zone) if since else None
    end = _moment(_day(until, "--until") + timedelta(days=1), zone) if until else None
    where = UsageFilter(since=start, until=end, projects=tuple(project) if project else None)
    print_usage(path, key, report, by or [], where, zone, book, as_json=as_json)
