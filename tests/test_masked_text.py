"""A message's text is stored with its secrets masked (migration 0013), so that serving it
scans nothing; a server with other rules masks it again itself, and new rules mask the
stored texts again."""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

import pytest

from graph.crypto import MasterKey
from graph.importers.importer import import_paths
from graph.inputs import NewMessage
from graph.schema import Context, build_schema
from graph.search.analysis import Analysis
from graph.secrets import SecretScanner, default_scanner
from graph.secrets.detect import Finding
from graph.settings import ServerSettings
from graph.store import Store
from graph.store.keyring import KeyMaterial
from tests import secret_canaries as canaries
from tests.secret_canaries import write_transcript

KEY = KeyMaterial(key=MasterKey(bytes(range(32))))
TEXTS = "{ sessions { edges { node { messages(first: 100) { nodes { id text } } } } } }"
SECRETS = [value for value, _ in canaries.PLACED.values()]


class CountingScanner(SecretScanner):
    """The default rules, counting the texts they scan."""

    scans = 0

    def scan(self, text: str) -> list[Finding]:
        CountingScanner.scans += 1
        return super().scan(text)


@pytest.fixture
def rules_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """A ``secrets.toml`` the process reads afresh (the default rules until written)."""
    path = tmp_path / "secrets.toml"
    monkeypatch.setenv("SESSIONGRAPH_SECRETS_CONFIG", str(path))
    default_scanner.cache_clear()
    yield path
    default_scanner.cache_clear()


async def _served(store: Store, scanner: SecretScanner) -> dict[str, str]:
    context = Context(store=store, settings=ServerSettings(), request_id="t", scanner=scanner)
    result = await build_schema().execute(TEXTS, context_value=context)
    assert result.errors is None, result.errors
    assert result.data is not None
    return {
        m["id"]: m["text"]
        for s in result.data["sessions"]["edges"]
        for m in s["node"]["messages"]["nodes"]
    }


def _stored(db: Path) -> list[tuple[Any, str | None]]:
    with sqlite3.connect(db) as conn:
        return conn.execute("SELECT text, text_masked_by FROM messages").fetchall()


@pytest.mark.parametrize("encrypted", [False, True], ids=["plain", "sealed"])
async def test_texts_are_stored_masked_and_served_without_a_scan(
    tmp_path: Path, rules_file: Path, encrypted: bool
) -> None:
    write_transcript(tmp_path / "projects")
    db = tmp_path / "s.db"
    store = await Store.open(db, key=KEY if encrypted else None)
    try:
        await import_paths(store, [tmp_path / "projects"])
        stored = _stored(db)
        assert stored and {digest for _, digest in stored} == {default_scanner().digest}
        if not encrypted:
            joined = "\n".join(text for text, _ in stored)
            assert "[REDACTED:aws-access-key:" in joined
            assert not any(secret in joined for secret in SECRETS)

        CountingScanner.scans = 0
        served = await _served(store, CountingScanner())
        assert CountingScanner.scans == 0
        # The same texts as a server masking them itself (other rules: none stored by).
        other = SecretScanner(allow=frozenset({"not-a-secret"}))
        assert other.digest != default_scanner().digest
        assert served == await _served(store, other)
        assert any("[REDACTED:aws-access-key:" in text for text in served.values())
    finally:
        await store.close()


async def test_a_server_with_other_rules_masks_by_its_own(tmp_path: Path, rules_file: Path) -> None:
    write_transcript(tmp_path / "projects")
    store = await Store.open(tmp_path / "s.db")
    try:
        await import_paths(store, [tmp_path / "projects"])
        word = canaries.PLACED["prompt"][1]  # beside a secret, in the stored text
        assert any(word in text for text in (await _served(store, SecretScanner())).values())
        own = SecretScanner(patterns=_patterns(word))
        served = await _served(store, own)
        assert not any(word in text for text in served.values())
        assert any("[REDACTED:custom:animal:" in text for text in served.values())
    finally:
        await store.close()


async def test_new_rules_mask_stored_texts_again_and_old_databases_are_filled(
    tmp_path: Path, rules_file: Path
) -> None:
    write_transcript(tmp_path / "projects")
    db = tmp_path / "s.db"
    store = await Store.open(db)
    try:
        await import_paths(store, [tmp_path / "projects"])
        async with store.write() as writer:  # as migration 0013 leaves an older database
            await writer.connection.execute("UPDATE messages SET text_masked_by = NULL")
    finally:
        await store.close()
    word = canaries.PLACED["prompt"][1]
    rules_file.write_text(
        f'[[secrets.patterns]]\nname = "animal"\nregex = "{word}"\n', encoding="utf-8"
    )
    default_scanner.cache_clear()
    store = await Store.open(db)  # rebuilds the index for the new rules, masks the texts
    try:
        stored = _stored(db)
        assert {digest for _, digest in stored} == {default_scanner().digest}
        assert not any(word in text for text, _ in stored)
        CountingScanner.scans = 0
        served = await _served(store, CountingScanner(patterns=_patterns(word)))
        assert CountingScanner.scans == 0
        assert any("[REDACTED:custom:animal:" in text for text in served.values())
    finally:
        await store.close()


def _patterns(word: str) -> Sequence[Any]:
    from graph.secrets.detect import Pattern

    return (Pattern("animal", word),)


def test_short_values_are_masked_once_and_long_ones_every_time() -> None:
    scanner = CountingScanner()
    title = f"deploy with {canaries.AWS}"
    CountingScanner.scans = 0
    assert scanner.mask_short(title) == scanner.mask_short(title) == scanner.mask(title)
    assert "[REDACTED:aws-access-key:" in scanner.mask_short(title)
    assert CountingScanner.scans == 2  # the first mask_short, and mask
    long = title + " and more" * 100
    scanner.mask_short(long)
    scanner.mask_short(long)
    assert CountingScanner.scans == 4


def _message(*texts: str) -> NewMessage:
    content = [{"type": "text", "text": text} for text in texts]
    record = {"type": "assistant", "message": {"role": "assistant", "content": content}}
    return NewMessage("m:1", "assistant", "2026-01-01T00:00:00.000Z", [(1, record)])


@pytest.mark.parametrize(
    ("texts", "masked"),
    [
        (("the api key is rotated", "password policy"), False),  # anchors, no secret
        (("deploy", f"with {canaries.AWS} now"), True),
    ],
    ids=["no-secret", "secret"],
)
def test_the_import_scans_a_text_once_for_its_document_and_its_masked_text(
    rules_file: Path, texts: tuple[str, ...], masked: bool
) -> None:
    scanner = CountingScanner()
    message = _message(*texts)
    CountingScanner.scans = 0
    Analysis(scanner=scanner).prepare_message(message)
    stored = message.masked_text(scanner)
    assert ("[REDACTED:aws-access-key:" in stored) is masked
    assert canaries.AWS not in stored
    # One scan for the document's text field; the blocks again only when it found some.
    assert CountingScanner.scans == (1 + len(texts) if masked else 1)


def test_a_users_pattern_masks_the_text_block_by_block(rules_file: Path) -> None:
    scanner = CountingScanner(patterns=_patterns("^wombat"))
    message = _message("plain", "wombat at the start of a block")
    Analysis(scanner=scanner).prepare_message(message)
    assert message.masked_text(scanner).startswith("plain\n\n[REDACTED:custom:animal:")
