"""The one-way flow, checked on the source: HTTP -> schema -> loaders -> store -> SQLite.

- ``graph.search``, ``graph.secrets``, ``graph.inputs`` (what importers hand the
  store), ``graph.content`` and ``graph.blocks`` (what a stored message is made of) are
  pure: they import no layer above them, no store, and no SQLite. (The store may use
  them: tokenizing a document is not storage.)
- Only ``graph.store`` talks to SQLite: nothing else imports ``sqlite3`` or ``aiosqlite``
  (a SQLite error is described by ``graph.store.faults``), opens a
  connection, reaches for a store's ``connection`` or runs statements on one.
- The schema uses the store's public names (``from graph.store import ...``), not its
  modules.
- The store knows no transcript format: no model names like Claude Code's
  ``<synthetic>``, no message-key prefixes (``l:<line>``, ``m:<id>``), no record fields
  (``message.usage...``); the importers say what those mean (``billed``, ``local_key``:
  see ``graph.inputs``), and a stored record is read through ``graph.blocks`` by the
  session's ``source``.
- ``graph.content`` knows no transcript format either: each format's content blocks are
  its own module under ``graph.blocks``, chosen by the session's ``source``.

``KNOWN`` lists what does not hold yet, each a place that still has to move behind the
store's API. The test fails on anything new, and on a listed place that was fixed (so the
list only shrinks).
"""

from __future__ import annotations

import ast
import re
from collections.abc import Iterator
from pathlib import Path

import graph

ROOT = Path(graph.__file__).resolve().parent
PURE = ("graph.search", "graph.secrets", "graph.inputs", "graph.content", "graph.blocks")
ABOVE_STORE = (
    "graph.store",
    "graph.schema",
    "graph.importers",
    "graph.cli",
    "graph.app",
    "graph.http",
    "graph.ws",
    "graph.feed",
    "graph.loaders",
    "graph.export",
    "graph.demo",
)
SQL_CALLS = frozenset({"execute_fetchall", "executemany", "executescript"})
CONNECTIONS = frozenset({"connection", "writer_connection"})

# A format's marks, in the store's string literals (SQL included): a model name in angle
# brackets, or a message-key prefix (one letter and a colon, alone, quoted in SQL, or
# before a LIKE wildcard).
FORMAT_MARKERS = re.compile(r"<synthetic>|^[a-z]:$|'[a-z]:|\b[a-z]:%")

# A format's record shape, read by a module that should not know it: the keys its
# records nest a message, its usage and its tool results under, and Claude's API usage
# names (the store's columns say ``cache_read_tokens``, not ``cache_read_input_tokens``).
RECORD_KEYS = frozenset({"message", "usage", "cache_creation", "payload", "toolUseResult"})
USAGE_NAMES = re.compile(r"ephemeral_\w+|\w+_input_tokens\b")

# What a format's records look like (Codex CLI's response items, Gemini CLI's messages
# and function calls, Claude Code's prompt history), named in a module that should not
# know them.
FORMAT_WORDS = re.compile(
    r"codex|gemini|claude|response_item|payload|functionCall|functionResponse|toolCalls"
    r"|thoughts|pastedContents|display|<synthetic>",
    re.IGNORECASE,
)

# Places that still go around the store's API (issue #15), by module and rule.
KNOWN: frozenset[tuple[str, str]] = frozenset()


def modules() -> Iterator[tuple[str, ast.Module]]:
    for path in sorted(ROOT.rglob("*.py")):
        parts = path.relative_to(ROOT.parent).with_suffix("").parts
        name = ".".join(parts[:-1] if parts[-1] == "__init__" else parts)
        yield name, ast.parse(path.read_text(encoding="utf-8"), str(path))


def imported(tree: ast.Module) -> Iterator[str]:
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            yield from (alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and not node.level:
            yield node.module


def within(module: str, packages: tuple[str, ...] | str) -> bool:
    packages = (packages,) if isinstance(packages, str) else packages
    return any(module == p or module.startswith(p + ".") for p in packages)


def violations(name: str, tree: ast.Module) -> set[str]:
    found: set[str] = set()
    targets = set(imported(tree))
    if within(name, PURE):
        found |= {f"pure module imports {t}" for t in targets if within(t, ABOVE_STORE)}
        found |= {f"pure module imports {t}" for t in targets if t in ("sqlite3", "aiosqlite")}
    if within(name, "graph.store"):
        return found
    found |= {t for t in targets if t in ("sqlite3", "aiosqlite")}
    for node in ast.walk(tree):
        if isinstance(node, ast.Attribute) and node.attr in CONNECTIONS:
            found.add("store connection")
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute):
            if node.func.attr in SQL_CALLS:
                found.add(f"SQL call: {node.func.attr}")
            value = node.func.value
            if (
                node.func.attr == "connect"
                and isinstance(value, ast.Name)
                and value.id in ("sqlite3", "aiosqlite")
            ):
                found.add("opens a SQLite connection")
    if within(name, ("graph.schema", "graph.loaders", "graph.feed")):
        found |= {
            f"store internals: {t}"
            for t in targets
            if within(t, "graph.store") and t != "graph.store"
        }
    return found


def test_data_flows_one_way() -> None:
    seen = {(name, rule) for name, tree in modules() for rule in violations(name, tree)}
    assert seen - KNOWN == set(), "new layering violations"
    assert KNOWN - seen == set(), "fixed: take these out of KNOWN"


