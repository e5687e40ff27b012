"""A generated corpus for search tests, and a brute-force matcher to check FTS5 against."""

from __future__ import annotations

import random
from dataclasses import dataclass, field

from graph.search.documents import FIELD_COLUMNS, Fields
from graph.search.query import And, Near, Node, Not, Or, Term
from graph.search.tokenize import tokens
from graph.store import (
    NewConversation,
    NewEvent,
    NewMessage,
    NewSession,
    Store,
    TokenTotals,
)
from tests.factories import ts

WORDS = [
    "migration",
    "bug",
    "fix",
    "sqlite",
    "index",
    "query",
    "schema",
    "loader",
    "cursor",
    "token",
    "session",
    "graph",
    "store",
    "reader",
    "writer",
    "commit",
    "rollback",
    "parser",
    "snippet",
    "highlight",
    "encrypt",
    "hash",
    "vector",
    "cache",
    "retry",
    "timeout",
    "deadlock",
    "crème",
    "naïve",
    "getUserName",
    "snake_case",
    "reads.py",
    "HTTPServer",
]


@dataclass
class Corpus:
    """What was written, by (kind, pk): the searchable fields of every document."""

    docs: dict[tuple[str, int], Fields] = field(default_factory=dict)
    session_ids: list[str] = field(default_factory=list)


def sentence(rng: random.Random, low: int = 3, high: int = 12) -> str:
    return " ".join(rng.choice(WORDS) for _ in range(rng.randint(low, high)))


async def build_corpus(store: Store, seed: int = 7, sessions: int = 12) -> Corpus:
    rng = random.Random(seed)
    corpus = Corpus()
    async with store.write() as writer:
        for n in range(sessions):
            sid = f"search-{seed}-{n}"
            corpus.session_ids.append(sid)
            pk = await writer.upsert_session(NewSession(sid, project=f"p{n % 3}"))
            await writer.set_session_text(pk, title=sentence(rng, 2, 4))
            conv = await writer.upsert_conversation(pk, NewConversation())
            messages = []
            for m in range(rng.randint(3, 8)):
                line = m + 1
                if m % 2 == 0:
                    record = {"type": "user", "message": {"role": "user", "content": sentence(rng)}}
                    messages.append(
                        NewMessage(f"u:{line}", "user", ts(n * 100 + m), [(line, record)])
                    )
                else:
                    blocks = [
                        {"type": "thinking", "thinking": sentence(rng)},
                        {"type": "text", "text": sentence(rng)},
                        {
                            "type": "tool_use",
                            "id": f"t{n}{m}",
                            "name": "Bash",
                            "input": {"command": sentence(rng, 1, 4)},
                        },
                    ]
                    records = [
                        (
                            line * 10 + i,
                            {
                                "type": "assistant",
                                "message": {
                                    "id": f"m{n}{m}",
                                    "role": "assistant",
                                    "model": "opus",
                                    "content": [block],
                                },
                            },
                        )
                        for i, block in enumerate(blocks)
                    ]
                    messages.append(
                        NewMessage(
                            f"m:{n}:{m}",
                            "assistant",
                            ts(n * 100 + m),
                            records,
                            model="opus",
                            usage=TokenTotals(1, 1, 0, 0),
                        )
                    )
                    result = {
                        "type": "user",
                        "message": {
                            "role": "user",
                            "content": [
                                {
                                    "type": "tool_result",
                                    "tool_use_id": f"t{n}{m}",
                                    "content": sentence(rng, 5, 20),
                                }
                            ],
                        },
                    }
                    messages.append(
                        NewMessage(f"u:r{line}", "user", ts(n * 100 + m), [(line * 10 + 5, result)])
                    )
            await writer.add_messages(pk, conv, messages)
            await writer.add_events(
                pk,
                conv,
                [
                    NewEvent(
                        1000 + e,
                        "system",
                        ts(n * 100 + 50 + e),
                        {"type": "system", "content": sentence(rng)},
                        subtype="note",
                    )
                    for e in range(2)
                ]
                # Not searchable (see UNSEARCHED_EVENT_TYPES), though it has words that are.
                + [
                    NewEvent(
                        1100,
                        "progress",
                        ts(n * 100 + 60),
                        {
                            "type": "progress",
                            "data": {
                                "type": "bash_progress",
                                "fullOutput": f"{WORDS[n % len(WORDS)]} zanzibar",
                            },
                        },
                        subtype="bash_progress",
                    )
                ],
            )
    await refresh_docs(store, corpus)
    return corpus


