"""``sessiongraph mcp``: the store as Model Context Protocol tools, over stdio, read-only.

Agents are the natural readers of their own history ("how did we fix this last
month?"), and they speak MCP. The tools are thin: ``search`` and ``list_sessions`` run
the same GraphQL queries a client would (same query language, filters, cursors and
errors), ``get_session`` pages the markdown transcript of :mod:`graph.export_markdown`, ``usage``
reports tokens and cost like ``sessiongraph usage``.
Every output is bounded; what does not fit comes with a cursor for the next call.
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING, Annotated, Any, Final

from mcp.server.mcpserver import MCPServer
from mcp.server.mcpserver.exceptions import ToolError
from mcp.types import ToolAnnotations
from pydantic import Field

from graph import __version__
from graph.errors import SessiongraphError
from graph.export_markdown import clip
from graph.importers.files import encode_project
from graph.mcp.transcript import transcript_page
from graph.schema import Context, build_schema
from graph.schema.errors import unreadable_only
from graph.settings import ServerSettings

if TYPE_CHECKING:
    from graph.store import Store

__all__ = ["build_server"]

logger = logging.getLogger(__name__)

INSTRUCTIONS: Final = (
    "sessiongraph holds this user's coding-agent sessions (Claude Code: prompts, answers, "
    "thinking, tool calls, subagents), including sessions Claude Code itself has already "
    "deleted. Use it when the user refers to earlier work ('how did we fix this last time?', "
    "'what did we decide about X?', an error seen before) or to pick up where a session left "
    "off. Start with `search`; read a hit's session with `get_session`; browse a project's "
    "recent sessions with `list_sessions`; token and cost figures come from `usage`. "
    "Read-only."
)
SEARCH_HELP: Final = (
    "Full-text search over every stored session (prompts, answers, thinking, tool calls and "
    "outputs, titles), best hits first. Use it first whenever the user mentions earlier work, "
    "a past error, a file, function or decision.\n"
    'Query language: words (all must match), "exact phrases", prefix*, OR, NOT, (groups), '
    "NEAR(a b, 10), and field:term with fields text, thinking, input, output, title.\n"
    "Each hit gives the session id (pass it to get_session to read the conversation around "
    "it), when, a snippet, and the command that resumes the session in Claude Code. "
    "Pass the cursor a result ends with to get the next hits."
)
LIST_HELP: Final = (
    "Stored sessions, newest first: id, title, project, start and end, message count, resume "
    "command. Use it to see what was done recently (in a project), or when you have no words "
    "to search for. Pass the cursor a result ends with to get older sessions."
)
GET_HELP: Final = (
    "One session: its facts (title, project, directory, branch, times, models, tokens) and "
    "its transcript as markdown (the main conversation, then each subagent; long tool output "
    "shortened), max_chars characters at a time. When the result ends with a cursor, call "
    "again with it for the next page. Get session ids from search or list_sessions."
)
USAGE_HELP: Final = (
    "Tokens and cost (USD) of the stored sessions, grouped by any of day, week, month, "
    "project, model, session, source and git_branch (e.g. ['day'] for a daily report, "
    "['project', 'model'] for where the money went), with a totals line. Each API message "
    "is counted once, even when resumed or forked sessions replay it. Use it when the user "
    "asks what their agent usage costs or which project or model used the most. A cost "
    "shown as 'unpriced' has a model with no known price."
)
_READ_ONLY: Final = ToolAnnotations(read_only_hint=True, open_world_hint=False)

_SEARCH: Final = """
query Search($q: String!, $first: Int!, $after: String, $filter: SearchFilter) {
  search(query: $q, first: $first, after: $after, filter: $filter,
         scopes: [MESSAGES, SESSIONS]) {
    totalCount
    pageInfo { hasNextPage endCursor }
    edges { node {
      snippet field
      node { __typename ... on Message { role timestamp } ... on Session { startedAt } }
      session { sessionId title project startedAt resumeCommand historyOnly }
    } }
  }
}
"""
_SESSIONS: Final = """
query Sessions($first: Int!, $after: String, $filter: SessionFilter) {
  sessions(first: $first, after: $after, filter: $filter) {
    totalCount
    pageInfo { hasNextPage endCursor }
    edges { node {
      sessionId title project cwd gitBranch startedAt endedAt messageCount
      conversationCount resumeCommand historyOnly
    } }
  }
}
"""

_USAGE: Final = """
query Usage($by: [UsageDimension!]!, $filter: UsageFilter, $tz: String, $first: Int!,
            $after: String) {
  usage(groupBy: $by, filter: $filter, timeZone: $tz, first: $first, after: $after) {
    totalCount
    pageInfo { hasNextPage endCursor }
    nodes { ...Row }
    totals { ...Row }
  }
}
fragment Row on UsageRow {
  day week month project model sessionId source gitBranch
  tokenUsage { input output cacheRead cacheCreation total }
  costUsd unpricedModels messageCount sessionCount
}
"""
_DIMENSIONS: Final = ("day", "week", "month", "project", "model", "session", "source", "git_branch")
_KEYS: Final = {"session": "sessionId", "git_branch": "gitBranch"}

Project = Annotated[
    str | None,
    Field(
        description="Only this project: its directory (/home/me/src/app) or Claude's project "
        "folder name (-home-me-src-app)."
    ),
]
Since = Annotated[
    str | None,
    Field(description="Only from this moment on: an ISO 8601 date or time, e.g. 2026-01-31."),
]
Cursor = Annotated[
    str | None, Field(description="The cursor a previous call ended with, for the next page.")
]


def build_server(store: Store) -> MCPServer:
    """An MCP server whose tools read ``store`` (open, and left open: the caller owns it)."""
    server: MCPServer = MCPServer(
        name="sessiongraph", instructions=INSTRUCTIONS, version=__version__, log_level="WARNING"
    )
    # Made once: the settings read the price file, and a call should not read it again.
    settings = ServerSettings()
    schema = build_schema(settings)

    async def graphql(query: str, variables: dict[str, Any]) -> dict[str, Any]:
        context = Context(store=store, settings=settings, request_id="mcp")
        result = await schema.execute(query, variable_values=variables, context_value=context)
        if result.errors and unreadable_only(result.errors) and result.data is not None:
            # A value that does not authenticate is left out (null), as the API leaves it:
            # the rest of the answer still serves the agent. The log says what is wrong.
            first = result.errors[0].message
            logger.warning("%d value(s) do not authenticate: %s", len(result.errors), first)
        elif result.errors:
            # The caller's mistakes (a bad query or cursor, a value that is not a date:
            # errors of ours, or of the request before it ran) come back as the API words
            # them; anything else is a bug, which the SDK reports without its details.
            error = result.errors[0]
            original = error.original_error
            if original is None or isinstance(original, SessiongraphError) or not error.path:
                raise ToolError(error.message)
            raise original
        assert result.data is not None
        return result.data

    @server.tool(
        name="search", description=SEARCH_HELP, annotations=_READ_ONLY, structured_output=False
    )
    async def search(
        query: Annotated[str, Field(description="What to look for (see the query language).")],
        project: Project = None,
        since: Since = None,
        session_id: Annotated[str | None, Field(description="Only within this session.")] = None,
        limit: Annotated[int, Field(ge=1, le=50, description="Hits per page.")] = 10,
        cursor: Cursor = None,
    ) -> str:
        search_filter = {"project": _project(project), "since": since, "sessionId": session_id}
        variables = {
            "q": query,
            "first": limit,
            "after": cursor,
            "filter": {k: v for k, v in search_filter.items() if v is not None} or None,
        }
        data = (await graphql(_SEARCH, variables))["search"]
        return _hits(query, data)

    @server.tool(
        name="list_sessions", description=LIST_HELP, annotations=_READ_ONLY, structured_output=False
    )
    async def list_sessions(
        project: Project = None,
        since: Since = None,
        limit: Annotated[int, Field(ge=1, le=100, description="Sessions per page.")] = 20,
        cursor: Cursor = None,
    ) -> str:
        session_filter = {"project": _project(project), "startedAfter": since}
        variables = {
            "first": limit,
            "after": cursor,
            "filter": {k: v for k, v in session_filter.items() if v is not None} or None,
        }
        data = (await graphql(_SESSIONS, variables))["sessions"]
        return _sessions(data)

    @server.tool(
        name="usage", description=USAGE_HELP, annotations=_READ_ONLY, structured_output=False
    )
    async def usage(
        group_by: Annotated[
            list[str],
            Field(
                min_length=1,
                description="Dimensions, any of: " + ", ".join(_DIMENSIONS) + ".",
            ),
        ],
        project: Project = None,
        since: Since = None,
        until: Annotated[
            str | None, Field(description="Only before this moment: an ISO 8601 date or time.")
        ] = None,
        time_zone: Annotated[
            str | None,
            Field(description="IANA zone days and weeks are cut in (default: the server's)."),
        ] = None,
        limit: Annotated[int, Field(ge=1, le=200, description="Groups per page.")] = 50,
        cursor: Cursor = None,
    ) -> str:
        unknown = [d for d in group_by if d not in _DIMENSIONS]
        if unknown:
            raise ToolError(f"cannot group by {', '.join(unknown)}: use {', '.join(_DIMENSIONS)}")
        usage_filter = {
            "projects": [_project(project)] if project else None,
            "since": since,
            "until": until,
        }
        variables = {
            "by": [d.upper() for d in group_by],
            "filter": {k: v for k, v in usage_filter.items() if v is not None} or None,
            "tz": time_zone,
            "first": limit,
            "after": cursor,
        }
        data = (await graphql(_USAGE, variables))["usage"]
        return _usage(group_by, data)

    @server.tool(
        name="get_session", description=GET_HELP, annotations=_READ_ONLY, structured_output=False
    )
    async def get_session(
        session_id: Annotated[str, Field(description="The session's id (a Claude sessionId).")],
        cursor: Cursor = None,
        max_chars: Annotated[
            int, Field(ge=1_000, le=100_000, description="At most this many characters.")
        ] = 20_000,
    ) -> str:
        try:
            text, next_cursor = await transcript_page(store, session_id, cursor, max_chars)
        except SessiongraphError as exc:
            raise ToolError(str(exc)) from None
        if next_cursor is None:
            return text
        return f'{text}\n---\nMore of this session: call get_session with cursor="{next_cursor}"\n'

    return server


def _project(value: str | None) -> str | None:
    """A directory becomes the project folder name Claude Code gives it."""
    return encode_project(value) if value and "/" in value else value


def _when(value: str | None) -> str:
    return value.replace("T", " ")[:16] if value else "?"


def _more(page: dict[str, Any], what: str, tool: str) -> str:
    info = page["pageInfo"]
    if not info["hasNextPage"]:
        return ""
    return f'\nMore {what}: call {tool} with cursor="{info["endCursor"]}"\n'


# What one line of a listing shows of a session's title, folder and branch, and of its
# resume command (which holds the folder): a title can be any size, the output is bounded.
_TITLE_CHARS: Final = 200
_PLACE_CHARS: Final = 300


def _title(session: dict[str, Any]) -> str:
    return clip(session.get("title") or "(untitled)", _TITLE_CHARS)


def _place(value: str | None) -> str:
    return clip(value, _PLACE_CHARS) if value else "?"


def _resume(session: dict[str, Any]) -> str:
    return clip(session.get("resumeCommand") or "?", 2 * _PLACE_CHARS)


def _hits(query: str, data: dict[str, Any]) -> str:
    edges = data["edges"]
    if not edges:
        return f"No hits for {query!r}."
    lines = [f"{data['totalCount']} hits for {query!r}; the best {len(edges)}:", ""]
    for number, edge in enumerate(edges, 1):
        hit = edge["node"]
        node, session = hit["node"] or {}, hit["session"] or {}
        kind = f"{node['role']} message" if node.get("role") else "session title"
        when = _when(node.get("timestamp") or node.get("startedAt"))
        only = " (prompt history only)" if session.get("historyOnly") else ""
        lines.append(
            f"{number}. {_title(session)} · session {session.get('sessionId')} · "
            f"{_place(session.get('project'))} · {when} · {kind}{only}"
        )
        snippet = " ".join((hit.get("snippet") or "").split())
        if snippet:
            lines.append(f"   > {snippet}")
        lines.append(f"   resume: {_resume(session)}")
    return "\n".join(lines) + "\n" + _more(data, "hits", "search")


def _sessions(data: dict[str, Any]) -> str:
    edges = data["edges"]
    if not edges:
        return "No sessions."
    lines = [f"{data['totalCount']} sessions; the newest {len(edges)}:", ""]
    for edge in edges:
        s = edge["node"]
        only = ", prompt history only" if s["historyOnly"] else ""
        branch = f" ({_place(s['gitBranch'])})" if s.get("gitBranch") else ""
        lines.append(
            f"- {_title(s)} · session {s['sessionId']}\n"
            f"  {_place(s.get('cwd') or s.get('project'))}{branch} · "
            f"{_when(s['startedAt'])} to {_when(s['endedAt'])} · "
            f"{s['messageCount']} messages, {s['conversationCount']} threads{only}\n"
            f"  resume: {_resume(s)}"
        )
    return "\n".join(lines) + "\n" + _more(data, "sessions", "list_sessions")


def _cost(row: dict[str, Any]) -> str:
    cost = row["costUsd"]
    shown = "unpriced" if cost is None else f"${cost:,.2f}"
    if cost is not None and row["unpricedModels"]:
        shown += " (+ unpriced " + ", ".join(row["unpricedModels"]) + ")"
    return shown


def _usage(group_by: list[str], data: dict[str, Any]) -> str:
    """One line a group: its keys, tokens, cost, messages; then the totals."""

    def line(label: str, row: dict[str, Any]) -> str:
        tokens = row["tokenUsage"]
        return (
            f"- {label}: {tokens['total']:,} tokens (input {tokens['input']:,}, output "
            f"{tokens['output']:,}, cache read {tokens['cacheRead']:,}, cache write "
            f"{tokens['cacheCreation']:,}) · {_cost(row)} · {row['messageCount']:,} "
            f"messages in {row['sessionCount']:,} sessions"
        )

    rows = data["nodes"]
    if not rows:
        return "No usage matches."
    lines = [f"{data['totalCount']} groups by {', '.join(group_by)}:", ""]
    for row in rows:
        keys = [str(row[_KEYS.get(d, d)] or "?") for d in group_by]
        lines.append(line(" · ".join(keys), row))
    lines += ["", line("total", data["totals"])]
    return "\n".join(lines) + "\n" + _more(data, "groups", "usage")
