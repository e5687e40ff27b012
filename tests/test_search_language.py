"""The tokenizer and the query language: rules, errors with positions, and fuzzing."""

from __future__ import annotations

import sqlite3

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from graph.search.fts import compile_query
from graph.search.query import And, Near, Not, Or, SearchSyntaxError, Term, parse
from graph.search.tokenize import fast_tokens, index_text, tokenize, tokens

COLUMNS = ("text", "thinking", "tool_input", "tool_output", "title", "event")


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Hello, World!", ["hello", "world"]),
        ("getUserName", ["get", "user", "name"]),
        ("HTTPServer XMLHttpRequest", ["http", "server", "xml", "http", "request"]),
        ("snake_case_name", ["snake", "case", "name"]),
        ("graph/store/reads.py", ["graph", "store", "reads", "py"]),
        (
            "foo.bar.baz git-branch a:b C:\\dir",
            ["foo", "bar", "baz", "git", "branch", "a", "b", "c", "dir"],
        ),
        ("Crème Brûlée, ÉTÉ, Straße", ["creme", "brulee", "ete", "strasse"]),
        ("cafe\u0301", ["cafe"]),  # decomposed accent: still one word
        ("utf8 sha256sum v2", ["utf8", "sha256sum", "v2"]),
        ("x" * 65 + " ok", ["ok"]),
        ("日本語のテキスト", ["日本語のテキスト"]),
        ("--- +++ && ||", []),
    ],
)
def test_tokenizer_rules(text: str, expected: list[str]) -> None:
    assert tokens(text) == expected


def test_token_spans_point_into_the_text() -> None:
    text = "Fix getUserName in graph/store.py"
    assert [text[t.start : t.end] for t in tokenize(text)] == [
        "Fix",
        "get",
        "User",
        "Name",
        "in",
        "graph",
        "store",
        "py",
    ]


def _fts_tokens(conn: sqlite3.Connection, value: str) -> list[str]:
    conn.execute("DELETE FROM f")
    conn.execute("INSERT INTO f (rowid, x) VALUES (1, ?)", (index_text(value),))
    return [row[0] for row in conn.execute("SELECT term FROM v ORDER BY offset")]


@pytest.fixture(scope="module")
def fts() -> sqlite3.Connection:
    conn = sqlite3.connect(":memory:")
    conn.execute("CREATE VIRTUAL TABLE f USING fts5(x, tokenize = 'ascii')")
    conn.execute("CREATE VIRTUAL TABLE v USING fts5vocab(f, 'instance')")
    return conn


@settings(max_examples=300, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.text(alphabet=st.characters(codec="utf-8", exclude_categories=["Cs"]), max_size=80))
def test_fts5_sees_exactly_our_tokens(fts: sqlite3.Connection, value: str) -> None:
    """The fast ASCII path and the general path feed FTS5 the same tokens."""
    assert _fts_tokens(fts, value) == tokens(value)


@settings(max_examples=300, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.text(alphabet="aZ09_./-: \n\tXyq", max_size=80))
def test_fts5_sees_exactly_our_tokens_for_code(fts: sqlite3.Connection, value: str) -> None:
    assert _fts_tokens(fts, value) == tokens(value)


@settings(max_examples=300)
@given(st.text(alphabet=st.characters(codec="utf-8", exclude_categories=["Cs"]), max_size=80))
def test_the_fast_token_path_equals_the_tokenizer(value: str) -> None:
    """Encrypted databases hash ``fast_tokens``: they must be the tokenizer's tokens."""
    assert fast_tokens(value) == tokens(value)
    ascii_value = value.encode("ascii", "replace").decode()
    assert fast_tokens(ascii_value) == tokens(ascii_value)


def test_parse_builds_the_ast() -> None:
    assert parse('a OR b c NOT d title:"x y"* NEAR(e f, 3)') == Or(
        (
            Term("a", position=0),
            And(
                (
                    Term("b", position=5),
                    Not(Term("c", position=7), Term("d", position=13)),
                    Term("x y", phrase=True, prefix=True, field="title", position=21),
                    Near((Term("e", position=33), Term("f", position=35)), distance=3),
                )
            ),
        )
    )


