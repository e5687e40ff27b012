"""Messages and events as importers hand them to the store, packable.

Messages and events can be *packed*: their records serialized once, in the form they
are stored in, with the few facts the writer needs (first line, row uuids) and, when
prepared ahead, their search document. A packed object pickles without its record
objects (the importer's worker process sends batches that way) and decodes them again
only if something asks (a merge with a message already stored, say). A packed object
must not be changed afterwards: its bytes are what gets stored.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, Final

import orjson

from graph.blocks import blocks_for
from graph.content import Block, readable_text
from graph.inputs.masking import Masker
from graph.inputs.sessions import Record, TokenTotals

__all__ = ["DOCUMENT", "REMOVED", "Document", "NewEvent", "NewMessage"]

# The event type of a transcript written as one JSON document (not lines): the document
# less its list of messages (left empty, under the key the event's subtype names). A new
# version of the document adds one; export puts the newest back together with the
# thread's current records.
DOCUMENT: Final = "document"
# The event type of a message record that a document rewritten whole no longer holds.
REMOVED: Final = "removed"
# A search document prepared ahead: (analyzer tag, one token string per field column,
# the secrets left out of them as (column, kind, fingerprint)).
Document = tuple[str, tuple[str, ...], tuple[tuple[str, str, str], ...]]


class NewMessage:
    """One API message: its records, in file order, with their line numbers.

    ``msg_key`` identifies the message within its conversation, so records that arrive
    in a later batch (a file still being written) merge into the same message.
    ``usage`` is that of the last record.

    ``source`` is that of its session: the format that reads its records as content
    blocks (:func:`graph.blocks.blocks_for`).

    The importer tells the store two things its format decides: ``billed``, whether the
    message is a model's API response whose tokens count (by default, any assistant
    message), and ``local_key``, whether ``msg_key`` names it within its file only (a
    line, say), so that no message of another session is a copy of it. Messages of
    other sessions under the same key otherwise are copies (a resumed session replays
    its parent's), and only one of them counts.
    """

    __slots__ = (
        "_encoded",
        "_later_uuids",
        "_masked",
        "_records",
        "_seq",
        "_text",
        "_texts",
        "billed",
        "document",
        "local_key",
        "model",
        "msg_key",
        "role",
        "source",
        "timestamp",
        "usage",
        "uuid",
    )

    def __init__(
        self,
        msg_key: str,
        role: str,
        timestamp: str,
        records: list[tuple[int, Record]],
        uuid: str | None = None,
        model: str | None = None,
        usage: TokenTotals | None = None,
        *,
        texts: list[bytes] | None = None,
        billed: bool | None = None,
        local_key: bool = False,
        source: str = "claude-code",
    ) -> None:
        self.msg_key = msg_key
        self.source = source
        self.role = role
        self.billed = role == "assistant" if billed is None else billed
        self.local_key = local_key
        self.timestamp = timestamp
        self.uuid = uuid
        self.model = model
        self.usage = usage if usage is not None else TokenTotals()
        self.document: Document | None = None
        self._records: list[tuple[int, Record]] | None = records
        self._encoded: bytes | None = None
        self._seq = 0
        self._later_uuids: tuple[str, ...] = ()
        self._text: str | None = None
        self._masked: tuple[str, str] | None = None  # (rules digest, masked text)
        # The JSON text each record was read from, when all were (see ``pack``).
        self._texts = texts if texts is not None and len(texts) == len(records) else None

    def add(self, line: int, record: Record, text: bytes | None = None) -> None:
        """Append a record (``text``: the JSON it was parsed from, if it was)."""
        self.records.append((line, record))
        self._text = self._masked = None
        if self._texts is not None:
            if text is None:
                self._texts = None
            else:
                self._texts.append(text)

    def redact(self, mask: Callable[[Any], Any], might_hold: Callable[[bytes], bool]) -> bool:
        """Replace the records by ``mask``'s version of them where it changes them (before
        packing); ``might_hold`` tests a record's JSON text first. True if any changed."""
        texts = self._texts
        if texts is not None and not any(might_hold(t) for t in texts):
            return False
        records = self.records
        masked = [(line, mask(record)) for line, record in records]
        if masked == records:
            return False
        self._records, self._texts, self._encoded = masked, None, None
        self._text = self._masked = None
        return True

    def move_lines(self, by: int) -> None:
        """Number its records ``by`` lines on (a file's lines placed in its thread)."""
        if not by:
            return
        packed = self._encoded is not None
        self._records = [(line + by, record) for line, record in self.records]
        if packed:  # the lines are in the stored bytes: encoded again (a rare case)
            self._seq += by
            self._encoded = _exact(orjson.dumps(self._records))
            self._records = None

    @property
    def records(self) -> list[tuple[int, Record]]:
        if self._records is None:
            assert self._encoded is not None
            self._records = [(int(line), record) for line, record in orjson.loads(self._encoded)]
        return self._records

    @property
    def packed(self) -> bool:
        return self._encoded is not None

    def pack(self) -> None:
        """Serialize the records now, as they will be stored, and let go of them.

        Records read from JSON text are stored as that text, not serialized again: it
        parses to the same objects, and costs a copy instead of an encoding.
        """
        records = self.records
        self._seq = records[0][0]
        self._later_uuids = _uuids(records[1:])
        self._text = readable_text(blocks_for(self.source)(records))
        texts = self._texts
        if texts is not None and len(texts) == len(records):  # else: records added directly
            self._encoded = b"[%b]" % b",".join(
                [b"[%d,%b]" % (line, text) for (line, _), text in zip(records, texts, strict=True)]
            )
        else:
            self._encoded = _exact(orjson.dumps(records))
        self._records = None
        self._texts = None

    def blocks(self) -> list[Block]:
        """Its content blocks, as its session's format reads them."""
        return blocks_for(self.source)(self.records)

    @property
    def text(self) -> str:
        """The readable text (its text blocks, joined), stored beside the records so
        that serving it needs no decoding of them (see migration 0011)."""
        if self._text is None:
            self._text = readable_text(self.blocks())
        return self._text

    def masked_text(self, rules: Masker, *, clean: bool = False) -> str:
        """The readable text with every secret ``rules`` find masked, block by block (as
        serving masks it): what is stored, so that serving it scans nothing.

        Args:
            rules: The secret rules.
            clean: The caller scanned the text blocks with ``rules`` and found nothing.
        """
        if self._masked is None or self._masked[0] != rules.digest:
            text = self.text
            if not clean and rules.could_contain(text):
                text = readable_text(self.blocks(), rules.mask)
            self._masked = (rules.digest, text)
        return self._masked[1]

    @property
    def encoded(self) -> bytes:
        """The records as stored: a JSON array of ``[line, record]`` pairs."""
        return self._encoded if self._encoded is not None else orjson.dumps(self.records)

    @property
    def seq(self) -> int:
        """The line of its first record."""
        return self._seq if self._encoded is not None else self.records[0][0]

    @property
    def later_uuids(self) -> tuple[str, ...]:
        """The uuids of its records after the first (``uuid`` is the first one's)."""
        return self._later_uuids if self._encoded is not None else _uuids(self.records[1:])

    def __reduce__(self) -> tuple[Any, ...]:
        # A flat tuple: unpickling calls one function instead of setting each slot.
        # Packed, the records travel as their bytes only (decoded again if asked for).
        u = self.usage
        return (
            _message,
            (
                self.msg_key,
                self.role,
                self.timestamp,
                self.uuid,
                self.model,
                (u.input, u.output, u.cache_read, u.cache_creation, u.cache_creation_1h),
                self.document,
                self._records if self._encoded is None else None,
                self._encoded,
                self._seq,
                self._later_uuids,
                self._text,
                self._masked,
                self.billed,
                self.local_key,
                self.source,
            ),
        )

    def __repr__(self) -> str:
        return f"NewMessage({self.msg_key!r}, {self.role!r}, seq={self.seq})"


