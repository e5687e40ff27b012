"""How text becomes what the search index holds: tokens (or their keyed hashes), with
every secret left out. Pure: it reads and returns values, the store writes them.

:class:`Analysis` pickles, so the importer's worker process prepares documents with the
same analysis the store's indexer uses; the ``tag`` a prepared document carries names
the analysis (key, index version, secret rules), so a document prepared under one is
never indexed under another.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any, Final, Protocol

from graph.search.documents import (
    FIELD_COLUMNS,
    MAX_FIELD,
    Fields,
    event_fields,
    is_searched_event,
    message_fields,
)
from graph.search.tokenize import fast_tokens, index_text
from graph.secrets import SecretScanner, default_scanner

if TYPE_CHECKING:
    from graph.crypto import TokenHasher

__all__ = ["INDEX_VERSION", "Analysis", "Finding", "Preparable"]

# Bump when the tokenizer or what goes into a document changes: stored databases are
# then reindexed on open, since old documents could not be removed token for token.
INDEX_VERSION: Final = "5"  # 3: no progress events; 4: secrets left out; 5: cut at words

Record = dict[str, Any]
Block = dict[str, Any]
Document = tuple[str, tuple[str, ...], tuple[tuple[str, str, str], ...]]
# The field column each kind of block's text is indexed in.
_BLOCK_COLUMNS: Final[dict[Any, str]] = {
    "text": "text",
    "thinking": "thinking",
    "tool_use": "tool_input",
    "tool_result": "tool_output",
}


class Preparable(Protocol):
    """What a document is prepared for: a message or an event about to be stored."""

    document: Document | None

    def redact(self, mask: Callable[[Any], Any], might_hold: Callable[[bytes], bool]) -> bool: ...


class _Message(Preparable, Protocol):
    def blocks(self) -> list[Block]: ...

    def masked_text(self, rules: SecretScanner, *, clean: bool = False) -> str: ...


class _Event(Preparable, Protocol):
    type: str

    @property
    def record(self) -> Record: ...


Analyzer = Callable[[str], str]
# A secret found in a document: (field column, kind, fingerprint).
Finding = tuple[str, str, str]


class Analysis:
    """How text becomes what FTS5 indexes, in a form that pickles.

    The tokens as they are in a plain database; their keyed hashes (one per token, same
    order) in an encrypted one, so positions, phrases and bm25 are the same in both.
    Secrets are found first and left out (each value becomes a space), so no query can
    find one, in either kind of database; what was found is returned beside the tokens.
    The importer's worker process prepares documents with it (:meth:`prepare_message`);
    the ``tag`` they carry names the analysis (key, index version, secret rules), so a
    document prepared under one is never indexed under another.

    Args:
        hasher: The search-token hasher of an encrypted database, or ``None``.
        scanner: The secret rules (default: the user's ``secrets.toml``).
    """

    __slots__ = ("analyze", "hasher", "redact", "scanner", "tag", "version")

    def __init__(
        self,
        hasher: TokenHasher | None = None,
        scanner: SecretScanner | None = None,
        *,
        redact: bool = False,
    ) -> None:
        self.hasher = hasher
        self.scanner = scanner if scanner is not None else default_scanner()
        # `import --redact-secrets`: the records themselves are masked before they are
        # stored (the documents are the same either way).
        self.redact = redact
        # What the documents follow: a database indexed under another version is rebuilt.
        self.version = f"{INDEX_VERSION}/{self.scanner.digest}"
        if hasher is None:
            self.tag = f"plain/{self.version}"
            self.analyze: Analyzer = index_text
        else:
            self.tag = f"{hasher.key_id}/{self.version}"

            many = hasher.many

            def hashed(text: str) -> str:
                return " ".join(many(fast_tokens(text))) if text else ""

            self.analyze = hashed

    def __reduce__(self) -> tuple[Any, ...]:
        return (_analysis, (self.hasher, self.scanner, self.redact))

    def redacting(self) -> Analysis:
        """The same analysis, masking secrets in the records it prepares."""
        return Analysis(self.hasher, self.scanner, redact=True)

    def document(self, fields: Fields) -> tuple[tuple[str, ...], tuple[Finding, ...]]:
        """One token string per field column, and the secrets left out of them."""
        # Most fields of a document are empty (an event has one): not worth a call.
        analyze, scan = self.analyze, self.scanner.scan
        columns: list[str] = []
        found: list[Finding] = []
        for column, text in zip(FIELD_COLUMNS, fields.values(), strict=True):
            if not text:
                columns.append("")
                continue
            secrets = scan(text)
            if secrets:
                found += [(column, f.kind, f.fingerprint) for f in secrets]
                text = self.scanner.blank(text, secrets)
            columns.append(analyze(text))
        return tuple(columns), tuple(found)

    def message_document(self, blocks: list[Block]) -> tuple[Fields, tuple[Finding, ...]]:
        """The searchable text of a message's blocks, each credential their keys name
        (``{"password": ...}`` in a tool's input) blanked, and those credentials: the
        rules, which read texts, never see a key and its value together."""
        found: list[Finding] = []
        read: list[Block] = []
        for block in blocks:
            column = _BLOCK_COLUMNS.get(block.get("type"))
            if column is not None:
                block, keyed = self.scanner.blank_keyed(block)
                found += [(column, f.kind, f.fingerprint) for f in keyed]
            read.append(block)
        return message_fields(read), tuple(found)

    def event_document(self, record: Record) -> tuple[Fields, tuple[Finding, ...]]:
        """:meth:`message_document` for an event's record."""
        record, keyed = self.scanner.blank_keyed(record)
        return event_fields(record), tuple(("event", f.kind, f.fingerprint) for f in keyed)

    def documented(
        self, fields: tuple[Fields, tuple[Finding, ...]]
    ) -> tuple[tuple[str, ...], tuple[Finding, ...]]:
        """:meth:`document` of a message's or an event's fields, with what was found in
        them before (:meth:`message_document`, :meth:`event_document`)."""
        columns, found = self.document(fields[0])
        return columns, fields[1] + found

    def columns(self, fields: Fields) -> tuple[str, ...]:
        """One token string per field column (secrets left out)."""
        return self.document(fields)[0]

    def prepare_message(self, message: _Message) -> None:
        """Attach the message's search document and masked text, so that the writer need
        not build them."""
        if self.redact:
            message.redact(self.scanner.mask_json, self.scanner.could_contain_json)
        fields, keyed = self.message_document(message.blocks())
        columns, found = self.document(fields)
        message.document = (self.tag, columns, keyed + found)
        # The document's scan saw the same text blocks whole and found nothing in them:
        # the masked text is the text, without a second scan. (Only under the built-in
        # rules: a user's pattern may anchor on the start of a text, and blocks are joined
        # differently here.)
        clean = (
            not self.scanner.patterns
            and len(fields.text) < MAX_FIELD
            and all(column != "text" for column, _, _ in found)
        )
        message.masked_text(self.scanner, clean=clean)

    def prepare_event(self, event: _Event) -> None:
        """Attach the event's search document, so the indexer need not build it."""
        if self.redact:
            event.redact(self.scanner.mask_json, self.scanner.could_contain_json)
        if not is_searched_event(event.type):
            return
        event.document = (self.tag, *self.documented(self.event_document(event.record)))


def _analysis(hasher: TokenHasher | None, scanner: SecretScanner, redact: bool) -> Analysis:
    return Analysis(hasher, scanner, redact=redact)
