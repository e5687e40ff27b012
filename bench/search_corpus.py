"""Sessions for the search benchmark, made in memory and written through ``Store.write()``.

No JSONL on disk: a search database of 1M messages would need ~6 GB of transcripts and
the importer's time; what the search benchmark needs is the index the store's write hook
builds from realistic records, so the records go straight to the write API (one write
transaction per session, as the importer does), and the search hook tokenizes them.

The text is Zipf-distributed over a vocabulary of English-ish words (function words
first, then developer words, then a long tail of made-up words), with code-ish tokens
among them (``snake_case``, ``camelCase``, ``dotted.names``, ``file/paths.py``) and a
few two-word collocations that occur as units. Like :mod:`bench.text`, it is sampled once
into pools and handed out as word-aligned slices, which keeps a 1M-message fill bound by
the store, not by the generator. Planted on purpose, so that each query has a known kind:

- :data:`COMMON_TERM` is a top-ranked developer word: it matches a large share of
  messages (the bm25-over-many-matches case);
- :data:`RARE_TERM` is in no pool: it is planted in :data:`RARE_DOCS` random messages
  (each time in the next one with prose, so a tiny corpus may end with fewer);
- :data:`PHRASE` is one of the collocations (its two words also occur apart);
- :data:`PREFIX` matches the ``migrat*`` family (migration, migrate, migrator...).

Message shapes are Claude Code's: a user prompt (string content), assistant API
messages split over one record per block (thinking, text, tool_use) sharing
``message.id``, and tool results as user records with ``tool_result`` blocks of
200-2,000 characters (the ``tool_output`` field: indexed, but not searched by default).
About one timeline event per three messages (hook progress, system). The same
``(messages, seed)`` always writes the same rows.
"""

from __future__ import annotations

import bisect
import itertools
import random
import time
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any, Final

from graph.store import NewConversation, NewEvent, NewMessage, NewSession, Store, TokenTotals

__all__ = [
    "COMMON_TERM",
    "GENERATOR_VERSION",
    "PHRASE",
    "PREFIX",
    "RARE_DOCS",
    "RARE_TERM",
    "FillStats",
    "SearchSession",
    "fill_search_db",
    "search_sessions",
]

# Bump when what is generated changes: cached databases of another version are refilled.
GENERATOR_VERSION: Final = 1

COMMON_TERM: Final = "error"
RARE_TERM: Final = "zanzibar"
RARE_DOCS: Final = 7
PHRASE: Final = "connection pool"
PREFIX: Final = "migrat"

_FUNCTION_WORDS: Final = (  # noqa: SIM905 - a word list reads better as one string
    "the to of and a in is it that for this on with be as not we i you are was from or "
    "at by can if so will but have should then there now let me check"
).split()

_DEV_WORDS: Final = (  # noqa: SIM905
    "file test function value return type module import class query database index "
    "session message event record token schema field loader cursor page result output "
    "input config build run fix change update add remove code line path name list key "
    "data table column row store writer reader parser server client request response "
    "handler route endpoint api cache retry timeout lock thread async await task job "
    "queue worker process log warning debug trace stack frame call method object string "
    "number integer boolean array dict map set tuple null none default option flag "
    "argument parameter variable constant branch commit merge diff patch review rebase "
    "deploy release version package dependency install upgrade script command shell "
    "terminal directory folder json yaml toml sql sqlite postgres redis docker image "
    "container network socket port host url header body status code exception raise "
    "catch handle assert expect mock fixture coverage lint format check compile bundle "
    "render component state props hook effect context provider store reducer action "
    "snippet highlight search rank score match phrase prefix term document tokenizer "
    "encrypt decrypt cipher nonce hash salt secret credential permission user account "
    "login logout auth session cookie header payload schema validate serialize parse "
    "chunk stream buffer batch bulk insert delete select join where order group limit "
    "offset transaction rollback journal wal checkpoint vacuum analyze pragma trigger "
    "view memory leak performance latency throughput benchmark profile optimize slow "
    "fast bug issue problem failure crash regression flaky green red pass fail"
).split()

# Two-word units, sampled like words: each phrase query has real co-occurrences.
_COLLOCATIONS: Final = (
    PHRASE,
    "foreign key",
    "race condition",
    "unit test",
    "pull request",
    "stack trace",
    "type error",
    "merge conflict",
    "code review",
    "environment variable",
    "primary key",
    "dead lock",
    "query plan",
    "file descriptor",
    "memory leak",
)

# The prefix family, at middling ranks (each listed form once).
_PREFIX_FAMILY: Final = (
    "migration",
    "migrations",
    "migrate",
    "migrated",
    "migrating",
    "migrator",
    "run_migrations",
    "migrations/0002_search.sql",
    "MigrationError",
    "migrate_up",
)