def format_markers(tree: ast.Module) -> set[str]:
    return {
        node.value
        for node in ast.walk(tree)
        if isinstance(node, ast.Constant)
        and isinstance(node.value, str)
        and FORMAT_MARKERS.search(node.value)
    }


def record_reads(tree: ast.Module) -> set[str]:
    """A format's record fields the module reads: ``x.get(KEY)``, ``x[KEY]`` with a key of
    :data:`RECORD_KEYS`, and any string naming Claude's usage fields."""
    found: set[str] = set()
    for node in ast.walk(tree):
        key = None
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and node.args:
            key = node.args[0] if node.func.attr == "get" else None
        elif isinstance(node, ast.Subscript):
            key = node.slice
        if isinstance(key, ast.Constant) and key.value in RECORD_KEYS:
            found.add(key.value)
        if isinstance(node, ast.Constant) and isinstance(node.value, str):
            found |= set(USAGE_NAMES.findall(node.value))
    return found


def test_the_store_knows_no_transcript_format() -> None:
    found = {
        name: marks
        for name, tree in modules()
        if within(name, "graph.store") and (marks := format_markers(tree) | record_reads(tree))
    }
    assert found == {}


def test_the_format_check_sees_what_it_should() -> None:
    bad = ast.parse(
        "BILLED = \"model <> '<synthetic>'\"\n"
        "KEY = f\"m.msg_key LIKE 'l:%' OR {x}\"\n"
        "LINE = 'l:'\n"
        "WILD = 'msg_key LIKE m:%'\n"
        "FINE = 'SELECT a, b FROM t WHERE x = ?1'\n"
    )
    assert format_markers(bad) == {
        "model <> '<synthetic>'",
        "m.msg_key LIKE 'l:%' OR ",
        "l:",
        "msg_key LIKE m:%",
    }


def test_the_record_check_sees_what_it_should() -> None:
    bad = ast.parse(
        "usage = record.get('message', {}).get('usage')\n"
        "ttl = usage['cache_creation']['ephemeral_1h_input_tokens']\n"
        "SQL = 'SELECT cache_read_input_tokens FROM t'\n"
        "FINE = row.get('uuid'), state['crypto.mode'], 'SELECT input_tokens, usage FROM t'\n"
    )
    assert record_reads(bad) == {
        "message",
        "usage",
        "cache_creation",
        "ephemeral_1h_input_tokens",
        "cache_read_input_tokens",
    }


def test_the_store_contract_uses_the_public_api_only() -> None:
    contract = ROOT.parent / "tests" / "store_contract"
    private = {
        (path.name, target)
        for path in contract.glob("*.py")
        for target in imported(ast.parse(path.read_text(encoding="utf-8")))
        if within(target, "graph.store") and target != "graph.store"
    }
    assert private == set()
    assert len(list(contract.glob("test_*.py"))) >= 1


def test_the_check_sees_what_it_should() -> None:
    bad = ast.parse(
        "import aiosqlite\nimport sqlite3\nfrom graph.store.reads import Reader\n"
        "async def f(store):\n    await store.read().connection.execute_fetchall('x')\n"
    )
    assert violations("graph.schema.x", bad) == {
        "aiosqlite",
        "sqlite3",
        "store connection",
        "SQL call: execute_fetchall",
        "store internals: graph.store.reads",
    }
    assert violations("graph.search.x", ast.parse("from graph.store import Store")) == {
        "pure module imports graph.store"
    }
    assert violations("graph.store.x", bad) == set()


def test_one_table_of_node_types_drives_the_schema() -> None:
    from graphql import GraphQLObjectType

    from graph.schema import build_schema
    from graph.schema.limits import connection_fields
    from graph.schema.nodes import NODES

    schema = build_schema()._schema
    implementing = {
        name
        for name, t in schema.type_map.items()
        if isinstance(t, GraphQLObjectType) and any(i.name == "Node" for i in t.interfaces)
    }
    assert implementing == set(NODES)  # every Node type resolves through node(id:)
    assert {"sessions", "messages", "events", "search"} <= connection_fields(schema)


def format_words(path: Path) -> set[str]:
    """Format words in a module's source: names, strings, docstrings and comments."""
    return {word.lower() for word in FORMAT_WORDS.findall(path.read_text(encoding="utf-8"))}


def test_content_knows_no_transcript_format() -> None:
    # The neutral helpers stay neutral: a format's rules go to its graph.blocks module.
    assert format_words(ROOT / "content.py") == set()
    tree = ast.parse((ROOT / "content.py").read_text(encoding="utf-8"))
    assert {t for t in imported(tree) if within(t, "graph")} == set()


def test_the_format_word_check_sees_what_it_should(tmp_path: Path) -> None:
    module = tmp_path / "m.py"
    module.write_text(
        "# a Gemini CLI record\nif record.get('type') == 'response_item':\n"
        "    parts = record['functionCall']\nFINE = 'text'\n"
    )
    assert format_words(module) == {"gemini", "response_item", "functioncall"}


def test_every_format_hands_out_the_blocks_its_source_is_read_with() -> None:
    from graph.blocks import BLOCKS, CACHE_WRITES_1H, blocks_for, cache_writes_1h_for
    from graph.importers.formats import FORMATS

    assert {f.source for f in FORMATS} == set(BLOCKS) == set(CACHE_WRITES_1H)
    for agent in FORMATS:
        assert agent.blocks is blocks_for(agent.source)
        assert agent.cache_writes_1h is cache_writes_1h_for(agent.source)
