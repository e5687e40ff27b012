"""The GraphQL API over a synthetic store: lookups, connections, filters, ordering."""

from __future__ import annotations

import base64
from typing import Any

import pytest

from graph.store import Store
from tests.conftest import LATEST, GraphQL
from tests.factories import make_sessions

SESSION_FIELDS = """
  id sessionId project cwd gitBranch models startedAt endedAt messageCount eventCount
  conversationCount hasSidechains resumeCommand title summary
  tokenUsage { input output cacheRead cacheCreation total }
"""


async def test_session_by_global_id_and_by_raw_session_id(store: Store, gql: GraphQL) -> None:
    [sid] = await make_sessions(store, 1)
    by_raw = (await gql(f'{{ session(id: "{sid}") {{ {SESSION_FIELDS} }} }}'))["session"]
    by_global = (await gql(f'{{ session(id: "{by_raw["id"]}") {{ sessionId }} }}'))["session"]
    assert by_global["sessionId"] == sid
    assert by_raw["messageCount"] == 12  # main thread + one subagent, 6 each
    assert by_raw["conversationCount"] == 2
    assert by_raw["hasSidechains"] is True
    assert by_raw["models"] == ["claude-opus-4-6"]
    assert by_raw["tokenUsage"] == {
        "input": 18,
        "output": 60,
        "cacheRead": 0,
        "cacheCreation": 0,
        "total": 78,
    }
    assert by_raw["resumeCommand"] == f"cd /home/dev/app0 && claude --resume {sid}"
    # Times are served as stored (as Claude Code and `Date.toISOString()` write them).
    assert by_raw["startedAt"] == "2026-01-01T00:00:00.000Z"


async def test_unknown_ids_are_null_and_malformed_ids_are_bad_id(
    store: Store, gql: GraphQL
) -> None:
    await make_sessions(store, 1)
    missing = base64.urlsafe_b64encode(b"Session:999").decode().rstrip("=")
    data = await gql(
        f'{{ a: session(id: "{missing}") {{ id }} b: node(id: "{missing}") {{ id }}'
        ' c: session(id: "11111111-2222-4333-8444-555555555555") { id } }'
    )
    assert data == {"a": None, "b": None, "c": None}
    body = await gql.raw(
        '{ a: node(id: "not an id!") { id } b: message(id: "U2Vzc2lvbjox") { id }'
        ' c: session(id: "<script>") { id } d: conversation(id: "") { id } }'
    )
    assert body["data"] == {"a": None, "b": None, "c": None, "d": None}
    # Any text can be a stored sessionId ("<script>" is merely not stored): only the
    # others are malformed.
    assert sorted(e["path"][0] for e in body["errors"]) == ["a", "b", "d"]
    assert {e["extensions"]["code"] for e in body["errors"]} == {"BAD_ID"}
    assert all("Traceback" not in e["message"] for e in body["errors"])


async def test_node_resolves_every_type(store: Store, gql: GraphQL) -> None:
    [sid] = await make_sessions(store, 1)
    data = await gql(
        f'{{ session(id: "{sid}") {{ id conversations {{ id }}'
        " messages(first: 1) { edges { node { id } } }"
        " events(first: 1) { edges { node { id } } } } }"
    )
    session = data["session"]
    ids = {
        "Session": session["id"],
        "Conversation": session["conversations"][0]["id"],
        "Message": session["messages"]["edges"][0]["node"]["id"],
        "Event": session["events"]["edges"][0]["node"]["id"],
    }
    for type_name, node_id in ids.items():
        node = (await gql("query($id: ID!) { node(id: $id) { __typename id } }", id=node_id))[
            "node"
        ]
        assert node == {"__typename": type_name, "id": node_id}


