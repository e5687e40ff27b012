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
from typing import Final, NamedTuple

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


class Token(NamedTuple):
    """One token and where it stands in the text it came from (a tuple: snippets make
    thousands per request, and a frozen dataclass costs twice as much to build)."""

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
    if text.isascii():
        return _tokenize_ascii(text)
    return _tokenize(normalize(text))


def _tokenize(text: str) -> Iterator[Token]:
    for word_index, word in enumerate(_WORD.finditer(text)):
        for part in _PART.finditer(word.group()):
            base = word.start() + part.start()
            for piece, start, end in _split_humps(part.group(), base):
                # Folding can produce separators ("⑴" -> "(1)"): split again, so that a
                # token is only ever letters and digits, which FTS5 keeps whole.
                for folded in _PART.findall(fold(piece)):
                    if len(folded) <= MAX_TOKEN:
                        yield Token(folded, start, end, word_index)


_ASCII_PART = re.compile(r"[A-Za-z0-9]+")
_JOINERS: Final = frozenset("_./-:\\")


def _tokenize_ascii(text: str) -> Iterator[Token]:
    """:func:`_tokenize` for ASCII text (snippets cut thousands of tokens per request).

    In ASCII the parts are just the runs of letters and digits, folding is lower-casing,
    and two parts are of one word when a single joiner stands between them: one regex
    pass instead of three nested ones.
    """
    word = -1
    previous_end = -2
    for part in _ASCII_PART.finditer(text):
        piece = part.group()
        start, end = part.span()
        if start - previous_end != 1 or text[previous_end] not in _JOINERS:
            word += 1
        previous_end = end
        lowered = piece.lower()
        if lowered == piece:  # no capital, so no hump
            if end - start <= MAX_TOKEN:
                yield Token(piece, start, end, word)
            continue
        for hump, hump_start, hump_end in _split_humps(piece, start):
            if len(hump) <= MAX_TOKEN:
                yield Token(hump.lower(), hump_start, hump_end, word)


def tokens(text: str) -> list[str]:
    """Just the token strings of ``text``."""
    return [token.text for token in tokenize(text)]


_ASCII_LONG_RUN = re.compile(rf"[a-z0-9]{{{MAX_TOKEN + 1},}}")


def _ascii_classes(lower: str, digit: str, upper: str) -> bytes:
    return (
        bytes(
            ord(lower)
            if chr(b).islower()
            else ord(digit)
            if chr(b).isdigit()
            else ord(upper)
            if chr(b).isupper()
            else 0x20
            for b in range(128)
        )
        + b" " * 128
    )


# ASCII text mapped to one byte per character class (l: lower-case letter or digit,
# U: capital, space: anything else), so humps are found by substring search.
_CLASSES: Final = _ascii_classes("l", "l", "U")
# The same with digits apart (d), for the acronym rule, which a digit does not end.
_LETTER_CLASSES: Final = _ascii_classes("l", "d", "U")
# Letters and digits -> "a", anything else -> space: a run of MAX_TOKEN + 1 "a"s is a
# part too long to be a token (humps can only shorten it: the exact pass decides).
_ALNUM: Final = _ascii_classes("a", "a", "a")
_LONG_RUN: Final = b"a" * (MAX_TOKEN + 1)
_LOWER_UPPER: Final = b"lU"  # getUser -> get|User, utf8Name -> utf8|Name
_ACRONYM_END = re.compile(b"UUl")  # HTTPServer -> HTTP|Server (not AA0: a digit)


def _cuts_before_capitals(classes: bytes) -> list[int]:
    """Where ``lU`` stands in ``classes``, as the index of its ``U``.

    ``bytes.split`` searches in C at memory speed (a regex walks every byte), and the
    pieces' lengths give the positions.
    """
    cuts = []
    at = -1
    pieces = classes.split(_LOWER_UPPER)
    for piece in pieces[:-1]:
        at += len(piece) + 2
        cuts.append(at)
    return cuts


def index_text(text: str) -> str:
    """``text`` as FTS5's ``ascii`` tokenizer must see it to produce exactly :func:`tokens`.

    The ascii tokenizer splits on ASCII non-alphanumerics and keeps non-ASCII characters
    inside tokens, so for ASCII text it is enough to split camelCase humps, lower-case,
    and drop over-long runs. That is done without a regex pass over every character:
    the text is mapped to character classes by ``bytes.translate`` and the humps are
    found by substring search on that (both C loops at memory speed), which made the
    search index's share of an import five times smaller. Other text goes through
    :func:`tokens`. A test holds the two paths equal.
    """
    if not text:
        return ""
    if not text.isascii():
        return " ".join(tokens(text))
    lowered = text.lower()
    raw = text.encode("ascii")
    if lowered != text:
        classes = raw.translate(_CLASSES)
        cuts = _cuts_before_capitals(classes)
        if b"UUl" in classes:  # perhaps an acronym's end: digits decide
            acronyms = [
                m.start() + 1 for m in _ACRONYM_END.finditer(raw.translate(_LETTER_CLASSES))
            ]
            if acronyms:
                cuts = sorted(cuts + acronyms)
        if cuts:
            lowered = " ".join(
                lowered[start:end]
                for start, end in zip([0, *cuts], [*cuts, len(text)], strict=True)
            )
    if _LONG_RUN in raw.translate(_ALNUM):
        return _ASCII_LONG_RUN.sub(" ", lowered)
    return lowered


# ASCII letters and digits kept, anything else -> space (index_text has lower-cased).
_KEEP_ALNUM: Final = bytes(b if chr(b).isalnum() else 0x20 for b in range(128)) + b" " * 128


def fast_tokens(text: str) -> list[str]:
    """:func:`tokens`, by the C-speed path for ASCII text (what hashing tokens needs).

    The tokens of :func:`index_text`'s output are its runs of letters and digits:
    ``bytes.translate`` blanks the rest and ``split`` cuts there, both C loops (a regex
    ``findall`` took four times as long, the bulk of an encrypted import's indexing).
    """
    if text.isascii():
        return index_text(text).encode("ascii").translate(_KEEP_ALNUM).decode("ascii").split()
    return tokens(text)
