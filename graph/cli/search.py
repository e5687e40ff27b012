"""Commands over the index: search (the GraphQL search field, in a terminal) and doctor."""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated, Any

import orjson
import typer

from graph.cli.base import (
    AskPassphraseOption,
    DbOption,
    KeyFileOption,
    PassphraseFileOption,
    SourceOption,
    app,
    existing_db,
    fail,
    key_material,
    run,
)
from graph.cli.ops import backup_age

if TYPE_CHECKING:
    from graph.retention import RetentionRisk

__all__: list[str] = []

_SEARCH = """
query Search($q: String!, $first: Int!, $filter: SearchFilter, $scopes: [SearchScope!]) {
  search(query: $q, first: $first, filter: $filter, scopes: $scopes) {
    totalCount
    edges { node {
      score snippet field highlights { start end }
      node { __typename ... on Message { role timestamp } ... on Event { type timestamp }
             ... on Session { startedAt } }
      session { sessionId project title resumeCommand }
    } }
  }
}
"""


@app.command(rich_help_panel="Reading")
def search(
    query: Annotated[str, typer.Argument(help='Words, "phrases", prefix*, AND/OR/NOT, ...')],
    db: DbOption = None,
    project: Annotated[str | None, typer.Option(help="Only this Claude project.")] = None,
    session: Annotated[str | None, typer.Option(help="Only this session (sessionId).")] = None,
    source: SourceOption = None,
    events: Annotated[
        bool, typer.Option("--events", help="Search events too (not progress records).")
    ] = False,
    limit: Annotated[int, typer.Option(help="How many hits.", min=1, max=500)] = 20,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON for scripts.")] = False,
    key_file: KeyFileOption = None,
    passphrase_file: PassphraseFileOption = None,
    ask_passphrase: AskPassphraseOption = False,
) -> None:
    """Full-text search, ranked: the same search as the GraphQL `search` field."""
    from rich.console import Console
    from rich.table import Table
    from rich.text import Text

    from graph.cli import queries

    path = existing_db(db)
    key = key_material(key_file, passphrase_file, ask_passphrase, db=path)
    filter_: dict[str, Any] = {}
    if project:
        filter_["project"] = project
    if session:
        filter_["sessionId"] = session
    if source:
        filter_["source"] = source.name
    scopes = ["MESSAGES", "SESSIONS", "EVENTS"] if events else None
    variables = {"q": query, "first": limit, "filter": filter_ or None, "scopes": scopes}
    result = run(queries.query(path, key, _SEARCH, variables, "search"))
    if as_json:
        typer.echo(orjson.dumps(result, option=orjson.OPT_INDENT_2).decode())
        return
    console = Console(highlight=False)
    hits = result["edges"]
    if not hits:
        console.print(f"no hits for {query!r}")
        return
    table = Table(show_lines=True, title=f"{len(hits)} of {result['totalCount']} hits")
    table.add_column("score", justify="right")
    # Folded, not cut: the resume command is there to be copied whole.
    table.add_column("where", overflow="fold")
    table.add_column("snippet", ratio=1)
    for edge in hits:
        hit = edge["node"]
        node, session_ = hit["node"] or {}, hit["session"] or {}
        snippet = Text(hit["snippet"] or "")
        for mark in hit["highlights"]:
            snippet.stylize("bold yellow", mark["start"], mark["end"])
        when = (node.get("timestamp") or node.get("startedAt") or "")[:16].replace("T", " ")
        kind = node.get("role") or node.get("type") or "session"
        where = Text(f"{when}\n{kind} {(hit['field'] or '').lower()}\n", style="dim")
        where.append(session_.get("resumeCommand") or "", style="cyan")
        table.add_row(f"{hit['score']:.2f}", where, snippet)
    console.print(table)


@app.command(rich_help_panel="Maintenance")
def doctor(
    db: DbOption = None,
    repair: Annotated[
        bool,
        typer.Option(
            "--repair",
            help="Recompute stored counts and rebuild the search index from the rows first.",
        ),
    ] = False,
    key_file: KeyFileOption = None,
    passphrase_file: PassphraseFileOption = None,
    ask_passphrase: AskPassphraseOption = False,
) -> None:
    """Check the database: SQLite integrity, foreign keys, the FTS5 index, stored counts.

    An encrypted database also has every sealed value authenticated with the key, and is
    checked for what an interrupted encrypt or rotate-key can leave (free pages not yet
    vacuumed, plaintext copies beside it). Also says which transcripts Claude Code will
    delete within a week that are not fully imported yet (its cleanupPeriodDays setting).
    """
    from graph.retention import retention_risk
    from graph.store import Store
    from graph.store.snapshots import default_backup_dir

    path = existing_db(db)
    key = key_material(key_file, passphrase_file, ask_passphrase, db=path)

    async def go() -> tuple[list[str], RetentionRisk]:
        # Without --repair, doctor reports what an interrupted re-seal left, not fixes it.
        store = await Store.open(path, key=key, cleanup=repair)
        try:
            if repair:
                count = await store.repair()
                typer.echo(f"recounted sessions and reindexed {count:,} rows")
            return await store.check(), await retention_risk(store)
        finally:
            await store.close()

    problems, risk = run(go())
    known = backup_age(path)
    typer.echo(known or f"backups: none in {default_backup_dir(path)} (`sessiongraph backup`)")
    # Not a problem of the database: said, but it does not fail the check.
    typer.echo(f"retention: {risk.summary()}")
    for at_risk in risk.files[:5]:
        typer.echo(f"  {at_risk}")
    for problem in problems:
        typer.echo(problem)
    if problems:
        fail(f"{len(problems)} problem(s) found in {path}")
    typer.echo(f"{path}: no problems found")
