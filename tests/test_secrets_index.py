"""Secrets are never searchable (plain or hashed index), the words around them are, and
what was found is reported by kind, per session, through the store and the API."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import orjson
import pytest

from graph.search.documents import MAX_FIELD, message_fields
from graph.search.tokenize import index_text
from graph.secrets import SecretScanner
from graph.store import Store
from tests.conftest import api_client
from tests.secret_canaries import (
    GITHUB,
    PLACED,
    SESSION_ID,
    imported_store,
    transcript_lines,
    write_transcript,
)

ALL_FIELDS = "[TEXT, THINKING, TOOL_INPUT, TOOL_OUTPUT, TITLE, EVENT]"
SEARCH = (
    "query($q: String!) { search(query: $q, scopes: [MESSAGES, EVENTS, SESSIONS],"
    f" filter: {{fields: {ALL_FIELDS}}}, first: 50) {{ totalCount }} }}"
)


@pytest.fixture(params=[False, True], ids=["plain", "encrypted"])
async def imported(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[Store]:
    async with imported_store(tmp_path, write_transcript, encrypted=request.param) as store:
        yield store


async def hits(client: httpx.AsyncClient, query: str) -> int:
    body = (await client.post("/graphql", json={"query": SEARCH, "variables": {"q": query}})).json()
    assert "errors" not in body, body
    count: int = body["data"]["search"]["totalCount"]
    return count


async def test_no_query_finds_a_secret_and_the_words_beside_it_are_found(
    imported: Store,
) -> None:
    async with api_client(imported) as client:
        # A piece of a secret may be a word the transcript has elsewhere ("is" in a JWT).
        text = orjson.dumps(transcript_lines()).decode().replace("\\n", " ")
        elsewhere = set(index_text(SecretScanner().mask(text)).split())
        for place, (secret, neighbour) in PLACED.items():
            assert await hits(client, neighbour) >= 1, place
            tokens = index_text(secret).split()
            assert await hits(client, '"' + " ".join(tokens) + '"') == 0, place
            own = [token for token in dict.fromkeys(tokens) if token not in elsewhere]
            assert own, place
            for token in own:
                assert await hits(client, token) == 0, (place, token)


async def test_findings_are_reported_by_kind_and_never_hold_a_value(imported: Store) -> None:
    async with imported.read() as reader:
        report = await reader.secret_report()
    kinds = sorted(row.kind for row in report)
    assert kinds == sorted(
        [
            "aws-access-key",
            "github-token",
            "jwt",
            "secret-assignment",
            "stripe-key",
            "slack-token",
            "anthropic-key",
        ]
    )
    assert all(row.sessions == (SESSION_ID,) and len(row.fingerprint) == 8 for row in report)
    fields = {row.kind: row.fields for row in report}
    assert fields["github-token"] == ("thinking",)
    assert fields["jwt"] == ("tool_input",)
    assert fields["slack-token"] == ("event",)
    assert fields["anthropic-key"] == ("event", "title")  # the custom-title record, too
    async with api_client(imported) as client:
        body = (
            await client.post(
                "/graphql",
                json={
                    "query": """{
            with: sessions(filter: {hasSecrets: true}) { totalCount nodes {
                secretFindings { kind count values firstSeen } } }
            without: sessions(filter: {hasSecrets: false}) { totalCount }
        }"""
                },
            )
        ).json()
    assert body["data"]["without"]["totalCount"] == 0
    (session,) = body["data"]["with"]["nodes"]
    found = {f["kind"]: f for f in session["secretFindings"]}
    assert found.keys() == set(kinds)
    assert found["aws-access-key"] == {
        "kind": "aws-access-key",
        "count": 1,
        "values": 1,
        "firstSeen": "2026-03-01T10:00:01.000Z",
    }


async def test_a_reindex_finds_the_same_and_replacing_a_message_forgets_its_findings(
    imported: Store,
) -> None:
    async with imported.read() as reader:
        before = await reader.secret_report()
    await imported.reindex()
    async with imported.read() as reader:
        assert await reader.secret_report() == before
    async with imported.write() as writer:
        await writer.connection.execute("DELETE FROM sessions")
    # Rows deleted behind the indexer's back are not its business; a repair is.
    await imported.reindex()
    async with imported.read() as reader:
        assert await reader.secret_report() == []


async def test_everything_served_shows_secrets_masked(imported: Store) -> None:
    query = """{ sessions { nodes { title
        messages { nodes { text records blocks { __typename
            ... on ThinkingBlock { thinking } ... on ToolUseBlock { input }
            ... on ToolResultBlock { content } } } }
        events { nodes { data } } } }
      search(query: "wombat OR quokka OR axolotl OR narwhal OR capybara OR okapi",
             scopes: [MESSAGES, EVENTS, SESSIONS], filter: {fields: ALL}) {
        nodes { snippet } } }""".replace("ALL", ALL_FIELDS)
    async with api_client(imported) as client:
        body = (await client.post("/graphql", json={"query": query})).text
    assert "errors" not in orjson.loads(body)
    for place, (secret, _) in PLACED.items():
        assert secret not in body, place
        assert secret.replace("\n", "\\n") not in body, place
    for kind in (
        "aws-access-key",
        "github-token",
        "jwt",
        "secret-assignment",
        "slack-token",
        "anthropic-key",
        "stripe-key",
    ):
        assert f"[REDACTED:{kind}:" in body, kind
    assert body.count("wombat") >= 2  # text, records and a snippet: the rest is shown


@pytest.mark.parametrize("start", [MAX_FIELD - 9, MAX_FIELD - 1])
def test_a_credential_cut_by_a_fields_end_leaves_no_part_indexed(start: int) -> None:
    """A field is cut at MAX_FIELD; a credential the cut runs through was not found (the
    rules read the field as cut) and its first part was indexed. The cut now ends where a
    word ends: nothing of it is kept, and the words before it are."""
    output = ("w " * MAX_FIELD)[: start - 1] + " " + GITHUB + " after"
    assert output.index(GITHUB) == start < MAX_FIELD < start + len(GITHUB)
    fields = message_fields([{"type": "tool_result", "content": output}])
    assert GITHUB[:4] not in fields.tool_output and fields.tool_output.rstrip().endswith("w")
    whole = message_fields([{"type": "tool_result", "content": "w " * 10 + GITHUB}])
    assert whole.tool_output.endswith(GITHUB)  # a field within the size is kept whole
