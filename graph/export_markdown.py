"""Markdown rendering for ``export --format markdown``: a transcript a person can read.

Text is shown as written, except that its headings are moved below the message's own
(a ``## Problem`` in a message would otherwise sit beside the export's sections); tool
calls show their tool and the input fields that say what
they did; tool results and long inputs are truncated; thinking is folded away in a
``<details>`` block. Timeline events are reduced to the few that matter to a reader
(compaction, summaries, titles, system notices); progress and snapshots are left out.
"""

from __future__ import annotations

import re
from typing import Any, Final

import orjson
from markdown_it import MarkdownIt

from graph.content import Block, Record, tool_result_text

__all__ = [
    "MESSAGE_LEVEL",
    "clip",
    "fence",
    "nest_headings",
    "render_event",
    "render_message",
    "session_header",
    "truncate",
]

# The export's headings: # the session, ## a thread, ### a message; text goes below.
MESSAGE_LEVEL: Final = 3

RESULT_CHARS: Final = 1_500
RESULT_LINES: Final = 30
INPUT_CHARS: Final = 300
# The input fields that best say what a tool call did, in order of preference.
_INPUT_KEYS: Final = (
    "command",
    "file_path",
    "path",
    "pattern",
    "url",
    "query",
    "description",
    "prompt",
    "subagent_type",
    "skill",
)
_BACKTICKS = re.compile(r"`+")
_ATX = re.compile(r"^( {0,3})#{1,6}(?=\s|$)")
_PARSER = MarkdownIt("commonmark")


def nest_headings(text: str, below: int = MESSAGE_LEVEL) -> str:
    """``text`` with each of its headings ``below`` levels deeper (6 at most).

    Headings are found by a CommonMark parser, so a ``#`` line in a code block stays
    as it is; an underlined (setext) heading becomes a ``#`` one.
    """
    lines: list[str | None] = list(text.split("\n"))
    for token in _PARSER.parse(text):
        if token.type != "heading_open" or token.map is None or token.level != 0:
            continue  # nested in a list or quote: not beside the export's headings
        start, end = token.map
        marks = "#" * min(int(token.tag[1:]) + below, 6)
        if token.markup.startswith("#"):
            lines[start] = _ATX.sub(rf"\g<1>{marks}", lines[start] or "", count=1)
        else:  # setext: the text lines, then the underline
            words = " ".join((line or "").strip() for line in lines[start : end - 1])
            lines[start:end] = [f"{marks} {words}", *[None] * (end - start - 1)]
    return "\n".join(line for line in lines if line is not None)


def truncate(text: str, chars: int, lines: int | None = None) -> str:
    """``text`` cut to ``chars`` characters and ``lines`` lines, saying how much was cut."""
    cut = text
    if lines is not None:
        parts = cut.split("\n")
        if len(parts) > lines:
            cut = "\n".join(parts[:lines])
    if len(cut) > chars:
        cut = cut[:chars]
    if cut == text:
        return text
    hidden = text.count("\n") - cut.count("\n")
    more = f"{hidden} more lines" if hidden > 0 else f"{len(text) - len(cut)} more characters"
    return f"{cut.rstrip()}\n… ({more})"


def clip(text: str, chars: int) -> str:
    """``text`` on one line, cut to at most ``chars`` characters (an ellipsis says so)."""
    line = " ".join(text.split())
    return line if len(line) <= chars else line[: chars - 1] + "…"


def fence(text: str, info: str = "") -> str:
    """``text`` in a code fence longer than any run of backticks inside it."""
    longest = max((len(run) for run in _BACKTICKS.findall(text)), default=0)
    ticks = "`" * max(3, longest + 1)
    return f"{ticks}{info}\n{text}\n{ticks}\n"


def _inline(text: str) -> str:
    text = " ".join(text.split())
    return f"`` {text} ``" if "`" in text else f"`{text}`"


