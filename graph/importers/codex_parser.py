"""Codex CLI rollout lines, read into batches: :class:`CodexParser`.

Each line is ``{timestamp, type, payload}`` (codex-rs ``RolloutLine`` / ``RolloutItem``):

- ``response_item`` lines are the conversation. A ``message`` from the user or developer
  is a message of its own (AGENTS.md and environment context are logged that way too);
  what the model did in a turn (its messages, reasoning, tool calls) is one assistant
  message per turn (its ``turn_id``; without one, what follows the last prompt); each
  tool output is a message of its own, tied to its call by ``call_id`` (see
  :func:`graph.blocks.codex.item_blocks`). Other items (``ghost_snapshot``, inter-agent
  messages, image generation) are events.
- ``event_msg`` lines are events typed by their payload's ``type``. ``user_message``,
  ``agent_message`` and ``agent_reasoning`` repeat what response items hold: they stay
  events, without a search document. ``thread_name_updated`` names the session.
- ``token_count`` events repeat unchanged totals, and forks replay their parent's: one
  whose ``total_token_usage`` changed adds its ``last_token_usage`` to its turn's
  assistant message (the record joins that message), any other stays an event. Older
  builds (0.50-0.53) report usage in ``turn.completed`` or a bare ``token_count``.
- Everything else (``session_meta``, ``turn_context``, ``compacted``, ...) is an event.

A sub-agent's rollout (its ``session_meta`` ``source`` is ``{"subagent": {"thread_spawn":
{"parent_thread_id": ...}}}``) is a sidechain thread of its parent's session, as a Claude
Code subagent's file is: its agent id is its own thread id, and the parent's
``collab_agent_spawn_end`` event names the call that started it. A rollout forked by the
user (``forked_from_id``, any other source) stays a session of its own, its metadata
naming the session it came from (``forkedFrom``).
"""

from __future__ import annotations

from typing import Any, BinaryIO, Final

import orjson

from graph.content import Record
from graph.importers.batch import Batch, TitleRecord
from graph.importers.lines import MAX_TOKENS, TranscriptParser, normalize_timestamp
from graph.inputs import NewEvent, NewMessage, TokenTotals
from graph.sources import Source

__all__ = ["SOURCE", "CodexParser", "is_context_prompt"]


SOURCE: Final = Source.CODEX.value  # ``sessions.source`` of its sessions
_ASSISTANT_ITEMS: Final = frozenset(
    {
        "reasoning",
        "function_call",
        "custom_tool_call",
        "local_shell_call",
        "web_search_call",
        "tool_search_call",
    }
)
_OUTPUT_ITEMS: Final = frozenset(
    {"function_call_output", "custom_tool_call_output", "tool_search_output"}
)
# What Codex logs as role=user messages that the user did not type.
_CONTEXT_PREFIXES: Final = (
    "<environment_context>",
    "<user_instructions>",
    "<INSTRUCTIONS>",
    "# AGENTS.md instructions",
    "<turn_aborted>",
)
_THREAD_NAME_RANK: Final = 3  # a name the user gave, like Claude Code's custom-title
# Keys made of a line of the file: a prompt (``u:<line>``) and a turn without an id,
# named by its prompt's line (``a:<line>``). They name a message of that file only.
_LINE_KEYS: Final = ("u:", "a:")
_TURN_KEY: Final = "t:"  # a turn named by its id: any later line can name it again


def is_context_prompt(text: str) -> bool:
    """Whether a role=user text is context Codex added (AGENTS.md, environment)."""
    return text.lstrip().startswith(_CONTEXT_PREFIXES)


def _count(value: Any) -> int:
    if value.__class__ is int and 0 <= value <= MAX_TOKENS:
        return int(value)
    return 0


def _totals(usage: Any) -> TokenTotals | None:
    """Codex token usage as totals: its input includes the cached part (cache reads);
    its output includes the reasoning tokens."""
    if not isinstance(usage, dict):
        return None
    cached = _count(usage.get("cached_input_tokens"))
    return TokenTotals(
        input=max(_count(usage.get("input_tokens", usage.get("prompt"))) - cached, 0),
        output=_count(usage.get("output_tokens", usage.get("completion"))),
        cache_read=cached,
        # Spelled both ways across builds (codex-rs TokenUsage.cache_write_tokens).
        cache_creation=_count(
            usage.get("cache_write_tokens", usage.get("cache_write_input_tokens"))
        ),
    )


