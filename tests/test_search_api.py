"""Search through the API and the store: ranking, filters, paging, snippets, index upkeep."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import orjson
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from graph.search.fts import compile_query
from graph.search.query import parse
from graph.store import NewConversation, NewMessage, NewSession, PageRequest, SearchWhere, Store
from tests.conftest import GraphQL
from tests.factories import make_sessions, ts
from tests.search_corpus import (
    ALL_COLUMNS,
    WORDS,
    Corpus,
    brute_match,
    build_corpus,
    generated_queries,
    refresh_docs,
)

KINDS = ("message", "event", "session")


async def fts_hits(
    store: Store, query: str, columns: tuple[str, ...] = ALL_COLUMNS
) -> set[tuple[str, int]]:
    """Every document FTS5 returns for ``query`` over ``columns``, of all kinds."""
    expression = compile_query(parse(query), columns).expression
    async with store.read() as reader:
        page = await reader.search(expression, SearchWhere(kinds=KINDS), PageRequest(100_000))
    assert not page.has_next
    return {(hit.kind, hit.pk) for hit in page.rows}


def expected_hits(corpus: Corpus, query: str) -> set[tuple[str, int]]:
    node = parse(query)
    return {key for key, doc in corpus.docs.items() if brute_match(node, doc, ALL_COLUMNS)}


async def assert_index_agrees(store: Store, corpus: Corpus) -> None:
    checked = 0
    for query in generated_queries():
        expected = expected_hits(corpus, query)
        assert await fts_hits(store, query) == expected, query
        checked += bool(expected)
    assert checked > 20  # the query set really exercises the corpus


async def test_fts_agrees_with_a_brute_force_scan(store: Store) -> None:
    corpus = await build_corpus(store)
    await assert_index_agrees(store, corpus)


async def test_index_follows_merges_clears_title_changes_and_deletes(store: Store) -> None:
    corpus = await build_corpus(store)
    conn = store.writer_connection
    [(session_pk, conversation_pk)] = await conn.execute_fetchall(
        "SELECT session_pk, id FROM conversations ORDER BY id LIMIT 1"
    )
    async with store.write() as writer:
        # a record arriving later merges into an existing message: its doc must change
        [(msg_key,)] = await conn.execute_fetchall(
            "SELECT msg_key FROM messages WHERE msg_key LIKE 'm:%' ORDER BY id LIMIT 1"
        )
        late = {
            "type": "assistant",
            "message": {
                "id": "x",
                "role": "assistant",
                "content": [{"type": "text", "text": "zanzibar deadlock"}],
            },
        }
        await writer.add_messages(
            session_pk, conversation_pk, [NewMessage(msg_key, "assistant", ts(0), [(999, late)])]
        )
        await writer.set_session_text(session_pk, title="quetzal retry")
    await refresh_docs(store, corpus)
    await assert_index_agrees(store, corpus)
    assert ("session", session_pk) in await fts_hits(store, "title:quetzal")
    assert len(await fts_hits(store, "zanzibar")) == 1

    async with store.write() as writer:
        await writer.clear_conversation(conversation_pk)
        await writer.delete_session(session_pk + 1)
    await refresh_docs(store, corpus)
    await assert_index_agrees(store, corpus)
    assert await fts_hits(store, "zanzibar") == set()
    [(orphans,)] = await conn.execute_fetchall(
        "SELECT count(*) FROM search_docs WHERE session_pk = ?", (session_pk + 1,)
    )
    assert orphans == 0
    assert await store.check() == []  # documents, index entries and rows agree


async def test_ranking_paging_and_total_count(store: Store, gql: GraphQL) -> None:
    await build_corpus(store, sessions=20)
    query = """query($q: String!, $after: String) {
        search(query: $q, first: 7, after: $after, scopes: [MESSAGES, SESSIONS, EVENTS]) {
          totalCount pageInfo { hasNextPage endCursor }
          edges { cursor node { score node { __typename ... on Message { id }
                  ... on Event { id } ... on Session { id } } } } } }"""
    seen: list[str] = []
    scores: list[float] = []
    after = None
    while True:
        page = (await gql(query, q="migration OR sqlite", after=after))["search"]
        seen += [e["node"]["node"]["id"] for e in page["edges"]]
        scores += [e["node"]["score"] for e in page["edges"]]
        if not page["pageInfo"]["hasNextPage"]:
            break
        after = page["pageInfo"]["endCursor"]
    assert len(seen) == len(set(seen)) == page["totalCount"] > 7
    assert scores == sorted(scores, reverse=True)
    default_fields = tuple(c for c in ALL_COLUMNS if c != "tool_output")
    assert len(await fts_hits(store, "migration OR sqlite", default_fields)) == len(seen)


async def test_scopes_filters_and_fields(store: Store, gql: GraphQL) -> None:
    corpus = await build_corpus(store, sessions=9)

    async def kinds(q: str, **args: object) -> set[str]:
        data = await gql(
            "query($q: String!, $scopes: [SearchScope!], $filter: SearchFilter) {"
            " search(query: $q, scopes: $scopes, filter: $filter, first: 500) {"
            " edges { node { node { __typename } session { project sessionId } } } } }",
            q=q,
            **args,
        )
        return {e["node"]["node"]["__typename"] for e in data["search"]["edges"]}

    assert await kinds("migration OR fix OR bug") == {"Message", "Session"}  # default scopes
    assert await kinds("migration OR fix OR bug", scopes=["EVENTS"]) == {"Event"}
    data = await gql(
        "query($f: SearchFilter, $q: String!) { search(query: $q, filter: $f, first: 500) {"
        " totalCount edges { node { session { project sessionId } node {"
        " ... on Message { role } } } } } }",
        f={"project": "p1", "role": "user", "sessionId": corpus.session_ids[1]},
        q=" OR ".join(WORDS[:12]),
    )
    edges = data["search"]["edges"]
    assert edges and data["search"]["totalCount"] == len(edges)
    assert {e["node"]["session"]["sessionId"] for e in edges} == {corpus.session_ids[1]}
    assert {e["node"]["node"]["role"] for e in edges} == {"user"}
    # tool output is searchable, but only when asked for
    only_output = await gql(
        'query($f: SearchFilter) { a: search(query: "deadlock", filter: $f) { totalCount }'
        ' b: search(query: "output:deadlock") { totalCount } }',
        f={"fields": ["TOOL_OUTPUT"]},
    )
    assert only_output["a"]["totalCount"] == only_output["b"]["totalCount"] > 0


async def test_snippets_and_highlights(store: Store, gql: GraphQL) -> None:
    async with store.write() as writer:
        pk = await writer.upsert_session(NewSession("snip"))
        conv = await writer.upsert_conversation(pk, NewConversation())
        text = (
            "Some preamble words. " * 20 + "Finally we fixed the Migration bug in "
            "graph/store/migrations.py.\nIt was a deadlock. " + "Trailing words. " * 20
        )
        record = {"type": "user", "message": {"role": "user", "content": text}}
        await writer.add_messages(pk, conv, [NewMessage("u:1", "user", ts(0), [(1, record)])])
    data = await gql(
        '{ search(query: "migration bug dead*") { edges { node { snippet field'
        " highlights { start end } } } } }"
    )
    [hit] = [e["node"] for e in data["search"]["edges"]]
    assert hit["field"] == "TEXT"
    snippet = hit["snippet"]
    assert snippet.startswith("…") and snippet.endswith("…") and "\n" not in snippet
    marked = [snippet[h["start"] : h["end"]] for h in hit["highlights"]]
    assert marked == ["Migration", "bug", "deadlock"]


async def test_near_and_phrases(store: Store, gql: GraphQL) -> None:
    async with store.write() as writer:
        pk = await writer.upsert_session(NewSession("near"))
        conv = await writer.upsert_conversation(pk, NewConversation())
        texts = [
            "alpha beta gamma delta",
            "alpha one two three four five six beta",
            "beta alpha",
            "use snake_case here",
            "getUserName returns it",
        ]
        await writer.add_messages(
            pk,
            conv,
            [
                NewMessage(f"u:{i}", "user", ts(i), [(i, {"message": {"content": t}})])
                for i, t in enumerate(texts, start=1)
            ],
        )

    async def texts_for(q: str) -> list[str]:
        data = await gql(
            "query($q: String!) { search(query: $q) { edges { node { node {"
            " ... on Message { text } } } } } }",
            q=q,
        )
        return sorted(e["node"]["node"]["text"] for e in data["search"]["edges"])

    assert await texts_for("NEAR(alpha beta, 2)") == ["alpha beta gamma delta", "beta alpha"]
    assert len(await texts_for("NEAR(alpha beta, 10)")) == 3
    assert await texts_for('"alpha beta"') == ["alpha beta gamma delta"]
    assert await texts_for("snake_case") == ["use snake_case here"]
    assert await texts_for('"snake case"') == ["use snake_case here"]
    assert await texts_for("case") == ["use snake_case here"]
    assert await texts_for("getUserName") == ["getUserName returns it"]
    assert await texts_for("user") == ["getUserName returns it"]
    assert await texts_for("get_user_name") == ["getUserName returns it"]


async def test_sessions_filter_search(store: Store, gql: GraphQL) -> None:
    corpus = await build_corpus(store, sessions=10)
    data = await gql(
        '{ sessions(filter: {search: "output:deadlock"}, first: 100) { totalCount'
        " edges { node { id sessionId } } } }"
    )
    found = {e["node"]["sessionId"] for e in data["sessions"]["edges"]}
    expected = set()
    conn = store.writer_connection
    for (kind, pk), doc in corpus.docs.items():
        if "deadlock" in doc.tool_output.split():
            [(sid,)] = await conn.execute_fetchall(
                f"SELECT s.session_id FROM sessions s JOIN {kind}s x ON x.session_pk = s.id"
                " WHERE x.id = ?",
                (pk,),
            )
            expected.add(sid)
    assert found == expected and data["sessions"]["totalCount"] == len(found)
    bad = await gql.raw('{ sessions(filter: {search: "(unclosed"}) { totalCount } }')
    assert bad["errors"][0]["extensions"]["code"] == "BAD_SEARCH_QUERY"


@pytest.mark.parametrize(
    ("query", "position"), [('"open', 0), ("a OR", 4), ("x )", 2), ("", 0), ("NOT x", 0)]
)
async def test_bad_queries_are_bad_search_query(gql: GraphQL, query: str, position: int) -> None:
    body = await gql.raw("query($q: String!) { search(query: $q) { totalCount } }", {"q": query})
    [error] = body["errors"]
    assert error["extensions"] == {"code": "BAD_SEARCH_QUERY", "position": position}


async def test_cursor_of_another_query_is_refused(store: Store, gql: GraphQL) -> None:
    await make_sessions(store, 3)
    page = await gql('{ search(query: "answer", first: 1) { pageInfo { endCursor } } }')
    cursor = page["search"]["pageInfo"]["endCursor"]
    body = await gql.raw(
        'query($c: String) { search(query: "prompt", after: $c) { totalCount } }', {"c": cursor}
    )
    assert body["errors"][0]["extensions"]["code"] == "BAD_USER_INPUT"


@settings(
    max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(query=st.text(max_size=30))
async def test_random_queries_never_fail_the_server(gql: GraphQL, query: str) -> None:
    response = await gql.client.post(
        "/graphql",
        json={
            "query": "query($q: String!) { search(query: $q) { totalCount edges { node {"
            " snippet } } } }",
            "variables": {"q": query},
        },
    )
    assert response.status_code == 200
    for error in response.json().get("errors", []):
        assert error["extensions"]["code"] == "BAD_SEARCH_QUERY"


async def test_upgrading_a_database_indexes_what_it_already_holds(tmp_path: Path) -> None:
    from graph.store import load_migrations

    db = tmp_path / "old.db"
    first = load_migrations()[:1]
    old = Store(db, migrations=first, hooks=[])
    await old.connect()
    await old.migrate()
    # Today's writer stores each message's text (migration 0008): the column exists
    # while it writes, and goes again, as in a database from before that migration.
    await old.writer_connection.execute("ALTER TABLE messages ADD COLUMN text BLOB")
    await make_sessions(old, 2)
    await old.writer_connection.execute("ALTER TABLE messages DROP COLUMN text")
    await old.writer_connection.commit()
    await old.close()
    store = await Store.open(db)
    try:
        async with store.read() as reader:
            expression = compile_query(parse("answer"), ALL_COLUMNS).expression
            assert await reader.count_search(expression, SearchWhere()) == 9
    finally:
        await store.close()
    with sqlite3.connect(db) as conn:
        conn.execute("INSERT INTO search_fts (search_fts) VALUES ('integrity-check')")


async def test_common_words_rank_only_the_newest_window(store: Store) -> None:
    await make_sessions(store, 6, messages=6, sidechain_every=0)
    expression = compile_query(parse("answer"), ALL_COLUMNS).expression
    where = SearchWhere(kinds=("message",))
    async with store.read() as reader:
        every = await reader.search(expression, where, PageRequest(100))
        newest = await reader.search(expression, where, PageRequest(100), window=4)
        total = await reader.count_search(expression, where)
        filtered = await reader.search(
            expression, SearchWhere(kinds=("message",), session_pk=1), PageRequest(100), window=2
        )
    assert total == len(every.rows) == 18
    # the 4 newest matches, ranked among themselves; totalCount still counts all 18
    assert sorted(hit.rowid for hit in newest.rows) == sorted(h.rowid for h in every.rows)[-4:]
    # the window counts documents that pass the filters: no page starved by others
    assert len(filtered.rows) == 2 and {hit.session_pk for hit in filtered.rows} == {1}


def test_snippets_of_huge_fields_tokenize_only_around_the_match() -> None:
    from graph.search.documents import Fields
    from graph.search.snippets import make_snippet

    output = "ran the debugger\n" + "noise line\n" * 50_000 + "the real bug is here\n"
    snippet = make_snippet(Fields(tool_output=output), frozenset({"bug"}))
    assert snippet is not None and snippet.field == "tool_output"
    assert [snippet.text[a:b] for a, b in snippet.highlights] == ["bug"]
    assert snippet.text.startswith("…") and len(snippet.text) < 300


@pytest.mark.parametrize("kinds", [("message", "session"), ("message",), ("event", "session")])
@pytest.mark.parametrize("window", [3, 1_000])
async def test_the_kinds_only_ranking_equals_the_filtered_one(
    store: Store, kinds: tuple[str, ...], window: int
) -> None:
    """Kinds read off rowids (no filter set) rank exactly as the joined filters do."""
    await make_sessions(store, 5, messages=8, events=4)
    plain = SearchWhere(kinds=kinds)
    joined = SearchWhere(kinds=kinds, since="0000")  # any filter takes the joined path
    assert plain.kinds_only and not joined.kinds_only
    for text in ("answer", "prompt OR progress", "hook*"):
        expression = compile_query(parse(text), ALL_COLUMNS).expression
        async with store.read() as reader:
            for request in (PageRequest(4), PageRequest(4, from_end=True)):
                a = await reader.search(expression, plain, request, window=window)
                b = await reader.search(expression, joined, request, window=window)
                assert a.rows == b.rows
                if a.rows:
                    last = a.rows[-1]
                    after = PageRequest(4, after=(last.score, last.rowid))
                    a2 = await reader.search(expression, plain, after, window=window)
                    b2 = await reader.search(expression, joined, after, window=window)
                    assert a2.rows == b2.rows


async def _progress_documents(store: Store) -> tuple[int, int, int]:
    """(progress events with a document, event documents, events that should have one)."""
    [row] = await store.writer_connection.execute_fetchall(
        "SELECT (SELECT count(*) FROM search_docs AS d JOIN events AS e ON d.rowid = e.id * 4 + 1"
        " WHERE e.type = 'progress'), (SELECT count(*) FROM search_docs WHERE kind = 'event'),"
        " (SELECT count(*) FROM events WHERE type <> 'progress')"
    )
    return row[0], row[1], row[2]


async def test_progress_events_have_no_documents_and_older_indexes_drop_theirs(
    db_path: Path, samples_dir: Path
) -> None:
    from graph.importers.importer import import_paths
    from graph.search.analysis import Analysis
    from graph.search.documents import event_fields
    from graph.store.indexing import doc_rowid
    from graph.store.maintenance import check_database

    store = await Store.open(db_path)
    try:
        await import_paths(store, [samples_dir])
        # A command's output is in its bash_progress events and in its tool result: one hit.
        assert {kind for kind, _ in await fts_hits(store, '"resolving hex"')} == {"message"}
        progress, documents, searched = await _progress_documents(store)
        assert progress == 0 and documents == searched > 0
        assert await check_database(store.writer_connection) == []
        # An index of version 2 had documents for progress events too.
        conn = store.writer_connection
        [(pk, data)] = await conn.execute_fetchall(
            "SELECT id, data FROM events WHERE type = 'progress' ORDER BY id LIMIT 1"
        )
        columns = Analysis().columns(event_fields(orjson.loads(data)))
        async with store.write():
            await conn.execute(
                "INSERT INTO search_fts (rowid, text, thinking, tool_input, tool_output, title,"
                " event) VALUES (?, ?, ?, ?, ?, ?, ?)",
                (doc_rowid("event", pk), *columns),
            )
            await conn.execute(
                "INSERT INTO search_docs (rowid, kind, session_pk) SELECT ?, 'event', session_pk"
                " FROM events WHERE id = ?",
                (doc_rowid("event", pk), pk),
            )
            await conn.execute("UPDATE meta SET value = '2' WHERE key = 'search.version'")
        assert (await _progress_documents(store))[0] == 1
    finally:
        await store.close()
    store = await Store.open(db_path)  # rebuilt on open: the version is not this one's
    try:
        progress, documents, searched = await _progress_documents(store)
        assert progress == 0 and documents == searched
        assert await check_database(store.writer_connection) == []
    finally:
        await store.close()


HIT_FIELDS = """score snippet field highlights { start end } session { sessionId }
  node { __typename ... on Message { role } ... on Event { type } ... on Session { title } }"""


@pytest.mark.parametrize("first", [5, 40])
async def test_a_page_of_hits_costs_the_same_statements_however_long(
    store: Store, gql: GraphQL, first: int
) -> None:
    await build_corpus(store, sessions=12)
    query = (
        'query($n: Int!) { search(query: "session OR store OR graph", first: $n,'
        f" scopes: [MESSAGES, EVENTS, SESSIONS]) {{ edges {{ node {{ {HIT_FIELDS} }} }} }} }}"
    )
    await gql(query, n=first)  # warm the reader pool
    before = store.statements.count
    data = await gql(query, n=first)
    hits = [edge["node"] for edge in data["search"]["edges"]]
    assert len(hits) == first
    kinds = {hit["node"]["__typename"] for hit in hits}
    assert all(hit["snippet"] and hit["session"]["sessionId"] for hit in hits)
    # The page, then one statement per kind of row it names (the hits' sessions and
    # Session nodes share one): never one per hit.
    assert store.statements.count - before == 1 + len(kinds | {"Session"})
    if first > 5:
        assert kinds == {"Message", "Event", "Session"}
    # What is not selected is not loaded: scores alone cost the page query alone.
    before = store.statements.count
    await gql(query.replace(HIT_FIELDS, "score"), n=first)
    assert store.statements.count - before == 1


async def test_hit_fields_come_through_fragments_aliases_and_both_lists(
    store: Store, gql: GraphQL
) -> None:
    await build_corpus(store, sessions=3)
    data = await gql(
        """{ search(query: "store", first: 3) {
          bare: edges { node { score } }
          edges { node { ...Shown } }
          nodes { ... on SearchHit { snippet node { __typename } } }
        } }
        fragment Shown on SearchHit { field highlights { start } session { sessionId } }"""
    )
    result = data["search"]
    assert len(result["bare"]) == len(result["edges"]) == len(result["nodes"]) == 3
    assert all(e["node"]["field"] and e["node"]["highlights"] for e in result["edges"])
    assert all(e["node"]["session"]["sessionId"] for e in result["edges"])
    assert all("store" in n["snippet"].lower() and n["node"] for n in result["nodes"])