class NewEvent:
    """One timeline record; ``seq`` is its line number in the conversation's file."""

    __slots__ = (
        "_encoded",
        "_record",
        "_text",
        "document",
        "seq",
        "subtype",
        "timestamp",
        "type",
        "uuid",
    )

    def __init__(
        self,
        seq: int,
        type: str,
        timestamp: str,
        record: Record,
        uuid: str | None = None,
        subtype: str | None = None,
        *,
        text: bytes | None = None,
    ) -> None:
        self.seq = seq
        self.type = type
        self.timestamp = timestamp
        self.uuid = uuid
        self.subtype = subtype
        self.document: Document | None = None
        self._record: Record | None = record
        self._encoded: bytes | None = None
        self._text = text  # the JSON the record was parsed from, if it was

    def redact(self, mask: Callable[[Any], Any], might_hold: Callable[[bytes], bool]) -> bool:
        """Replace the record by ``mask``'s version of it if that differs (before packing)."""
        if self._text is not None and not might_hold(self._text):
            return False
        masked = mask(self.record)
        if masked == self.record:
            return False
        self._record, self._text, self._encoded = masked, None, None
        return True

    @property
    def record(self) -> Record:
        if self._record is None:
            assert self._encoded is not None
            self._record = orjson.loads(self._encoded)
        return self._record

    @property
    def packed(self) -> bool:
        return self._encoded is not None

    def pack(self) -> None:
        """Serialize the record now (or take the text it was read from), and let go of it."""
        text = self._text
        self._encoded = text if text is not None else _exact(orjson.dumps(self.record))
        self._record = None
        self._text = None

    @property
    def encoded(self) -> bytes:
        """The record as stored (JSON)."""
        return self._encoded if self._encoded is not None else orjson.dumps(self.record)

    def __reduce__(self) -> tuple[Any, ...]:
        return (
            _event,
            (
                self.seq,
                self.type,
                self.timestamp,
                self.uuid,
                self.subtype,
                self.document,
                self._record if self._encoded is None else None,
                self._encoded,
            ),
        )

    def __repr__(self) -> str:
        return f"NewEvent({self.seq}, {self.type!r})"