async def test_message_blocks_and_text(store: Store, gql: GraphQL) -> None:
    from graph.store import NewConversation, NewMessage, NewSession

    async with store.write() as writer:
        pk = await writer.upsert_session(NewSession("s-blocks"))
        conv = await writer.upsert_conversation(pk, NewConversation())
        records: list[tuple[int, dict[str, Any]]] = [
            (1, {"message": {"content": [{"type": "thinking", "thinking": "hmm"}]}}),
            (2, {"message": {"content": [{"type": "text", "text": "Let me look."}]}}),
            (
                3,
                {
                    "message": {
                        "content": [
                            {
                                "type": "tool_use",
                                "id": "t1",
                                "name": "Read",
                                "input": {"path": "a.py"},
                            }
                        ]
                    }
                },
            ),
            (5, {"message": {"content": [{"type": "server_thing", "x": 1}, "odd"]}}),
        ]
        result = {
            "type": "tool_result",
            "tool_use_id": "t1",
            "is_error": True,
            "content": [{"type": "text", "text": "boom"}],
        }
        image = {
            "type": "image",
            "source": {"type": "base64", "media_type": "image/png", "data": "AAAA"},
        }
        await writer.add_messages(
            pk,
            conv,
            [
                NewMessage("m:1", "assistant", "2026-01-01T00:00:00.000Z", records),
                NewMessage(
                    "u:4",
                    "user",
                    "2026-01-01T00:00:01.000Z",
                    # A result recorded without content: its rawContent is null.
                    [(4, {"message": {"content": [result, image, {"type": "tool_result"}]}})],
                ),
            ],
        )
    data = await gql(
        '{ session(id: "s-blocks") { messages { edges { node { role text blocks {'
        " __typename ... on TextBlock { text } ... on ThinkingBlock { thinking }"
        " ... on ToolUseBlock { toolUseId name input }"
        " ... on ToolResultBlock { toolUseId content rawContent isError }"
        " ... on ImageBlock { mediaType sourceType sizeBytes }"
        " ... on UnknownBlock { type data } } } } } } }"
    )
    assistant, user = [e["node"] for e in data["session"]["messages"]["edges"]]
    assert assistant["text"] == "Let me look."
    assert assistant["blocks"] == [
        {"__typename": "ThinkingBlock", "thinking": "hmm"},
        {"__typename": "TextBlock", "text": "Let me look."},
        {
            "__typename": "ToolUseBlock",
            "toolUseId": "t1",
            "name": "Read",
            "input": {"path": "a.py"},
        },
        {
            "__typename": "UnknownBlock",
            "type": "server_thing",
            "data": {"type": "server_thing", "x": 1},
        },
        {"__typename": "UnknownBlock", "type": None, "data": {"type": None, "value": "odd"}},
    ]
    assert user["blocks"] == [
        {
            "__typename": "ToolResultBlock",
            "toolUseId": "t1",
            "content": "boom",
            "rawContent": [{"type": "text", "text": "boom"}],
            "isError": True,
        },
        {
            "__typename": "ImageBlock",
            "mediaType": "image/png",
            "sourceType": "base64",
            "sizeBytes": 3,
        },
        {
            "__typename": "ToolResultBlock",
            "toolUseId": None,
            "content": "",
            "rawContent": None,
            "isError": False,
        },
    ]


async def test_relationships_point_back(store: Store, gql: GraphQL) -> None:
    [sid] = await make_sessions(store, 1)
    data = await gql(
        f'{{ session(id: "{sid}") {{ sessionId conversations {{ isSidechain agentId'
        " session { sessionId }"
        " messages(first: 2) { totalCount edges { node { session { sessionId }"
        " conversation { agentId } } } } events { totalCount edges { node { type subtype"
        " data session { sessionId } conversation { isSidechain } } } } } } }"
    )
    main, side = data["session"]["conversations"]
    assert (main["isSidechain"], main["agentId"]) == (False, None)
    assert (side["isSidechain"], side["agentId"]) == (True, "agent0")
    for conv in (main, side):
        assert conv["session"]["sessionId"] == sid
        assert conv["messages"]["totalCount"] == 6
        for edge in conv["messages"]["edges"]:
            assert edge["node"]["session"]["sessionId"] == sid
            assert edge["node"]["conversation"]["agentId"] == conv["agentId"]
        assert conv["events"]["totalCount"] == 3
        event = conv["events"]["edges"][0]["node"]
        assert event["data"]["data"]["type"] == "hook_progress"
        assert event["conversation"]["isSidechain"] == conv["isSidechain"]


PAGE = """
query($first: Int, $after: String, $last: Int, $before: String, $order: SessionOrder) {
  sessions(first: $first, after: $after, last: $last, before: $before, orderBy: $order) {
    totalCount
    pageInfo { hasNextPage hasPreviousPage startCursor endCursor }
    edges { cursor node { sessionId messageCount } }
  }
}
"""


