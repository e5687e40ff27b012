"""What every resolver gets: the request's loaders and the server's settings."""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Any, Final, TypeAlias

import orjson
import strawberry

from graph.content import BlocksOf, readable_text, records_of
from graph.feed import ChangeFeed
from graph.loaders import Loaders
from graph.secrets import SecretScanner, default_scanner
from graph.settings import ServerSettings
from graph.store import MessageRow, Store

__all__ = ["STARTED_AT", "Context", "Info"]


# When this process started: what `health { uptimeSeconds }` counts from.
STARTED_AT: Final = time.monotonic()


@dataclass(slots=True)
class Context:
    """One request's context: made fresh per request, so loader caches are per request.

    Encrypted fields are opened here, when a resolver asks for them (a field nobody
    selected is never decrypted), and each value at most once per request. Secrets in
    them are masked here too (``[REDACTED:kind:fingerprint]``): nothing served over
    HTTP shows one; only the command line can reveal them.
    """

    store: Store
    settings: ServerSettings
    request_id: str
    feed: ChangeFeed | None = None
    loaders: Loaders = field(init=False)
    opened: dict[tuple[str, str, str], Any] = field(init=False, default_factory=dict)
    # Decrypted bytes not yet masked as a whole (a message's text reads only its text
    # blocks): kept so that its blocks or records do not decrypt the value again.
    decrypted: dict[tuple[str, str, str], bytes] = field(init=False, default_factory=dict)
    scanner: SecretScanner = field(default_factory=default_scanner)

    def __post_init__(self) -> None:
        self.loaders = Loaders(self.store, thresholds=self.settings.prices.thresholds)

    def open_json(self, table: str, column: str, row: str, stored: bytes | str) -> Any:
        """A stored JSON value, decrypted if it is sealed.

        Raises:
            DecryptionFailed: the value does not authenticate (code DECRYPTION_FAILED).
        """
        key = (table, column, row)
        if key not in self.opened:
            raw = self._decrypted(key, stored)
            value = orjson.loads(raw)
            if self.scanner.could_contain_json(raw):
                value = self.scanner.mask_json(value)
            self.opened[key] = value
        return self.opened[key]

    def message_text(self, row: MessageRow, blocks: BlocksOf | None = None) -> str | None:
        """A message's readable text (its text blocks, joined), secrets masked.

        The text is stored beside the records, masked when it was written (migrations
        0011 and 0013), and served as stored when these are the rules that masked it.
        Else (other rules, or a text stored unmasked) it is masked here: whole when that
        is masking each block, or else built from the records' text blocks, each masked
        on its own, so that the text is the same as that of the masked records.

        ``blocks``: how the message's format reads its records; without it, ``None``
        when the text has to be built from the records.
        """
        stored_text = row.text
        masked_here = row.text_masked_by == self.scanner.digest
        if masked_here and type(stored_text) is str and not self.store.codec.encrypted:
            return stored_text  # served as stored: nothing to open, nothing to remember
        key = ("messages", "text", row.row_key)
        if key not in self.opened:
            if stored_text is not None and masked_here:
                text: str = self._decrypted(key, stored_text).decode()
                self.opened[key] = text
                return text
            records = self.opened.get(("messages", "content", row.row_key))
            stored = None
            if records is None and row.text is not None:
                stored = self._decrypted(key, row.text).decode()
            if stored is not None and not self.scanner.could_contain(stored):
                # Nothing in it can be a secret: masking is a no-op, as for its blocks.
                text = stored
            elif stored is not None and "\n\n" not in stored:
                # At most one block (blocks are joined by blank lines): masking the
                # text is masking that block.
                text = self.scanner.mask(stored)
            elif blocks is None:
                return None
            elif records is not None:  # already opened and masked for blocks or records
                text = readable_text(blocks(records))
            else:
                raw = self._decrypted(("messages", "content", row.row_key), row.records)
                text = readable_text(blocks(records_of(raw)), self.scanner.mask)
            self.opened[key] = text
        value: str = self.opened[key]
        return value

    def forget(self) -> None:
        """Drop every value opened so far (a subscription's next item reads afresh)."""
        self.opened.clear()
        self.decrypted.clear()

    def _decrypted(self, key: tuple[str, str, str], stored: bytes | str) -> bytes:
        """The stored bytes, decrypted at most once per request when sealed."""
        if not self.store.codec.encrypted:
            return self.store.codec.open(*key, stored)
        if key not in self.decrypted:
            self.decrypted[key] = self.store.codec.open(*key, stored)
        return self.decrypted[key]

    def open_text(
        self, table: str, column: str, row: str, stored: bytes | str | None
    ) -> str | None:
        """A stored text value (title, summary), decrypted if it is sealed."""
        if stored is None:
            return None
        key = (table, column, row)
        if key not in self.opened:
            if not self.store.codec.encrypted:
                text = stored.decode() if isinstance(stored, bytes) else stored
            else:
                text = self.store.codec.open(table, column, row, stored).decode()
            self.opened[key] = self.scanner.mask_short(text)
        value: str = self.opened[key]
        return value


Info: TypeAlias = strawberry.Info[Context, None]