def session_header(session: dict[str, Any]) -> str:
    """The title and a list of the session's facts."""
    title = session.get("title") or f"Session {session['sessionId']}"
    usage = session["tokenUsage"]
    facts = [
        ("Session", _inline(session["sessionId"])),
        ("Project", session.get("project")),
        ("Directory", session.get("cwd") and _inline(session["cwd"])),
        ("Branch", session.get("gitBranch")),
        ("Started", session.get("startedAt")),
        ("Ended", session.get("endedAt")),
        ("Models", ", ".join(session.get("models") or []) or None),
        (
            "Tokens",
            f"{usage['input']} in, {usage['output']} out, {usage['cacheRead']} cache read, "
            f"{usage['cacheCreation']} cache write",
        ),
    ]
    lines = [f"# {' '.join(str(title).split())}", ""]
    lines += [f"- **{name}:** {value}" for name, value in facts if value]
    if session.get("summary"):
        lines += ["", f"> {' '.join(str(session['summary']).split())}"]
    return "\n".join(lines) + "\n"


def _when(timestamp: str) -> str:
    return timestamp.replace("T", " ")[:19]


def _tool_call(block: Block) -> str:
    name = block.get("name") or "tool"
    tool_input = block.get("input")
    summary = ""
    if isinstance(tool_input, dict):
        for key in _INPUT_KEYS:
            value = tool_input.get(key)
            if isinstance(value, str) and value:
                summary = f" {key}: {_inline(truncate(value, INPUT_CHARS))}"
                break
        else:
            if tool_input:
                try:
                    dumped = orjson.dumps(tool_input).decode()
                except orjson.JSONEncodeError:  # too deep, or an integer beyond 64 bits
                    dumped = "…"
                summary = f" {_inline(truncate(dumped, INPUT_CHARS))}"
    return f"**Tool call** `{name}`{summary}\n"


def _tool_result(block: Block) -> str:
    text = truncate(tool_result_text(block.get("content")), RESULT_CHARS, RESULT_LINES)
    label = "**Tool error**" if block.get("is_error") else "**Tool result**"
    return f"{label}\n\n{fence(text)}" if text.strip() else f"{label} (empty)\n"


def _thinking(block: Block) -> str:
    text = block.get("thinking")
    if not isinstance(text, str) or not text.strip():
        return ""
    quoted = "\n".join(f"> {line}" if line else ">" for line in text.strip().split("\n"))
    return f"<details><summary>Thinking</summary>\n\n{quoted}\n\n</details>\n"


def _block(block: Block) -> str:
    kind = block.get("type")
    if kind == "text":
        text = block.get("text")
        if not isinstance(text, str) or not text.strip():
            return ""
        return f"{nest_headings(text.strip())}\n"
    if kind == "thinking":
        return _thinking(block)
    if kind == "redacted_thinking":
        return "*(redacted thinking)*\n"
    if kind == "tool_use":
        return _tool_call(block)
    if kind == "tool_result":
        return _tool_result(block)
    if kind == "image":
        return "*[image]*\n"
    return f"*[{kind or 'unknown'} block]*\n"


def render_message(role: str, timestamp: str, model: str | None, blocks: list[Block]) -> str:
    """One message: a heading with who (and the model, as its format shows it) and
    when, then its blocks in order."""
    parts = [_block(block) for block in blocks]
    body = "\n".join(part for part in parts if part)
    if not body:
        return ""
    only_results = all(block.get("type") == "tool_result" for block in blocks)
    who = "Tool output" if role == "user" and only_results else role.capitalize()
    if model:
        who += f" ({model})"
    return f"\n{'#' * MESSAGE_LEVEL} {who} · {_when(timestamp)}\n\n{body}"


def render_event(record: Record, timestamp: str) -> str:
    """A one-line note for the events a reader cares about; empty for the rest."""
    kind = record.get("type")
    note = None
    if kind == "system":
        subtype = record.get("subtype")
        if subtype == "compact_boundary":
            note = "Conversation compacted"
        elif subtype in ("turn_duration", "stop_hook_summary"):
            return ""
        else:
            content = record.get("content")
            note = content if isinstance(content, str) and content else subtype
    elif kind == "summary":
        note = f"Summary: {record.get('summary')}"
    elif kind == "custom-title":
        note = f"Renamed: {record.get('customTitle') or record.get('title')}"
    elif kind == "ai-title":
        note = f"Title: {record.get('aiTitle') or record.get('title')}"
    if not note:
        return ""
    text = truncate(" ".join(str(note).split()), INPUT_CHARS)
    return f"\n*{_when(timestamp)} · {text}*\n"
