"""Turning a parsed query into an FTS5 MATCH expression over our own tokens.

Every leaf is tokenized with the same tokenizer as the index, each token is mapped the
way the index maps it (as is, or to its keyed hash), and quoted: the expression FTS5
sees is built only from quoted tokens, our operators and our column names.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

from graph.crypto import Codec
from graph.search.query import And, Near, Node, Not, SearchSyntaxError, Term
from graph.search.tokenize import tokens

__all__ = ["Compiled", "compile_query"]

TokenMap = Callable[[str], str]


@dataclass(frozen=True, slots=True)
class Compiled:
    """An FTS5 expression, and the query tokens to highlight (not those under NOT)."""

    expression: str
    highlight: frozenset[str]
    highlight_prefixes: frozenset[str] = frozenset()


def _identity(token: str) -> str:
    return token


class _Compiler:
    def __init__(self, columns: Sequence[str], token_map: TokenMap, allow_prefix: bool) -> None:
        self.columns = columns
        self.token_map = token_map
        self.allow_prefix = allow_prefix
        self.highlight: set[str] = set()
        self.prefixes: set[str] = set()

    def colset(self, field: str | None) -> str:
        return "{" + (field or " ".join(self.columns)) + "} : "

    def phrase(self, term: Term, positive: bool) -> str | None:
        parts = tokens(term.text)
        if not parts:
            return None
        if positive:
            self.highlight.update(parts[:-1] if term.prefix else parts)
            if term.prefix:
                self.prefixes.add(parts[-1])
        if term.prefix and not self.allow_prefix:
            raise SearchSyntaxError(
                "prefix search (word*) is not available in an encrypted database: its index "
                "holds keyed hashes of whole words",
                term.position,
            )
        mapped = [self.token_map(part) for part in parts]
        return '"' + " ".join(mapped) + '"' + (" *" if term.prefix else "")

    def node(self, node: Node, positive: bool = True) -> str | None:
        if isinstance(node, Term):
            phrase = self.phrase(node, positive)
            return None if phrase is None else self.colset(node.field) + phrase
        if isinstance(node, Near):
            phrases = [p for t in node.terms if (p := self.phrase(t, positive)) is not None]
            if len(phrases) < 2:
                return phrases[0] if phrases else None
            return f"{self.colset(node.field)}NEAR({' '.join(phrases)}, {node.distance})"
        if isinstance(node, Not):
            left = self.node(node.left, positive)
            right = self.node(node.right, positive=False)
            if left is None or right is None:
                return left
            return f"({left} NOT {right})"
        parts = [p for item in node.items if (p := self.node(item, positive)) is not None]
        if len(parts) <= 1:
            return parts[0] if parts else None
        joiner = " AND " if isinstance(node, And) else " OR "
        return "(" + joiner.join(parts) + ")"


def compile_query(
    node: Node,
    columns: Sequence[str],
    *,
    codec: Codec | None = None,
) -> Compiled:
    """The FTS5 expression for ``node``, searching ``columns`` where no field is given.

    Args:
        codec: An encrypted database's codec maps each token to its keyed hash, as the
            index has it (prefixes can not be hashed, so they are refused there).

    Raises:
        SearchSyntaxError: the query has no searchable word at all (e.g. only ``---``),
            or a prefix in an encrypted database.
    """
    encrypted = codec is not None and codec.encrypted
    token_map = codec.token if codec is not None and encrypted else _identity
    compiler = _Compiler(columns, token_map, allow_prefix=not encrypted)
    expression = compiler.node(node)
    if expression is None:
        raise SearchSyntaxError("the query has no word to search for", 0)
    return Compiled(expression, frozenset(compiler.highlight), frozenset(compiler.prefixes))
