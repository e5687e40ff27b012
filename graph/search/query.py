"""The search query language, parsed into an AST by us (user text never reaches MATCH raw).

Grammar (operators are upper case; adjacent terms are ANDed)::

    query   = or
    or      = and ("OR" and)*
    and     = not (["AND"] not)*
    not     = unary ("NOT" unary)*
    unary   = [field ":"] ( "(" or ")" | near | phrase | word )
    near    = "NEAR(" (phrase | word)+ ["," distance] ")"
    phrase  = '"' text '"' ["*"]
    word    = any other run of characters, ["*"] at its end for a prefix

``field`` is one of the field groups (see :data:`FIELDS`). Anything FTS5 would treat as
syntax inside a word (``-``, ``+``, ``^``, ``:``, ``.``) is just part of the word here.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Final, TypeAlias

from graph.errors import UserInputError

__all__ = [
    "FIELDS",
    "And",
    "Near",
    "Node",
    "Not",
    "Or",
    "SearchSyntaxError",
    "Term",
    "parse",
]

# Query field names (and aliases) -> index columns.
FIELDS: Final[dict[str, str]] = {
    "text": "text",
    "thinking": "thinking",
    "input": "tool_input",
    "tool_input": "tool_input",
    "output": "tool_output",
    "tool_output": "tool_output",
    "title": "title",
    "summary": "title",
    "event": "event",
}
MAX_NEAR_DISTANCE: Final = 1000
MAX_QUERY_LENGTH: Final = 2000
MAX_DEPTH: Final = 50


class SearchSyntaxError(UserInputError):
    """A search query that does not parse; ``position`` is the 0-based offset."""

    code = "BAD_SEARCH_QUERY"

    def __init__(self, message: str, position: int) -> None:
        super().__init__(f"{message} (at position {position})", position=position)
        self.position = position


@dataclass(frozen=True, slots=True)
class Term:
    """A word (``phrase=False``) or a quoted phrase, optionally a prefix."""

    text: str
    phrase: bool = False
    prefix: bool = False
    field: str | None = None
    position: int = 0


@dataclass(frozen=True, slots=True)
class Near:
    terms: tuple[Term, ...]
    distance: int = 10
    field: str | None = None


@dataclass(frozen=True, slots=True)
class And:
    items: tuple[Node, ...]


@dataclass(frozen=True, slots=True)
class Or:
    items: tuple[Node, ...]


@dataclass(frozen=True, slots=True)
class Not:
    left: Node
    right: Node


Node: TypeAlias = Term | Near | And | Or | Not


@dataclass(frozen=True, slots=True)
class _Lexeme:
    kind: str  # "(", ")", ",", "word", "phrase", "AND", "OR", "NOT", "NEAR", "field"
    text: str
    position: int
    prefix: bool = False


_SPECIAL = '()",'


def _lex(query: str) -> list[_Lexeme]:
    out: list[_Lexeme] = []
    i, n = 0, len(query)
    in_near = False  # a comma means something only inside NEAR(...); elsewhere it separates
    while i < n:
        ch = query[i]
        if ch.isspace() or (ch == "," and not in_near):
            i += 1
        elif ch in "(),":
            out.append(_Lexeme(ch, ch, i))
            in_near = in_near and ch != ")"
            i += 1
        elif ch == '"':
            end = query.find('"', i + 1)
            if end < 0:
                raise SearchSyntaxError("unbalanced quote: this phrase is never closed", i)
            prefix = end + 1 < n and query[end + 1] == "*"
            out.append(_Lexeme("phrase", query[i + 1 : end], i, prefix))
            i = end + 2 if prefix else end + 1
        else:
            start = i
            while i < n and not query[i].isspace() and query[i] not in _SPECIAL:
                i += 1
            word = query[start:i]
            field, colon, rest = word.partition(":")
            if colon and field.lower() in FIELDS:
                out.append(_Lexeme("field", FIELDS[field.lower()], start))
                word, start = rest, start + len(field) + 1
                if not word:
                    continue
            if word in ("AND", "OR", "NOT"):
                out.append(_Lexeme(word, word, start))
            elif word == "NEAR" and i < n and query[i] == "(":
                out.append(_Lexeme("NEAR", word, start))
                in_near = True
            else:
                prefix = word.endswith("*")
                out.append(_Lexeme("word", word.rstrip("*"), start, prefix))
    return out


class _Parser:
    def __init__(self, query: str) -> None:
        self.query = query
        self.lexemes = _lex(query)
        self.at = 0
        self.depth = 0

    def peek(self) -> _Lexeme | None:
        return self.lexemes[self.at] if self.at < len(self.lexemes) else None

    def take(self) -> _Lexeme:
        lexeme = self.lexemes[self.at]
        self.at += 1
        return lexeme

    def error(self, message: str, lexeme: _Lexeme | None = None) -> SearchSyntaxError:
        return SearchSyntaxError(message, lexeme.position if lexeme else len(self.query))

    def parse(self) -> Node:
        if not self.lexemes:
            raise SearchSyntaxError("the query is empty", 0)
        node = self.parse_or()
        extra = self.peek()
        if extra is not None:
            raise self.error("unbalanced parenthesis: nothing opened this one", extra)
        return node

    def parse_or(self) -> Node:
        items = [self.parse_and()]
        while (lexeme := self.peek()) is not None and lexeme.kind == "OR":
            self.take()
            items.append(self.parse_and())
        return items[0] if len(items) == 1 else Or(tuple(items))

    def parse_and(self) -> Node:
        items = [self.parse_not()]
        while (lexeme := self.peek()) is not None and lexeme.kind not in ("OR", ")"):
            if lexeme.kind == "AND":
                self.take()
            items.append(self.parse_not())
        return items[0] if len(items) == 1 else And(tuple(items))

    def parse_not(self) -> Node:
        node = self.parse_unary()
        while (lexeme := self.peek()) is not None and lexeme.kind == "NOT":
            self.take()
            node = Not(node, self.parse_unary())
        return node

    def parse_unary(self, field: str | None = None) -> Node:
        lexeme = self.peek()
        if lexeme is None:
            previous = self.lexemes[self.at - 1]
            raise self.error(f"`{previous.text}` needs a term after it")
        if lexeme.kind in ("AND", "OR", "NOT"):
            what = "before and after it" if self.at == 0 else "after it"
            raise self.error(f"`{lexeme.kind}` needs a term {what}", lexeme)
        self.take()
        if lexeme.kind == "field":
            if field is not None:
                raise self.error("a field can not be nested in another field", lexeme)
            return self.parse_unary(lexeme.text)
        if lexeme.kind == "(":
            self.depth += 1
            if self.depth > MAX_DEPTH:
                raise self.error("too many nested parentheses", lexeme)
            if (inner := self.peek()) is not None and inner.kind == ")":
                raise self.error("empty parentheses", lexeme)
            node = self.parse_or()
            closing = self.peek()
            if closing is None or closing.kind != ")":
                raise self.error("unbalanced parenthesis: this one is never closed", lexeme)
            self.take()
            self.depth -= 1
            return _with_field(node, field) if field else node
        if lexeme.kind == "NEAR":
            return self.parse_near(lexeme, field)
        if lexeme.kind in ("word", "phrase"):
            return Term(lexeme.text, lexeme.kind == "phrase", lexeme.prefix, field, lexeme.position)
        raise self.error(f"unexpected `{lexeme.text}`", lexeme)

    def parse_near(self, near: _Lexeme, field: str | None) -> Near:
        self.take()  # "("
        terms: list[Term] = []
        distance = 10
        while (lexeme := self.peek()) is not None and lexeme.kind in ("word", "phrase"):
            self.take()
            terms.append(
                Term(lexeme.text, lexeme.kind == "phrase", lexeme.prefix, field, lexeme.position)
            )
        lexeme = self.peek()
        if lexeme is not None and lexeme.kind == ",":
            self.take()
            number = self.peek()
            if number is None or number.kind != "word" or not number.text.isdigit():
                raise self.error("NEAR(...) takes a whole number after the comma", number)
            self.take()
            distance = int(number.text)
            if distance > MAX_NEAR_DISTANCE:
                raise self.error(f"NEAR distance is at most {MAX_NEAR_DISTANCE}", number)
        closing = self.peek()
        if closing is None or closing.kind != ")":
            raise self.error("NEAR( is never closed, or holds something other than words", near)
        self.take()
        if len(terms) < 2:
            raise self.error("NEAR(...) needs at least two words or phrases", near)
        return Near(tuple(terms), distance, field)


def _with_field(node: Node, field: str) -> Node:
    """Apply a field to every leaf that has none of its own."""
    if isinstance(node, Term):
        return (
            node if node.field else Term(node.text, node.phrase, node.prefix, field, node.position)
        )
    if isinstance(node, Near):
        terms = tuple(_with_field(term, field) for term in node.terms)
        return Near(terms, node.distance, node.field or field)  # type: ignore[arg-type]
    if isinstance(node, Not):
        return Not(_with_field(node.left, field), _with_field(node.right, field))
    items = tuple(_with_field(item, field) for item in node.items)
    return And(items) if isinstance(node, And) else Or(items)


def parse(query: str) -> Node:
    """Parse a search query.

    Raises:
        SearchSyntaxError: with the position of the problem.
    """
    if len(query) > MAX_QUERY_LENGTH:
        raise SearchSyntaxError(f"the query is longer than {MAX_QUERY_LENGTH} characters", 0)
    return _Parser(query).parse()
