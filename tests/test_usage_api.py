"""The usage API: groups equal a brute-force count in several time zones, one statement
per call, projects, filter menus, billing blocks, errors, and encrypted databases."""

from __future__ import annotations

from collections import defaultdict
from datetime import date, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from graphql import parse

from graph.crypto import MasterKey
from graph.importers.importer import import_paths
from graph.pricing import PriceBook
from graph.schema import build_schema
from graph.schema.limits import connection_fields, estimate_cost
from graph.store import Store
from graph.store.keyring import KeyMaterial
from tests.conftest import GraphQL, api_client
from tests.factories import make_sessions
from tests.usage_data import Billed, assistant, billed_messages, replay, user, write

MODELS = [
    "claude-sonnet-4-5-20250929",
    "claude-haiku-4-5-20251001",
    "claude-opus-4-6",
    "local-llama",
]


def _corpus(root: Path) -> list[Path]:
    """Six sessions of messages 7 to 59 minutes apart, around midnight in Los Angeles and
    Kolkata and across the US change to summer time (2026-03-08), one resumed."""
    paths = []
    starts = [
        "2026-03-07T06:40:00",
        "2026-03-08T09:10:00",
        "2026-03-08T17:50:00",
        "2026-03-31T18:05:00",
        "2026-04-01T07:30:00",
        "2026-02-28T23:00:00",
    ]
    sessions: list[list[dict[str, Any]]] = []
    for n, start in enumerate(starts):
        sid = f"00000000-0000-4000-8000-{n:012d}"
        moment = datetime.fromisoformat(start + "+00:00")
        records: list[dict[str, Any]] = []
        for i in range(14):
            from datetime import timedelta

            moment += timedelta(minutes=7 + (i * 13 + n * 5) % 53)
            ts = moment.strftime("%Y-%m-%dT%H:%M:%S.000Z")
            records.append(user(sid, f"u{n}-{i}", ts))
            records.append(
                assistant(
                    sid,
                    f"a{n}-{i}",
                    f"msg_{n}_{i}",
                    ts,
                    model=MODELS[(n + i) % len(MODELS)],
                    input=5 + i,
                    output=40 * i + n,
                    # i == 5: exactly 200,000 input in all, the last at the base price
                    cache_read=1000 * (i % 3) + {4: 150_000, 5: 197_690, 9: 250_000}.get(i, 0),
                    cache_write=300 * (i % 2),
                    cache_write_1h=100 * (i % 4 == 1),
                )
            )
        if n == 4:  # resumes session 3: its history replayed first
            records = replay(sessions[3], sid) + records
        sessions.append(records)
        paths.append(write(root, sid, records, project=f"-home-dev-p{n % 2}"))
    return paths


@pytest.fixture
async def corpus(store: Store, tmp_path: Path) -> dict[tuple[str, str], Billed]:
    paths = _corpus(tmp_path / "projects")
    await import_paths(store, [tmp_path / "projects"], worker=False)
    return billed_messages(paths)


def _local(billed: Billed, zone: ZoneInfo) -> date:
    return datetime.fromisoformat(billed.timestamp).astimezone(zone).date()


def _brute(billed: dict[tuple[str, str], Billed], key: Any) -> dict[Any, dict[str, Any]]:
    prices = PriceBook()
    groups: dict[Any, dict[str, Any]] = defaultdict(
        lambda: {
            "input": 0,
            "output": 0,
            "cacheRead": 0,
            "cacheCreation": 0,
            "cacheCreation1h": 0,
            "messages": 0,
            "sessions": set(),
            "cost": None,
        }
    )
    for b in billed.values():
        g = groups[key(b)]
        g["input"] += b.input
        g["output"] += b.output
        g["cacheRead"] += b.cache_read
        g["cacheCreation"] += b.cache_write
        g["cacheCreation1h"] += b.cache_write_1h
        g["messages"] += 1
        g["sessions"].add(b.session)
        from graph.store.rows import TokenTotals

        tokens = TokenTotals(b.input, b.output, b.cache_read, b.cache_write, b.cache_write_1h)
        cost = prices.cost(
            b.model,
            datetime.fromisoformat(b.timestamp).date(),
            tokens,
            b.input + b.cache_read + b.cache_write,
        )
        if cost is not None:
            g["cost"] = (g["cost"] or Decimal(0)) + cost
    return groups


