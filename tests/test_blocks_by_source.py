"""A message's content blocks are read by its session's format, not guessed from the
shape of its records: the same record reads as each format reads it."""

from __future__ import annotations

import io
from typing import Any

import pytest

from graph.export import ExportFormat, export_session
from graph.secrets.detect import SecretScanner
from graph.store import NewConversation, NewMessage, NewSession, Store
from tests.conftest import GraphQL
from tests.factories import ts

# Both a Codex response item and a Claude Code message: each format sees its own half.
RECORD: dict[str, Any] = {
    "type": "response_item",
    "payload": {
        "type": "message",
        "role": "assistant",
        "content": [{"type": "output_text", "text": "said as codex"}],
    },
    "message": {"role": "assistant", "content": "said as claude"},
}
READS = {"claude-code": "said as claude", "codex": "said as codex"}


async def _store(store: Store) -> None:
    async with store.write() as writer:
        for source in READS:
            pk = await writer.upsert_session(NewSession(f"s-{source}", source=source))
            conversation = await writer.upsert_conversation(pk, NewConversation())
            message = NewMessage("m:1", "assistant", ts(0), [(1, RECORD)], source=source)
            await writer.add_messages(pk, conversation, [message])


@pytest.mark.parametrize("stored_text", [True, False])
async def test_text_and_blocks_are_read_by_the_session_source(
    store: Store, gql: GraphQL, monkeypatch: pytest.MonkeyPatch, stored_text: bool
) -> None:
    await _store(store)
    if not stored_text:
        # Other secret rules than the ones that masked the stored text: served from
        # the records.
        monkeypatch.setattr(SecretScanner, "digest", property(lambda self: "other rules"))
        monkeypatch.setattr(SecretScanner, "could_contain", lambda self, text: True)
    query = """query($id: ID!) { session(id: $id) { messages { nodes {
        text blocks { __typename ... on TextBlock { text } } } } } }"""
    for source, said in READS.items():
        [node] = (await gql(query, id=f"s-{source}"))["session"]["messages"]["nodes"]
        assert node["text"] == said
        assert node["blocks"] == [{"__typename": "TextBlock", "text": said}]


async def test_search_and_export_read_by_the_session_source(store: Store, gql: GraphQL) -> None:
    await _store(store)
    query = """{ search(query: "said") { nodes { snippet session { sessionId } } } }"""
    hits = (await gql(query))["search"]["nodes"]
    assert {hit["session"]["sessionId"]: hit["snippet"] for hit in hits} == {
        f"s-{source}": said for source, said in READS.items()
    }
    for source, said in READS.items():
        out = io.BytesIO()
        await export_session(store, f"s-{source}", out, ExportFormat.MARKDOWN)
        other = READS["codex" if source == "claude-code" else "claude-code"]
        text = out.getvalue().decode()
        assert said in text and other not in text


async def test_a_snippet_asked_after_its_node_is_cut_by_the_session_source(
    store: Store, gql: GraphQL
) -> None:
    await _store(store)
    # `nodes` loads the hits' rows; `edges` then wants only their snippets.
    query = """{ search(query: "said") { nodes { node { __typename } }
        edges { node { snippet session { sessionId } } } } }"""
    edges = (await gql(query))["search"]["edges"]
    assert {edge["node"]["session"]["sessionId"]: edge["node"]["snippet"] for edge in edges} == {
        f"s-{source}": said for source, said in READS.items()
    }