_SYLLABLES: Final = (  # noqa: SIM905
    "ba be bi bo bu da de di do du fa fe fi fo ka ke ki ko ku la le li lo lu ma me mi mo "
    "mu na ne ni no nu pa pe pi po pu ra re ri ro ru sa se si so su ta te ti to tu va ve "
    "vi vo wa we wi ya yo tor ler ment tion ing est ous ble al er an en in on ar or ic"
).split()

_PROJECTS: Final = (
    "sessiongraph",
    "billing-api",
    "web-frontend",
    "infra",
    "ml-pipeline",
    "auth-service",
    "data-etl",
    "cli-tools",
)
_TOOLS: Final = ("Bash", "Read", "Edit", "Grep", "Write", "Glob")
_MODEL: Final = "claude-opus-4-6"
_BASE: Final = datetime(2025, 9, 1, tzinfo=UTC)


def _made_up_words(rng: random.Random, count: int, taken: set[str]) -> list[str]:
    words: list[str] = []
    while len(words) < count:
        word = "".join(rng.choices(_SYLLABLES, k=rng.randint(2, 4)))
        if word not in taken and "zanz" not in word and not word.startswith(PREFIX[:4]):
            taken.add(word)
            words.append(word)
    return words


def _code_token(rng: random.Random, parts: list[str]) -> str:
    a, b, c = rng.sample(parts, 3)
    style = rng.randrange(5)
    if style == 0:
        return f"{a}_{b}"
    if style == 1:
        return f"{a}{b.capitalize()}{c.capitalize()}"
    if style == 2:
        return f"{a}.{b}"
    if style == 3:
        return f"src/{a}/{b}.py"
    return f"{a.capitalize()}{b.capitalize()}"


def _vocabulary(rng: random.Random) -> list[str]:
    """Words in rank order (most frequent first), about 20,000 of them."""
    dev = list(_DEV_WORDS)
    rng.shuffle(dev)
    if COMMON_TERM in dev:
        dev.remove(COMMON_TERM)
    code = [_code_token(rng, _DEV_WORDS) for _ in range(3_000)]
    taken = set(_FUNCTION_WORDS) | set(dev) | set(code)
    tail = _made_up_words(rng, 16_000, taken)
    # The common term right after the two most frequent words.
    ranked = [*_FUNCTION_WORDS[:2], COMMON_TERM, *_FUNCTION_WORDS[2:]]
    middle = dev + code[:500]
    rng.shuffle(middle)
    # Collocations and the prefix family in the upper middle: each a few % of messages.
    for offset, unit in enumerate([*_COLLOCATIONS, *_PREFIX_FAMILY]):
        middle.insert(40 + offset * 23, unit)
    ranked += middle
    rest = code[500:] + tail
    rng.shuffle(rest)
    return ranked + rest