USAGE = """query($by: [UsageDimension!]!, $tz: String, $filter: UsageFilter) {
  usage(groupBy: $by, timeZone: $tz, filter: $filter, first: 500) {
    totalCount
    totals { messageCount sessionCount costUsd unpricedModels }
    nodes { day week month model project sessionId costUsd unpricedModels messageCount
            sessionCount tokenUsage { input output cacheRead cacheCreation cacheCreation1h } }
  }
}"""


def _observed(node: dict[str, Any]) -> dict[str, Any]:
    return {
        **node["tokenUsage"],
        "messages": node["messageCount"],
        "sessions": node["sessionCount"],
    }


def _expected(group: dict[str, Any]) -> dict[str, Any]:
    return {
        **{k: v for k, v in group.items() if k not in ("sessions", "cost")},
        "sessions": len(group["sessions"]),
    }


@pytest.mark.parametrize("zone", ["America/Los_Angeles", "Asia/Kolkata", "UTC"])
async def test_day_by_model_equals_a_brute_force_count(
    gql: GraphQL, corpus: dict[tuple[str, str], Billed], zone: str
) -> None:
    tz = ZoneInfo(zone)
    data = await gql(USAGE, by=["DAY", "MODEL"], tz=zone)
    expected = _brute(corpus, lambda b: (_local(b, tz).isoformat(), b.model))
    nodes = data["usage"]["nodes"]
    assert {(n["day"], n["model"]): _observed(n) for n in nodes} == {
        key: _expected(g) for key, g in expected.items()
    }
    for node in nodes:
        cost = expected[node["day"], node["model"]]["cost"]
        if cost is None:
            assert node["costUsd"] is None
            assert node["unpricedModels"] == ["local-llama"]
        else:
            assert node["costUsd"] == pytest.approx(float(cost), rel=1e-12)
    # Groups come sorted by their keys; the totals are every group's.
    assert [(n["day"], n["model"]) for n in nodes] == sorted(expected)
    assert data["usage"]["totals"]["messageCount"] == len(corpus)
    assert data["usage"]["totals"]["sessionCount"] == 6
    assert data["usage"]["totals"]["unpricedModels"] == ["local-llama"]


async def test_a_session_crossing_midnight_splits_by_the_zone(
    gql: GraphQL, corpus: dict[tuple[str, str], Billed]
) -> None:
    # Session 2 runs from 17:57 UTC past midnight UTC: each zone cuts it elsewhere.
    sid = "00000000-0000-4000-8000-000000000002"
    days = {}
    for zone in ("UTC", "Asia/Kolkata", "America/Los_Angeles"):
        data = await gql(USAGE, by=["DAY"], tz=zone, filter={"sessions": [sid]})
        days[zone] = {n["day"]: n["messageCount"] for n in data["usage"]["nodes"]}
        expected: dict[str, int] = defaultdict(int)
        for b in corpus.values():
            if b.session == sid:
                expected[_local(b, ZoneInfo(zone)).isoformat()] += 1
        assert days[zone] == expected
    assert len(days["UTC"]) == 2
    assert days["UTC"] != days["Asia/Kolkata"]
    assert days["UTC"] != days["America/Los_Angeles"]


@pytest.mark.parametrize("zone", ["Europe/Paris", "Asia/Kolkata"])
async def test_weeks_and_months_equal_a_brute_force_count(
    gql: GraphQL, corpus: dict[tuple[str, str], Billed], zone: str
) -> None:
    tz = ZoneInfo(zone)

    def week(b: Billed) -> str:
        year, number, _ = _local(b, tz).isocalendar()
        return f"{year}-W{number:02d}"

    data = await gql(USAGE, by=["WEEK", "MONTH", "PROJECT"], tz=zone)
    expected = _brute(corpus, lambda b: (week(b), _local(b, tz).strftime("%Y-%m")))
    observed: dict[tuple[str, str], dict[str, Any]] = {}
    for node in data["usage"]["nodes"]:  # summed over projects
        key = (node["week"], node["month"])
        row = observed.setdefault(key, {k: 0 for k in _observed(node)})
        for name, value in _observed(node).items():
            if name != "sessions":
                row[name] += value
    for group in expected.values():
        group.pop("sessions")
    assert {k: {n: v for n, v in o.items() if n != "sessions"} for k, o in observed.items()} == {
        k: {n: v for n, v in g.items() if n != "cost"} for k, g in expected.items()
    }


