"""The one tokenizer: what a searchable token is, for indexing and for queries alike.

Rules, applied in order:

1. Text is Unicode-normalized (NFKD), combining marks (diacritics) are dropped, and the
   result is case-folded: ``Crème Brûlée`` and ``creme brulee`` are the same tokens.
2. A *word* is a run of letters and digits, possibly joined by ``_ . / - : \\`` into a
   compound: ``snake_case``, ``graph/store/reads.py``, ``foo.bar``, ``git-branch``.
3. Words are split into *parts* at those joiners and at camelCase humps
   (``getUserName`` -> ``get user name``, ``HTTPServer`` -> ``http server``); a run of
   digits stays with the letters before it (``utf8``, ``sha256``).
4. The index holds the parts, in order. A query word is tokenized the same way, and a
   compound query word becomes the *phrase* of its parts, so ``snake_case``,
   ``reads.py`` and ``getUserName`` find exactly the places where those parts stand side
   by side, and each part alone finds them too.
5. Parts longer than :data:`MAX_TOKEN` characters (base64 blobs, minified code) are not
   tokens: they would bloat the index and nobody types them.

Every token carries its character span in the original text, so highlights can be cut
from the stored text without asking the index.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Final

__all__ = [
    "MAX_TOKEN",
    "Token",
    "fast_tokens",
    "fold",
    "index_text",
    "normalize",
    "tokenize",
    "tokens",
]

MAX_TOKEN: Final = 64

# Letters and digits (\w without the underscore), joined by the compound joiners.
_WORD = re.compile(r"[^\W_]+(?:[_./\-:\\][^\W_]+)*")
_PART = re.compile(r"[^\W_]+")
# camelCase humps: an upper-case letter after a lower-case one or a digit, and the last
# capital of an acronym before a lower-case letter (HTTPServer -> HTTP|Server).
_HUMP = re.compile(r"(?<=[a-z0-9])(?=[A-Z])|(?<=[A-Z])(?=[A-Z][a-z])")


@dataclass(frozen=True, slots=True)
class Token:
    """One token and where it stands in the text it came from."""

    text: str
    start: int
    end: int
    word: int  # which word of the text it belongs to, for grouping compounds


def normalize(text: str) -> str:
    """NFC form: spans returned by :func:`tokenize` are offsets into this string.

    Composed characters keep a word whole (a decomposed ``e`` + accent would split it).
    """
    return text if unicodedata.is_normalized("NFC", text) else unicodedata.normalize("NFC", text)


def fold(text: str) -> str:
    """Case-fold and strip diacritics, without changing which characters are letters."""
    decomposed = unicodedata.normalize("NFKD", text)
    stripped = "".join(ch for ch in decomposed if not unicodedata.combining(ch))
    return stripped.casefold()


def _split_humps(part: str, start: int) -> Iterator[tuple[str, int, int]]:
    offset = 0
    for piece in _HUMP.split(part):
        if piece:
            yield piece, start + offset, start + offset + len(piece)
        offset += len(piece)


def tokenize(text: str) -> Iterator[Token]:
    """The tokens of ``normalize(text)`` with their spans in it, in order."""
    text = normalize(text)
    for word_index, word in enumerate(_WORD.finditer(text)):
        for part in _PART.finditer(word.group()):
            base = word.start() + part.start()
            for piece, start, end in _split_humps(part.group(), base):
                # Folding can produce separators ("⑴" -> "(1)"): split again, so that a
                # token is only ever letters and digits, which FTS5 keeps whole.
                for folded in _PART.findall(fold(piece)):
                    if len(folded) <= MAX_TOKEN:
                        yield Token(folded, start, end, word_index)


def tokens(text: str) -> list[str]:
    """Just the token strings of ``text``."""
    return [token.text for token in tokenize(text)]


_ASCII_LONG_RUN = re.compile(rf"[a-z0-9]{{{MAX_TOKEN + 1},}}")


def index_text(text: str) -> str:
    """``text`` as FTS5's ``ascii`` tokenizer must see it to produce exactly :func:`tokens`.

    The ascii tokenizer splits on ASCII non-alphanumerics and keeps non-ASCII characters
    inside tokens, so for ASCII text it is enough to split camelCase humps, lower-case,
    and drop over-long runs: three passes in C instead of a Python loop per token. Other
    text goes through :func:`tokens`. A test holds the two paths equal.
    """
    if not text:
        return ""
    if text.isascii():
        # Most of the cost is the hump pass: skip it when there is no capital at all.
        lowered = text.lower()
        if lowered != text:
            lowered = _HUMP.sub(" ", text).lower()
        return _ASCII_LONG_RUN.sub(" ", lowered)
    return " ".join(tokens(text))


_ASCII_TOKEN = re.compile(r"[a-z0-9]+")


def fast_tokens(text: str) -> list[str]:
    """:func:`tokens`, by the C-speed path for ASCII text (what hashing tokens needs)."""
    if text.isascii():
        return _ASCII_TOKEN.findall(index_text(text))
    return tokens(text)