class _Zipf:
    """Word-aligned slices of prose and code pools sampled from a Zipf vocabulary."""

    def __init__(self, rng: random.Random, pool_chars: int = 1 << 21) -> None:
        self.rng = rng
        vocabulary = _vocabulary(rng)
        # Zipf-Mandelbrot: weight 1 / (rank + 2.7) ** 1.05.
        weights = [1 / (rank + 2.7) ** 1.05 for rank in range(1, len(vocabulary) + 1)]
        cumulative = list(itertools.accumulate(weights))
        self._vocabulary = vocabulary
        self._cumulative = cumulative
        self.prose = self._prose(pool_chars)
        self.code = self._code(pool_chars)

    def _words(self, k: int) -> list[str]:
        return self.rng.choices(self._vocabulary, cum_weights=self._cumulative, k=k)

    def _prose(self, size: int) -> str:
        parts: list[str] = []
        total = 0
        words = iter(self._words(size // 4))
        while total < size:
            sentence = " ".join(itertools.islice(words, self.rng.randint(5, 22)))
            if not sentence:
                words = iter(self._words(size // 4))
                continue
            piece = sentence[0].upper() + sentence[1:] + self.rng.choice((". ", ". ", "? ", ".\n"))
            parts.append(piece)
            total += len(piece)
        return "".join(parts)

    def _code(self, size: int) -> str:
        rng, parts, total = self.rng, [], 0
        words = iter(self._words(size // 3))
        templates = (
            "def {0}({1}, {2}):",
            "    {0} = self.{1}({2})",
            "    return {0}.{1}",
            "import {0}",
            "{0}: {1} {2} failed at line {n}",
            '  File "{0}.py", line {n}, in {1}',
            "SELECT {0} FROM {1} WHERE {2} = ?",
            "PASSED tests/test_{0}.py::test_{1}",
            "{n} | {0} {1} {2} {3}",
            "WARNING {0}: {1} {2}",
            "    assert {0} == {1}",
        )
        while total < size:
            chosen = list(itertools.islice(words, 4))
            if len(chosen) < 4:
                words = iter(self._words(size // 3))
                continue
            line = rng.choice(templates).format(*chosen, n=rng.randint(1, 999))
            parts.append(line + "\n")
            total += len(line) + 1
        return "".join(parts)

    def _cut(self, pool: str, length: int) -> str:
        start = self.rng.randrange(0, len(pool) - length - 64)
        start = pool.find(" ", start) + 1
        end = pool.rfind(" ", start, start + length)
        return pool[start : end if end > start else start + length].strip() or "ok"

    def prose_text(self, low: int, high: int) -> str:
        return self._cut(self.prose, self.rng.randint(low, high))

    def code_text(self, low: int, high: int) -> str:
        return self._cut(self.code, self.rng.randint(low, high))

    def title(self) -> str:
        return " ".join(self._words(self.rng.randint(3, 7))).capitalize()


@dataclass(slots=True)
class SearchSession:
    """One generated session: its rows as the store's write API takes them."""

    session: NewSession
    title: str
    messages: list[NewMessage]
    events: list[NewEvent]


def _ts(seconds: float) -> str:
    value = _BASE + timedelta(seconds=seconds)
    return value.strftime("%Y-%m-%dT%H:%M:%S.") + f"{value.microsecond // 1000:03d}Z"


class _Builder:
    """Makes sessions one at a time; ``planted`` are the message numbers given the rare term."""

    def __init__(self, total: int, seed: int) -> None:
        self.rng = random.Random(seed)
        self.text = _Zipf(self.rng)
        self.total = total
        spread = random.Random(seed + 1)
        self.planted = sorted(spread.sample(range(total), min(RARE_DOCS, total)))
        self.pending_rare = 0
        self.made = 0  # messages so far
        self.clock = 0.0

    def _maybe_rare(self, text: str) -> str:
        if self.pending_rare:
            self.pending_rare -= 1
            cut = text.find(" ", len(text) // 2)
            return f"{text[:cut]} {RARE_TERM}{text[cut:]}" if cut > 0 else f"{text} {RARE_TERM}"
        return text

    def _next_message(self) -> None:
        self.made += 1
        index = bisect.bisect_left(self.planted, self.made - 1)
        if index < len(self.planted) and self.planted[index] == self.made - 1:
            self.pending_rare += 1
        self.clock += self.rng.uniform(1.0, 20.0)

    def session(self, n: int, size: int) -> SearchSession:
        rng, text = self.rng, self.text
        sid = f"5e55{n:04x}-0000-4000-8000-{n:012d}"
        project = _PROJECTS[n % len(_PROJECTS)]
        messages: list[NewMessage] = []
        events: list[NewEvent] = []
        line = 0
        while len(messages) < size:
            # One turn: a prompt, then tool calls and their results, then an answer.
            line += 1
            self._next_message()
            prompt = self._maybe_rare(text.prose_text(40, 500))
            messages.append(
                NewMessage(
                    f"u:{line}",
                    "user",
                    _ts(self.clock),
                    [
                        (
                            line,
                            {
                                "type": "user",
                                "uuid": f"u{n}-{line}",
                                "message": {"role": "user", "content": prompt},
                            },
                        )
                    ],
                    uuid=f"u{n}-{line}",
                )
            )
            for step in range(rng.randint(1, 5)):
                if len(messages) >= size:
                    break
                line = self._assistant(n, line, messages, tool=True, first=step == 0)
                if len(messages) >= size:
                    break
                line += 1
                self._next_message()
                output = text.code_text(200, 2_000)
                messages.append(
                    NewMessage(
                        f"u:{line}",
                        "user",
                        _ts(self.clock),
                        [
                            (
                                line,
                                {
                                    "type": "user",
                                    "uuid": f"r{n}-{line}",
                                    "message": {
                                        "role": "user",
                                        "content": [
                                            {
                                                "type": "tool_result",
                                                "tool_use_id": f"toolu_{n}_{line - 1}",
                                                "content": output,
                                            }
                                        ],
                                    },
                                },
                            )
                        ],
                        uuid=f"r{n}-{line}",
                    )
                )
                if rng.random() < 0.9:
                    line += 1
                    events.append(
                        NewEvent(
                            line,
                            "progress",
                            _ts(self.clock),
                            {
                                "type": "progress",
                                "uuid": f"p{n}-{line}",
                                "data": {
                                    "type": "hook_progress",
                                    "hookEvent": "PostToolUse",
                                    "hookName": "PostToolUse:Bash",
                                    "command": "ruff format",
                                },
                            },
                            uuid=f"p{n}-{line}",
                            subtype="hook_progress",
                        )
                    )
            if len(messages) < size:
                line = self._assistant(n, line, messages, tool=False, first=False)
            if rng.random() < 0.3:
                line += 1
                events.append(
                    NewEvent(
                        line,
                        "system",
                        _ts(self.clock),
                        {
                            "type": "system",
                            "subtype": "informational",
                            "uuid": f"s{n}-{line}",
                            "content": text.prose_text(30, 200),
                            "level": "info",
                        },
                        uuid=f"s{n}-{line}",
                        subtype="informational",
                    )
                )
        return SearchSession(
            NewSession(sid, project=project, cwd=f"/home/dev/{project}", git_branch="main"),
            text.title(),
            messages,
            events,
        )

    def _assistant(
        self, n: int, line: int, messages: list[NewMessage], *, tool: bool, first: bool
    ) -> int:
        rng, text = self.rng, self.text
        self._next_message()
        blocks: list[dict[str, Any]] = []
        if first or rng.random() < 0.3:
            blocks.append(
                {"type": "thinking", "thinking": text.prose_text(100, 1_200), "signature": "sig"}
            )
        if not tool or rng.random() < 0.6:
            blocks.append({"type": "text", "text": self._maybe_rare(text.prose_text(40, 800))})
        if tool:
            name = rng.choice(_TOOLS)
            arguments: dict[str, Any] = (
                {"command": text.code_text(20, 120), "description": text.prose_text(10, 60)}
                if name == "Bash"
                else {
                    "file_path": f"/home/dev/src/{text.code_text(8, 30)}.py",
                    "old_string": text.code_text(20, 300),
                    "new_string": text.code_text(20, 300),
                }
                if name in ("Edit", "Write")
                else {"pattern": text.code_text(5, 40), "path": "/home/dev/src"}
            )
            blocks.append({"type": "tool_use", "id": "", "name": name, "input": arguments})
        msg_id = f"msg_{n}_{line + 1}"
        records: list[tuple[int, dict[str, Any]]] = []
        for block in blocks:
            line += 1
            if block["type"] == "tool_use":  # its id names its line: the result refers to it
                block["id"] = f"toolu_{n}_{line}"
            message = {"id": msg_id, "role": "assistant", "model": _MODEL, "content": [block]}
            record = {
                "type": "assistant",
                "uuid": f"a{n}-{line}",
                "requestId": f"req_{n}_{line}",
                "message": message,
            }
            records.append((line, record))
        messages.append(
            NewMessage(
                f"m:{msg_id}",
                "assistant",
                _ts(self.clock),
                records,
                uuid=f"a{n}-{records[0][0]}",
                model=_MODEL,
                usage=TokenTotals(
                    rng.randint(3, 50),
                    rng.randint(20, 900),
                    rng.randint(0, 90_000),
                    rng.randint(0, 5_000),
                ),
            )
        )
        return line


def search_sessions(messages: int, seed: int = 7) -> Iterator[SearchSession]:
    """Sessions holding ``messages`` API messages in all, 40-400 each."""
    builder = _Builder(messages, seed)
    n = 0
    left = messages
    while left > 0:
        size = min(left, builder.rng.randint(40, 400))
        if 0 < left - size < 40:
            size = left
        yield builder.session(n, size)
        left -= size
        n += 1


@dataclass(slots=True)
class FillStats:
    """What :func:`fill_search_db` wrote."""

    sessions: int = 0
    messages: int = 0
    events: int = 0
    seconds: float = 0.0
    write_seconds: float = 0.0  # inside store.write(): the store's share of ``seconds``


async def fill_search_db(store: Store, messages: int, seed: int = 7) -> FillStats:
    """Write the generated sessions through ``store.write()``, one transaction each."""
    stats = FillStats()
    started = time.perf_counter()
    for generated in search_sessions(messages, seed):
        t0 = time.perf_counter()
        async with store.write() as writer:
            pk = await writer.upsert_session(generated.session)
            await writer.set_session_text(pk, title=generated.title)
            cpk = await writer.upsert_conversation(pk, NewConversation())
            await writer.add_messages(pk, cpk, generated.messages)
            await writer.add_events(pk, cpk, generated.events)
        stats.write_seconds += time.perf_counter() - t0
        stats.sessions += 1
        stats.messages += len(generated.messages)
        stats.events += len(generated.events)
    stats.seconds = time.perf_counter() - started
    return stats