async def test_filters_and_session_groups(
    gql: GraphQL, corpus: dict[tuple[str, str], Billed]
) -> None:
    data = await gql(
        USAGE,
        by=["SESSION"],
        filter={
            "models": ["claude-opus-4-6"],
            "projects": ["-home-dev-p0"],
            "since": "2026-03-08T00:00:00Z",
            "until": "2026-04-01T00:00:00Z",
        },
    )
    expected = _brute(
        {
            k: b
            for k, b in corpus.items()
            if b.model == "claude-opus-4-6"
            and b.session[-1] in "024"
            and "2026-03-08" <= b.timestamp < "2026-04-01"
        },
        lambda b: b.session,
    )
    assert {n["sessionId"]: _observed(n) for n in data["usage"]["nodes"]} == {
        k: _expected(g) for k, g in expected.items()
    }
    assert (await gql(USAGE, by=["SOURCE"], filter={"sources": ["codex"]}))["usage"][
        "totalCount"
    ] == 0
    sources = await gql(USAGE, by=["SOURCE", "GIT_BRANCH"])
    assert [(n["messageCount"]) for n in sources["usage"]["nodes"]] == [len(corpus)]


async def test_usage_pages_with_cursors(
    gql: GraphQL, corpus: dict[tuple[str, str], Billed]
) -> None:
    query = """query($after: String) { usage(groupBy: [DAY, MODEL], timeZone: "UTC", first: 5,
      after: $after) { totalCount pageInfo { hasNextPage hasPreviousPage endCursor }
      nodes { day model } } }"""
    seen, after = [], None
    while True:
        page = (await gql(query, after=after))["usage"]
        seen += [(n["day"], n["model"]) for n in page["nodes"]]
        assert page["pageInfo"]["hasPreviousPage"] == (after is not None)
        if not page["pageInfo"]["hasNextPage"]:
            break
        after = page["pageInfo"]["endCursor"]
    everything = await gql(USAGE, by=["DAY", "MODEL"], tz="UTC")
    assert seen == [(n["day"], n["model"]) for n in everything["usage"]["nodes"]]
    assert len(seen) == page["totalCount"] > 5


async def test_projects_and_filter_options(
    gql: GraphQL, corpus: dict[tuple[str, str], Billed]
) -> None:
    data = await gql("""{ projects { totalCount nodes { project cwd sessionCount messageCount
      costUsd unpricedModels tokenUsage { total } firstActivityAt lastActivityAt } }
      usageFilterOptions { projects models gitBranches sources } }""")
    projects = data["projects"]["nodes"]
    assert data["projects"]["totalCount"] == 2
    assert [p["lastActivityAt"] for p in projects] == sorted(
        (p["lastActivityAt"] for p in projects), reverse=True
    )
    for project in projects:
        index = project["project"][-1]
        mine = {k: b for k, b in corpus.items() if int(b.session[-1]) % 2 == int(index)}
        assert project["tokenUsage"]["total"] == sum(b.total for b in mine.values())
        assert project["sessionCount"] == 3
        assert project["cwd"] == "/home/dev/app"
        assert project["unpricedModels"] == ["local-llama"]
        cost = _brute(mine, lambda b: 0)[0]["cost"]
        assert project["costUsd"] == pytest.approx(float(cost), rel=1e-12)
    assert data["usageFilterOptions"] == {
        "projects": ["-home-dev-p0", "-home-dev-p1"],
        "models": sorted(MODELS),
        "gitBranches": ["main"],
        "sources": ["claude-code"],
    }


async def test_costs_of_sessions_messages_and_stats_agree(
    gql: GraphQL, corpus: dict[tuple[str, str], Billed]
) -> None:
    data = await gql("""{ stats { costUsd } usage(groupBy: [SESSION]) { totals { costUsd } nodes {
      sessionId costUsd session { costUsd messages(first: 500, role: "assistant") {
      nodes { counted costUsd } } } } } }""")
    nodes = data["usage"]["nodes"]
    assert data["stats"]["costUsd"] == pytest.approx(data["usage"]["totals"]["costUsd"])
    assert sum(n["costUsd"] for n in nodes) == pytest.approx(data["stats"]["costUsd"])
    for node in nodes:
        session = node["session"]
        assert session["costUsd"] == pytest.approx(node["costUsd"])
        counted = [m["costUsd"] or 0 for m in session["messages"]["nodes"] if m["counted"]]
        assert sum(counted) == pytest.approx(node["costUsd"])


# one statement per call


async def _statements(store: Store, gql: GraphQL, query: str) -> int:
    await gql(query)  # warm the reader pool
    before = store.statements.count
    await gql(query)
    return store.statements.count - before


