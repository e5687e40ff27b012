"""A message's text masks its secrets, reading only its text blocks to do it."""

from __future__ import annotations

import pytest

from graph.blocks.claude_code import blocks as claude_blocks
from graph.content import readable_text
from graph.secrets.detect import SecretScanner
from graph.store import NewConversation, NewMessage, NewSession, Store
from tests.conftest import GraphQL
from tests.factories import assistant_record, ts
from tests.secret_canaries import AWS, GITHUB

BULK = "x" * 20_000  # a tool's large input, with a secret of its own


async def test_text_is_masked_scanning_only_the_text_blocks(
    store: Store, gql: GraphQL, monkeypatch: pytest.MonkeyPatch
) -> None:
    text_block = {"type": "text", "text": f"the key is {AWS}, keep it"}
    tool = {"type": "tool_use", "id": "t1", "name": "Bash", "input": {"env": GITHUB + BULK}}
    records = [
        (1, assistant_record(1, "m1", text_block)),
        (2, assistant_record(2, "m1", tool)),
        (3, assistant_record(3, "m1", {"type": "text", "text": "done"})),
    ]
    async with store.write() as writer:
        pk = await writer.upsert_session(NewSession("s-text"))
        conversation = await writer.upsert_conversation(pk, NewConversation())
        await writer.add_messages(
            pk, conversation, [NewMessage("m:1", "assistant", ts(0), records)]
        )
    scanned: list[int] = []
    scan = SecretScanner.scan

    def counting(self: SecretScanner, text: str) -> object:
        scanned.append(len(text))
        return scan(self, text)

    monkeypatch.setattr(SecretScanner, "scan", counting)
    query = 'query($f: Boolean!) { session(id: "s-text") { messages { edges { node { text'
    query += " records @include(if: $f) } } } } }"
    [edge] = (await gql(query, f=False))["session"]["messages"]["edges"]
    text = edge["node"]["text"]
    assert AWS not in text and "[REDACTED:aws" in text and text.endswith("keep it\n\ndone")
    assert sum(scanned) < len(BULK)  # the tool's input was not scanned for the text

    # The same text as that of the masked records (every string masked on its own).
    [edge] = (await gql(query, f=True))["session"]["messages"]["edges"]
    served = [(n, record) for n, record in enumerate(edge["node"]["records"])]
    assert GITHUB not in str(served)
    assert edge["node"]["text"] == readable_text(claude_blocks(served)) == text