@pytest.mark.parametrize(
    "order",
    [
        {"field": "STARTED_AT", "direction": "DESC"},
        {"field": "STARTED_AT", "direction": "ASC"},
        {"field": "LAST_ACTIVITY", "direction": "DESC"},
        {"field": "MESSAGE_COUNT", "direction": "ASC"},
    ],
)
async def test_paging_forward_and_backward_visits_every_session_once(
    store: Store, gql: GraphQL, order: dict[str, str]
) -> None:
    ids = await make_sessions(store, 11)
    forward: list[str] = []
    after = None
    while True:
        page = (await gql(PAGE, first=4, after=after, order=order))["sessions"]
        assert page["totalCount"] == 11
        forward += [e["node"]["sessionId"] for e in page["edges"]]
        assert page["pageInfo"]["hasPreviousPage"] == (after is not None)
        if not page["pageInfo"]["hasNextPage"]:
            break
        after = page["pageInfo"]["endCursor"]
    backward: list[str] = []
    before = None
    while True:
        page = (await gql(PAGE, last=4, before=before, order=order))["sessions"]
        backward = [e["node"]["sessionId"] for e in page["edges"]] + backward
        if not page["pageInfo"]["hasPreviousPage"]:
            break
        before = page["pageInfo"]["startCursor"]
    assert sorted(forward) == sorted(ids)
    assert backward == forward
    if order["field"] == "STARTED_AT":
        assert forward == (ids if order["direction"] == "ASC" else ids[::-1])
    if order["field"] == "MESSAGE_COUNT":
        counts = [12 if ids.index(sid) % 3 == 0 else 6 for sid in forward]
        assert counts == sorted(counts)


async def test_nested_connections_page_per_parent(store: Store, gql: GraphQL) -> None:
    [sid] = await make_sessions(store, 1, messages=9, sidechain_every=0)
    query = """query($sid: ID!, $after: String) { session(id: $sid) {
        messages(first: 4, after: $after) { pageInfo { hasNextPage endCursor }
          edges { node { text } } } } }"""
    texts: list[str] = []
    after = None
    for _ in range(5):
        page = (await gql(query, sid=sid, after=after))["session"]["messages"]
        texts += [e["node"]["text"] for e in page["edges"]]
        if not page["pageInfo"]["hasNextPage"]:
            break
        after = page["pageInfo"]["endCursor"]
    assert texts == [f"prompt 0.{m}" if m % 2 == 0 else f"answer 0.{m}" for m in range(9)]
    last = await gql(
        'query($sid: ID!) { session(id: $sid) { messages(last: 2, role: "user") {'
        " totalCount edges { node { text } } } } }",
        sid=sid,
    )
    messages = last["session"]["messages"]
    assert messages["totalCount"] == 5
    assert [e["node"]["text"] for e in messages["edges"]] == ["prompt 0.6", "prompt 0.8"]


async def test_session_filters(store: Store, gql: GraphQL) -> None:
    ids = await make_sessions(store, 6)

    async def matching(filter_: dict[str, object]) -> list[str]:
        data = await gql(
            "query($f: SessionFilter) { sessions(filter: $f, orderBy: {field: STARTED_AT,"
            " direction: ASC}) { totalCount edges { node { sessionId } } } }",
            f=filter_,
        )
        found = [e["node"]["sessionId"] for e in data["sessions"]["edges"]]
        assert data["sessions"]["totalCount"] == len(found)
        return found

    assert await matching({}) == ids
    assert await matching({"project": "-home-dev-app"}) == ids
    assert await matching({"project": "other"}) == []
    assert await matching({"cwd": "/home/dev/app1"}) == ids[1::2]
    assert await matching({"gitBranch": "dev"}) == ids[0::2]
    assert await matching({"model": "claude-opus-4-6"}) == ids
    assert await matching({"model": "gpt"}) == []
    assert await matching({"hasSidechains": True}) == [ids[0], ids[3]]
    assert await matching({"hasSidechains": False}) == [ids[1], ids[2], ids[4], ids[5]]
    assert await matching({"startedAfter": "2026-01-01T02:00:00Z"}) == ids[2:]
    assert await matching({"startedBefore": "2026-01-01T02:00:00+00:00"}) == ids[:2]
    assert await matching({"startedAfter": "2026-01-01T03:00:00+01:00"}) == ids[2:]
    assert await matching({"startedAfter": "2026-01-01T02:00:00"}) == ids[2:]  # naive: UTC
    assert await matching(
        {
            "startedAfter": "2026-01-01T01:00:00Z",
            "startedBefore": "2026-01-01T03:00:00Z",
            "hasSidechains": False,
        }
    ) == [ids[1], ids[2]]