CALLS = [
    "{ usage(groupBy: [DAY, WEEK, MONTH, PROJECT, MODEL, SESSION, SOURCE, GIT_BRANCH], "
    'timeZone: "Europe/Paris") { totalCount totals { costUsd } nodes { day costUsd } } }',
    "{ usage(groupBy: [MODEL]) { nodes { model tokenUsage { total } } } }",
    "{ usageBlocks(first: 50) { start costUsd tokensPerHour } }",
    "{ projects { nodes { project costUsd sessionCount } } }",
    "{ usageFilterOptions { models projects gitBranches sources } }",
    "{ stats { costUsd } }",  # + the stats themselves
    "{ sessions(first: 300) { nodes { costUsd } } }",  # + the page
]


@pytest.mark.parametrize("query", CALLS)
async def test_each_call_is_one_statement_whatever_the_data(tmp_path: Path, query: str) -> None:
    counts = []
    for sessions in (5, 200):
        store = await Store.open(tmp_path / f"{sessions}.db")
        try:
            await make_sessions(store, sessions, messages=6)
            async with api_client(store) as client:
                counts.append(await _statements(store, GraphQL(client), query))
        finally:
            await store.close()
    assert counts[0] == counts[1] == (2 if query.startswith(("{ stats", "{ sessions")) else 1)


# errors


@pytest.mark.parametrize(
    ("query", "code"),
    [
        ('{ usage(groupBy: [DAY], timeZone: "Mars/Olympus") { totalCount } }', "BAD_USER_INPUT"),
        ('{ usage(groupBy: [DAY], after: "nope") { totalCount } }', "BAD_USER_INPUT"),
        ("{ usage(groupBy: [DAY], first: 501) { totalCount } }", "BAD_USER_INPUT"),
        ("{ usage(groupBy: [NOPE]) { totalCount } }", "GRAPHQL_VALIDATION_FAILED"),
        (
            '{ usage(groupBy: [DAY], filter: {sessions: ["TWVzc2FnZTox"]}) { totalCount } }',
            "BAD_ID",
        ),
        ("{ usageBlocks(first: -1) { start } }", "BAD_USER_INPUT"),
    ],
)
async def test_bad_arguments_are_user_errors(gql: GraphQL, query: str, code: str) -> None:
    body = await gql.raw(query)
    assert body["errors"][0]["extensions"]["code"] == code
    assert "Traceback" not in str(body)


async def test_a_cursor_of_another_grouping_is_refused(gql: GraphQL, store: Store) -> None:
    await make_sessions(store, 3)
    page = await gql("{ usage(groupBy: [DAY], first: 1) { pageInfo { endCursor } } }")
    cursor = page["usage"]["pageInfo"]["endCursor"]
    body = await gql.raw(
        "query($c: String) { usage(groupBy: [MODEL], after: $c) { totalCount } }", {"c": cursor}
    )
    assert body["errors"][0]["extensions"]["code"] == "BAD_USER_INPUT"


def test_usage_and_projects_are_costed_as_connections() -> None:
    # Without `first` they still return a default-sized page: the cost limit counts it.
    connections = connection_fields(build_schema()._schema)
    assert {"usage", "projects"} <= connections
    document = parse("{ usage(groupBy: [DAY]) { totalCount } projects { totalCount } }")
    assert estimate_cost(document, None, {}, 50, connections) == 100


# encrypted databases: token counts are plaintext by design, so usage is the same


async def test_usage_of_an_encrypted_database_equals_the_plaintext_one(
    tmp_path: Path, samples_dir: Path
) -> None:
    answers = []
    for key in (None, KeyMaterial(key=MasterKey(bytes(range(32))))):
        store = await Store.open(tmp_path / f"{key is not None}.db", key=key)
        try:
            await import_paths(store, [samples_dir], worker=False)
            async with api_client(store) as client:
                answers.append(
                    await GraphQL(client)(
                        USAGE.replace("$filter: UsageFilter", "$filter: UsageFilter = null"),
                        by=["DAY", "MODEL", "SESSION"],
                        tz="Europe/Paris",
                    )
                )
                stats = await GraphQL(client)(
                    "{ stats { encrypted costUsd tokenUsage { cacheCreation1h } } }"
                )
                assert stats["stats"]["encrypted"] is (key is not None)
                assert stats["stats"]["tokenUsage"]["cacheCreation1h"] > 0
        finally:
            await store.close()
    assert answers[0] == answers[1]
    assert answers[0]["usage"]["totals"]["costUsd"] > 0