def _add(a: TokenTotals, b: TokenTotals) -> TokenTotals:
    return TokenTotals(
        a.input + b.input,
        a.output + b.output,
        a.cache_read + b.cache_read,
        a.cache_creation + b.cache_creation,
        a.cache_creation_1h + b.cache_creation_1h,
    )


def _turn_of(item: Record) -> str | None:
    for holder in ("internal_chat_message_metadata_passthrough", "metadata"):
        meta = item.get(holder)
        if isinstance(meta, dict) and isinstance(meta.get("turn_id"), str) and meta["turn_id"]:
            return str(meta["turn_id"])
    return None


class CodexParser(TranscriptParser):
    """Codex rollout lines -> batches (the JSON reading is Claude Code's parser's)."""

    def __init__(
        self, path: str, *, previous_timestamp: str | None, fallback_timestamp: str
    ) -> None:
        super().__init__(
            path, previous_timestamp=previous_timestamp, fallback_timestamp=fallback_timestamp
        )
        self._meta_seen = False
        self._turn: str | None = None
        self._prompt_line = 0  # the last user or developer message: a turn without an id
        self._model: str | None = None
        self._last_total: Any = None
        # What each assistant message read so far amounts to: its token totals, and its
        # model (the first one in force at one of its records). A later batch that adds
        # to one starts from these, as if the lines before it were in the same batch.
        self._turn_usage: dict[str, TokenTotals] = {}
        self._turn_model: dict[str, str] = {}

    def resume(self, fh: BinaryIO, offset: int, state: str | None) -> None:
        """Take up the turn, model and token totals the lines before ``offset`` leave (a
        rollout's items do not all name their turn): from ``state``, saved by the last
        run, else by replaying those lines (a parse of them)."""
        saved = orjson.loads(state) if state is not None else None
        # A state saved before "turns" was kept lacks the models and the earlier turns'
        # totals: the lines are replayed instead.
        if isinstance(saved, dict) and "turns" in saved:
            self._restore(saved)
            return
        fh.seek(0)
        for line_no, raw in enumerate(fh.read(offset).splitlines(keepends=True), start=1):
            self.feed(line_no, raw)
        seen = self.batch
        self.batch = Batch(
            session_id=seen.session_id,
            agent_id=seen.agent_id,
            parent_session_id=seen.parent_session_id,
        )

    def take(self) -> Batch:
        """The batch so far, its line-made keys marked local (see ``NewMessage.local_key``):
        another session's ``a:2`` is another turn, not a copy of this one to count once."""
        batch = super().take()
        for message in batch.messages.values():
            if message.msg_key.startswith(_LINE_KEYS):
                message.local_key = True
        return batch

    def state(self) -> str | None:
        """What carries over past the lines fed so far (see :meth:`resume`), as JSON."""
        batch = self.batch
        return orjson.dumps(
            {
                "meta": self._meta_seen,
                "turn": self._turn,
                "prompt": self._prompt_line,
                "model": self._model,
                "total": self._last_total,
                "turns": self._turns(),
                "ts": self._previous_ts,
                "ids": [batch.session_id, batch.agent_id, batch.parent_session_id],
            }
        ).decode()

    def _restore(self, state: Any) -> None:
        self._meta_seen = bool(state.get("meta"))
        self._turn = state.get("turn")
        self._prompt_line = int(state.get("prompt") or 0)
        self._model = state.get("model")
        self._last_total = state.get("total")
        for key, (model, *usage) in (state.get("turns") or {}).items():
            if model is not None:
                self._turn_model[key] = model
            if usage:
                self._turn_usage[key] = TokenTotals(*usage)
        self._previous_ts = state.get("ts") or self._previous_ts
        session_id, agent_id, parent = state.get("ids") or (None, None, None)
        self.batch = Batch(session_id=session_id, agent_id=agent_id, parent_session_id=parent)

    def _turns(self) -> dict[str, list[Any]]:
        """The assistant messages later lines can still add to, as ``{key: [model,
        *usage]}``: every turn with an id, and the current one (a key made of a line is
        never named again once the next prompt comes)."""
        current = self._usage_key()
        keys = self._turn_model.keys() | self._turn_usage.keys()
        turns: dict[str, list[Any]] = {}
        for key in sorted(keys):
            if key.startswith(_TURN_KEY) or key == current:
                usage = self._turn_usage.get(key)
                turns[key] = [self._turn_model.get(key), *(usage or ())]
        return turns

    def _usage_key(self) -> str:
        """The message a token count without its own turn adds to: the current turn."""
        return f"t:{self._turn}" if self._turn else f"a:{self._prompt_line}"

    def _add(self, line_no: int, record: Record, batch: Batch, text: bytes | None) -> None:
        kind = record.get("type")
        kind = kind if kind.__class__ is str and kind else "unknown"
        ts = normalize_timestamp(record.get("timestamp")) or self._previous_ts
        self._previous_ts = ts
        payload = record.get("payload")
        item: Record = payload if isinstance(payload, dict) else {}
        subtype = item.get("type") if isinstance(item.get("type"), str) else None
        if kind == "session_meta":
            self._session(item, batch)
        elif kind == "turn_context":
            self._turn = item.get("turn_id") if isinstance(item.get("turn_id"), str) else None
            if isinstance(item.get("model"), str):
                self._model = item["model"]
        elif kind == "response_item" and self._response_item(
            line_no, record, item, ts, batch, text
        ):
            return
        elif kind == "event_msg" and subtype is not None:
            if self._event(line_no, record, item, subtype, ts, batch, text):
                return
            kind, subtype = subtype, None
        batch.events.append(
            NewEvent(
                seq=line_no, type=kind, timestamp=ts, record=record, subtype=subtype, text=text
            )
        )

    def _session(self, item: Record, batch: Batch) -> None:
        # A fork or sub-agent file replays its parent's session_meta after its own.
        if self._meta_seen:
            return
        self._meta_seen = True
        own = _str(item.get("id"))
        parent = _spawned_by(item)
        if parent is not None and own is not None:  # a sub-agent: a thread of its parent
            batch.parent_session_id, batch.agent_id = parent, own
        else:
            batch.session_id = own or batch.session_id
            batch.forked_from = _str(item.get("forked_from_id"))
        batch.cwd = _str(item.get("cwd")) or batch.cwd
        batch.version = _str(item.get("cli_version")) or batch.version
        git = item.get("git")
        if isinstance(git, dict):
            batch.git_branch = _str(git.get("branch")) or batch.git_branch

    def _response_item(
        self,
        line_no: int,
        record: Record,
        item: Record,
        ts: str,
        batch: Batch,
        text: bytes | None,
    ) -> bool:
        """Add a response item to its message; False if it is an event."""
        # Not a string (a list, an object): an event of an unknown item, never a key.
        kind = _str(item.get("type"))
        if kind == "message" and item.get("role") != "assistant":
            role = _str(item.get("role")) or "user"
            self._prompt_line = line_no
            self._put(batch, f"u:{line_no}", role, line_no, record, ts, text)
        elif kind == "message" or kind in _ASSISTANT_ITEMS:
            turn = _turn_of(item) or self._turn
            key = f"t:{turn}" if turn else f"a:{self._prompt_line}"
            self._put(batch, key, "assistant", line_no, record, ts, text)
        elif kind in _OUTPUT_ITEMS:
            call = _str(item.get("call_id"))
            self._put(
                batch, f"o:{call}" if call else f"l:{line_no}", "user", line_no, record, ts, text
            )
        else:
            return False
        return True

    def _put(
        self,
        batch: Batch,
        key: str,
        role: str,
        line_no: int,
        record: Record,
        ts: str,
        text: bytes | None,
        usage: TokenTotals | None = None,
    ) -> None:
        model = self._model_of(key) if role == "assistant" else None
        existing = batch.messages.get(key)
        if existing is not None:
            existing.add(line_no, record, text)
            existing.model = model
            if usage is not None:
                existing.usage = usage
            return
        if role == "assistant" and usage is None:
            # A turn an earlier batch began: its totals so far, not none (the store
            # takes a message's usage and model from its latest records).
            usage = self._turn_usage.get(key)
        batch.messages[key] = NewMessage(
            msg_key=key,
            role=role,
            timestamp=ts,
            records=[(line_no, record)],
            model=model,
            usage=usage,
            texts=None if text is None else [text],
            source=SOURCE,
        )

    def _model_of(self, key: str) -> str | None:
        """An assistant message's model: the first one in force at any of its records."""
        model = self._turn_model.get(key)
        if model is None and self._model is not None:
            model = self._turn_model[key] = self._model
        return model

    def _event(
        self,
        line_no: int,
        record: Record,
        item: Record,
        subtype: str,
        ts: str,
        batch: Batch,
        text: bytes | None,
    ) -> bool:
        """Note what an event_msg says; True if it joined a message (usage)."""
        if subtype == "task_started" and isinstance(item.get("turn_id"), str):
            self._turn = item["turn_id"]
        elif subtype == "thread_name_updated":
            name = _str(item.get("thread_name"))
            if name is not None:
                batch.titles.append(TitleRecord(_THREAD_NAME_RANK, name, None, None, None))
        elif subtype == "token_count":
            return self._token_count(line_no, record, item, ts, batch, text)
        elif subtype == "collab_agent_spawn_end":  # which call started which sub-agent
            agent, call = _str(item.get("new_thread_id")), _str(item.get("call_id"))
            if agent and call:
                batch.agent_links[agent] = call
        elif subtype == "turn.completed":  # 0.51-0.53: usage of the turn, once
            usage = _totals(item.get("usage"))
            if usage is not None:
                self._count_usage(line_no, record, ts, batch, text, usage, replace=True)
                return True
        return False

    def _token_count(
        self, line_no: int, record: Record, item: Record, ts: str, batch: Batch, text: bytes | None
    ) -> bool:
        info = item.get("info")
        if not isinstance(info, dict):
            return False
        total = info.get("total_token_usage")
        last = _totals(info.get("last_token_usage"))
        if total is None and last is None:  # 0.50: {prompt, completion} of the turn
            usage = _totals(info)
            if usage is None or usage == TokenTotals():
                return False
            self._count_usage(line_no, record, ts, batch, text, usage, replace=True)
            return True
        if total == self._last_total or last is None:
            return False  # a repeat: the same totals again
        self._last_total = total
        self._count_usage(line_no, record, ts, batch, text, last, replace=False)
        return True

    def _count_usage(
        self,
        line_no: int,
        record: Record,
        ts: str,
        batch: Batch,
        text: bytes | None,
        usage: TokenTotals,
        *,
        replace: bool,
    ) -> None:
        # An old build's report of a whole turn is a message of its own.
        key = f"l:{line_no}" if replace and not self._turn else self._usage_key()
        so_far = None if replace else self._turn_usage.get(key)
        total = usage if so_far is None else _add(so_far, usage)
        self._turn_usage[key] = total
        self._put(batch, key, "assistant", line_no, record, ts, text, total)


def _str(value: Any) -> str | None:
    return value if value.__class__ is str and value else None


def _spawned_by(meta: Record) -> str | None:
    """The thread that spawned a sub-agent's rollout (codex-rs ``SessionSource::SubAgent``:
    ``{"subagent": {"thread_spawn": {"parent_thread_id": ...}}}``, or a top-level
    ``parent_thread_id`` in later builds); ``None`` for any other rollout."""
    source = meta.get("source")
    sub = source.get("subagent") if isinstance(source, dict) else None
    if sub is None:
        return None
    spawn = sub.get("thread_spawn") if isinstance(sub, dict) else None
    parent = spawn.get("parent_thread_id") if isinstance(spawn, dict) else None
    return _str(parent) or _str(meta.get("parent_thread_id"))