async def test_root_events_filter_and_page(store: Store, gql: GraphQL) -> None:
    ids = await make_sessions(store, 3, events=4, sidechain_every=0)
    data = await gql(
        "query($sid: ID) { all: events(first: 100) { totalCount }"
        ' one: events(filter: {sessionId: $sid, types: ["progress"]}, first: 3) {'
        " totalCount pageInfo { hasNextPage } edges { node { session { sessionId } } } }"
        ' none: events(filter: {types: ["system"]}) { totalCount edges { cursor } } }',
        sid=ids[1],
    )
    assert data["all"]["totalCount"] == 12
    assert data["one"]["totalCount"] == 4
    assert data["one"]["pageInfo"]["hasNextPage"] is True
    assert {e["node"]["session"]["sessionId"] for e in data["one"]["edges"]} == {ids[1]}
    assert data["none"] == {"totalCount": 0, "edges": []}


@pytest.mark.parametrize(
    ("args", "fragment"),
    [
        ("first: 501", "between 0 and 500"),
        ("last: 501", "between 0 and 500"),
        ("first: -1", "between 0 and 500"),
        ("first: 1, last: 1", "not both"),
        ('after: "bm9wZQ"', "not a cursor"),
        ('after: "!!"', "not a cursor"),
    ],
)
async def test_bad_page_arguments_are_bad_user_input(
    store: Store, gql: GraphQL, args: str, fragment: str
) -> None:
    body = await gql.raw(f"{{ sessions({args}) {{ totalCount }} }}")
    [error] = body["errors"]
    assert error["extensions"]["code"] == "BAD_USER_INPUT"
    assert fragment in error["message"]


async def test_a_cursor_from_another_ordering_is_refused(store: Store, gql: GraphQL) -> None:
    await make_sessions(store, 3)
    page = await gql("{ sessions(first: 1) { pageInfo { endCursor } } }")
    cursor = page["sessions"]["pageInfo"]["endCursor"]
    body = await gql.raw(
        "query($c: String) { sessions(after: $c, orderBy: {field: MESSAGE_COUNT}) { totalCount } }",
        {"c": cursor},
    )
    assert body["errors"][0]["extensions"]["code"] == "BAD_USER_INPUT"


async def test_page_size_limit_is_configurable(store: Store) -> None:
    import httpx

    from graph.app import create_app
    from graph.settings import ServerSettings

    app = create_app(store=store, server=ServerSettings(max_page_size=10))
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://127.0.0.1") as c:
        ok = await c.post("/graphql", json={"query": "{ sessions(first: 10) { totalCount } }"})
        too_many = await c.post(
            "/graphql", json={"query": "{ sessions(first: 11) { totalCount } }"}
        )
    assert "errors" not in ok.json()
    assert too_many.json()["errors"][0]["extensions"] == {
        "code": "BAD_USER_INPUT",
        "argument": "first",
        "maximum": 10,
    }


async def test_stats_and_health(store: Store, gql: GraphQL) -> None:
    await make_sessions(store, 4, sidechain_every=2)
    data = await gql(
        "{ stats { sessions conversations messages events dbSizeBytes schemaVersion encrypted"
        " sqliteVersion tokenUsage { input output } }"
        " health { ok schemaVersion version uptimeSeconds } }"
    )
    stats = data["stats"]
    assert (stats["sessions"], stats["conversations"]) == (4, 6)
    assert (stats["messages"], stats["events"]) == (36, 18)
    assert stats["tokenUsage"] == {"input": 3 * 18, "output": 10 * 18}
    assert stats["dbSizeBytes"] > 0
    assert stats["schemaVersion"] == LATEST
    assert stats["encrypted"] is False
    assert data["health"]["ok"] is True
    assert data["health"]["schemaVersion"] == LATEST