async def refresh_docs(store: Store, corpus: Corpus) -> None:
    """Recompute the expected documents from what the store holds now."""
    import orjson

    from graph.blocks import blocks_for
    from graph.content import records_of
    from graph.search.documents import (
        event_fields,
        is_searched_event,
        message_fields,
        session_fields,
    )

    corpus.docs.clear()
    conn, codec = store.writer_connection, store.codec
    for pk, cpk, key, content, source in await conn.execute_fetchall(
        "SELECT m.id, m.conversation_pk, m.msg_key, m.content, s.source"
        " FROM messages AS m JOIN sessions AS s ON s.id = m.session_pk"
    ):
        opened = codec.open("messages", "content", f"{cpk}:{key}", content)
        corpus.docs["message", pk] = message_fields(blocks_for(source)(records_of(opened)))
    for pk, cpk, seq, data, kind in await conn.execute_fetchall(
        "SELECT id, conversation_pk, seq, data, type FROM events"
    ):
        if not is_searched_event(kind):
            continue
        opened = codec.open("events", "data", f"{cpk}:{seq}", data)
        corpus.docs["event", pk] = event_fields(orjson.loads(opened))
    for pk, sid, title, summary in await conn.execute_fetchall(
        "SELECT id, session_id, title, summary FROM sessions"
    ):
        texts = [
            None if value is None else codec.open("sessions", column, sid, value).decode()
            for column, value in (("title", title), ("summary", summary))
        ]
        corpus.docs["session", pk] = session_fields(*texts)


def _phrase_in(parts: list[str], prefix: bool, column_tokens: list[str]) -> bool:
    k = len(parts)
    for i in range(len(column_tokens) - k + 1):
        window = column_tokens[i : i + k]
        if window[:-1] == parts[:-1] and (
            window[-1].startswith(parts[-1]) if prefix else window[-1] == parts[-1]
        ):
            return True
    return False


def brute_match(node: Node, doc: Fields, columns: tuple[str, ...]) -> bool:
    """Whether ``doc`` matches ``node``, by scanning tokens (no NEAR)."""
    if isinstance(node, Term):
        cols = (node.field,) if node.field else columns
        parts = tokens(node.text)
        return any(_phrase_in(parts, node.prefix, tokens(doc.get(c))) for c in cols)
    if isinstance(node, Not):
        return brute_match(node.left, doc, columns) and not brute_match(node.right, doc, columns)
    if isinstance(node, And):
        return all(brute_match(item, doc, columns) for item in node.items)
    if isinstance(node, Or):
        return any(brute_match(item, doc, columns) for item in node.items)
    assert not isinstance(node, Near), "NEAR is checked by examples, not by brute force"
    raise AssertionError(node)


def generated_queries(seed: int = 3, count: int = 60) -> list[str]:
    rng = random.Random(seed)
    queries = []
    for _ in range(count):
        a, b, c = rng.choice(WORDS), rng.choice(WORDS), rng.choice(WORDS)
        queries.append(
            rng.choice(
                [
                    a,
                    f"{a} {b}",
                    f"{a} OR {b}",
                    f"{a} NOT {b}",
                    f'"{a} {b}"',
                    f"{a[:3]}*",
                    f"({a} OR {b}) {c}",
                    f"title:{a}",
                    f"output:{a}",
                    f"thinking:{a} OR text:{b}",
                    f'"{a} {b[:2]}"*',
                    f"{a} AND NOT_{b}",
                ]
            )
        )
    return queries


ALL_COLUMNS = FIELD_COLUMNS