@pytest.mark.parametrize(
    ("query", "position", "fragment"),
    [
        ("", 0, "empty"),
        ("   ", 0, "empty"),
        ('find "unclosed phrase', 5, "unbalanced quote"),
        ("(a OR b", 0, "never closed"),
        ("a OR b)", 6, "nothing opened"),
        ("a AND", 5, "needs a term"),
        ("OR a", 0, "needs a term before"),
        ("a OR OR b", 5, "needs a term"),
        ("a NOT", 5, "needs a term"),
        ("()", 0, "empty parentheses"),
        ("NEAR(a)", 0, "at least two"),
        ("NEAR(a b, x)", 10, "whole number"),
        ("NEAR(a b, 5000)", 10, "at most"),
        ("NEAR(a (b))", 0, "never closed"),
        ("title: text:x", 7, "nested"),
        ("(" * 60 + "a" + ")" * 60, 50, "nested parentheses"),
        ("--- ***", 0, "no word"),
    ],
)
def test_syntax_errors_say_where(query: str, position: int, fragment: str) -> None:
    with pytest.raises(SearchSyntaxError) as caught:
        compile_query(parse(query), COLUMNS)
    assert caught.value.position == position
    assert fragment in caught.value.message
    assert caught.value.code == "BAD_SEARCH_QUERY"


@pytest.mark.parametrize(
    ("query", "expression"),
    [
        ("migration", '{text title} : "migration"'),
        ("snake_case", '{text title} : "snake case"'),
        ("getUserName*", '{text title} : "get user name" *'),
        ('"fix the bug"', '{text title} : "fix the bug"'),
        (
            "a -b c+d e^f",
            '({text title} : "a" AND {text title} : "b" AND {text title} : "c d"'
            ' AND {text title} : "e f")',
        ),
        ("output:error", '{tool_output} : "error"'),
        ("a NOT b", '({text title} : "a" NOT {text title} : "b")'),
        ("NEAR(a b, 2)", '{text title} : NEAR("a" "b", 2)'),
        ('a, "b" OR c', '(({text title} : "a" AND {text title} : "b") OR {text title} : "c")'),
        ("a AND --- AND b", '({text title} : "a" AND {text title} : "b")'),
    ],
)
def test_queries_compile_to_quoted_tokens(query: str, expression: str) -> None:
    assert compile_query(parse(query), ("text", "title")).expression == expression


@pytest.fixture(scope="module")
def index() -> sqlite3.Connection:
    conn = sqlite3.connect(":memory:")
    conn.execute(
        "CREATE VIRTUAL TABLE search_fts USING fts5(text, thinking, tool_input, tool_output,"
        " title, event, tokenize = 'ascii', prefix = '2 3 4')"
    )
    conn.execute("INSERT INTO search_fts (text) VALUES ('hello world getUserName')")
    return conn


QUERY_ALPHABET = st.sampled_from(
    list("abc xyz ()\"*:^-+.,{}[]\\'NEAR AND OR NOT title: output: é 日 \x00\n\t;")
)


@settings(
    max_examples=500, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(st.one_of(st.text(max_size=40), st.lists(QUERY_ALPHABET, max_size=30).map("".join)))
def test_any_input_is_a_syntax_error_or_a_valid_fts5_query(
    index: sqlite3.Connection, query: str
) -> None:
    try:
        compiled = compile_query(parse(query), COLUMNS)
    except SearchSyntaxError as exc:
        assert 0 <= exc.position <= len(query)  # noqa: PT017 - most inputs do not raise
        return
    index.execute("SELECT rowid FROM search_fts WHERE search_fts MATCH ?", (compiled.expression,))


@pytest.mark.parametrize(
    "value",
    [
        "getUser" * 12,  # one run of 84 characters, every part short: all kept
        "HTTPServer" * 8 + " " + "x" * 70 + "Tail",  # a long part beside humps
        "aB" * 40 + "C" * 70,  # a long run of capitals after humps
        "ABCdEFg XMLHttpRequest utf8Name a1B2c3D",
    ],
)
def test_fast_path_on_long_compounds(fts: sqlite3.Connection, value: str) -> None:
    assert _fts_tokens(fts, value) == tokens(value)


@settings(max_examples=300)
@given(
    st.one_of(
        st.text(alphabet=st.characters(max_codepoint=127), max_size=120),
        st.text(alphabet="aZ09_./-: XyqBC", max_size=120),
    )
)
def test_the_ascii_tokenizer_equals_the_general_one(value: str) -> None:
    """Snippets tokenize ASCII text by a shortcut: same tokens, spans and words."""
    from graph.search.tokenize import _tokenize

    assert list(tokenize(value)) == list(_tokenize(value))