def _message(
    msg_key: str,
    role: str,
    timestamp: str,
    uuid: str | None,
    model: str | None,
    usage: tuple[int, int, int, int, int],
    document: Document | None,
    records: list[tuple[int, Record]] | None,
    encoded: bytes | None,
    seq: int,
    later_uuids: tuple[str, ...],
    text: str | None,
    masked: tuple[str, str] | None,
    billed: bool,
    local_key: bool,
    source: str,
) -> NewMessage:
    message = NewMessage(
        msg_key,
        role,
        timestamp,
        [],
        uuid,
        model,
        TokenTotals(*usage),
        billed=billed,
        local_key=local_key,
        source=source,
    )
    message.document = document
    message._records, message._encoded = records, encoded
    message._seq, message._later_uuids, message._text = seq, later_uuids, text
    message._masked = masked
    return message


def _event(
    seq: int,
    type_: str,
    timestamp: str,
    uuid: str | None,
    subtype: str | None,
    document: Document | None,
    record: Record | None,
    encoded: bytes | None,
) -> NewEvent:
    event = NewEvent(seq, type_, timestamp, {}, uuid, subtype)
    event.document = document
    event._record, event._encoded = record, encoded
    return event


def _exact(encoded: bytes) -> bytes:
    # orjson leaves its output in a buffer of at least 4 KiB (often twice the size
    # needed); a packed value is kept for a while, so it is copied to its own size.
    return bytes(memoryview(encoded))


def _uuids(records: list[tuple[int, Record]]) -> tuple[str, ...]:
    return tuple(uuid for _, record in records if (uuid := record.get("uuid")).__class__ is str)
