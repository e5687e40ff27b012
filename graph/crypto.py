"""Field-level encryption: AES-256-GCM envelopes, key derivation, and search tokens.

An encrypted value is stored as a BLOB envelope::

    version (1 byte) | key id (8 bytes) | nonce (12 bytes) | ciphertext + tag (16 bytes)

The AAD binds it to its place: table, column and the row's natural key. A ciphertext
copied to another row or column does not authenticate. The master key never encrypts
anything itself: HKDF derives a data key, a search key (keyed hashes of index tokens)
and a check key (the key-check value stored in the database).
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import os
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from typing import Final, Protocol

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from cryptography.hazmat.primitives.kdf.scrypt import Scrypt

from graph.errors import SessiongraphError

__all__ = [
    "ENVELOPE_VERSION",
    "Cipher",
    "Codec",
    "DecryptionFailed",
    "MasterKey",
    "PlainCodec",
    "TokenHasher",
    "derive_passphrase_key",
    "is_envelope",
]

ENVELOPE_VERSION: Final = 1
KEY_BYTES: Final = 32
_NONCE: Final = 12
_KEY_ID: Final = 8
_HEADER: Final = 1 + _KEY_ID + _NONCE
TOKEN_CHARS: Final = 16  # base32 characters of a search token's keyed hash (80 bits)

# OWASP's scrypt recommendation (N=2^17, r=8, p=1): ~128 MiB and well under a second.
SCRYPT_N: Final = 2**17
SCRYPT_R: Final = 8
SCRYPT_P: Final = 1


class DecryptionFailed(SessiongraphError):
    """A stored value did not authenticate: wrong key, or moved, or tampered with."""

    code = "DECRYPTION_FAILED"


def _hkdf(master: bytes, purpose: str) -> bytes:
    return HKDF(
        algorithm=hashes.SHA256(),
        length=KEY_BYTES,
        salt=None,
        info=f"sessiongraph {purpose} v1".encode(),
    ).derive(master)


@dataclass(frozen=True, slots=True)
class MasterKey:
    """A 32-byte master key and the subkeys derived from it."""

    secret: bytes = field(repr=False)

    def __post_init__(self) -> None:
        if len(self.secret) != KEY_BYTES:
            raise ValueError(f"a master key is {KEY_BYTES} bytes, not {len(self.secret)}")

    @classmethod
    def generate(cls) -> MasterKey:
        return cls(os.urandom(KEY_BYTES))

    @classmethod
    def from_base64(cls, text: str) -> MasterKey:
        """Decode the key as written in a key file or ``$SESSIONGRAPH_KEY``."""
        try:
            raw = base64.b64decode(text.strip(), validate=True)
        except ValueError as exc:
            raise ValueError("the key is not valid base64") from exc
        if len(raw) != KEY_BYTES:
            raise ValueError(f"the key must be {KEY_BYTES} bytes of base64, not {len(raw)}")
        return cls(raw)

    def to_base64(self) -> str:
        return base64.b64encode(self.secret).decode()

    @property
    def key_id(self) -> bytes:
        """8 bytes naming this key in every envelope (no secret: a keyed hash)."""
        return _hkdf(self.secret, "key id")[:_KEY_ID]

    def check_value(self) -> str:
        """What the database stores to recognise this key (a wrong key fails fast)."""
        return hmac.new(_hkdf(self.secret, "key check"), b"sessiongraph", "sha256").hexdigest()

    def data_key(self) -> bytes:
        return _hkdf(self.secret, "data")

    def search_key(self) -> bytes:
        return _hkdf(self.secret, "search tokens")


def derive_passphrase_key(passphrase: str, salt: bytes) -> MasterKey:
    """A master key from a passphrase and the database's salt (scrypt, OWASP settings)."""
    kdf = Scrypt(salt=salt, length=KEY_BYTES, n=SCRYPT_N, r=SCRYPT_R, p=SCRYPT_P)
    return MasterKey(kdf.derive(passphrase.encode()))


def is_envelope(value: object) -> bool:
    """Whether a stored value is one of our envelopes (versus plaintext)."""
    return isinstance(value, bytes) and len(value) >= _HEADER + 16 and value[0] == ENVELOPE_VERSION


def _aad(table: str, column: str, row: str) -> bytes:
    return f"{table}\x00{column}\x00{row}".encode()


class Codec(Protocol):
    """How values are stored: as they are, or sealed; and how search tokens are kept."""

    @property
    def encrypted(self) -> bool: ...

    def seal(self, table: str, column: str, row: str, plaintext: bytes) -> bytes: ...

    def open(self, table: str, column: str, row: str, stored: bytes | str) -> bytes: ...

    def token(self, token: str) -> str: ...

    @property
    def hasher(self) -> TokenHasher | None:
        """What :meth:`token` applies (``None``: tokens are kept as they are)."""


class PlainCodec:
    """No encryption: values and tokens are stored as they are."""

    encrypted = False
    hasher = None

    def seal(self, table: str, column: str, row: str, plaintext: bytes) -> bytes:
        return plaintext

    def open(self, table: str, column: str, row: str, stored: bytes | str) -> bytes:
        return stored.encode() if isinstance(stored, str) else stored

    def token(self, token: str) -> str:
        return token


class _Hashes(dict[str, str]):
    """token -> its keyed hash, computed on a miss: a hit is one dict lookup in C."""

    __slots__ = ("_key",)

    def __init__(self, key: bytes) -> None:
        super().__init__()
        self._key = key

    def __missing__(self, token: str) -> str:
        digest = hmac.digest(self._key, token.encode(), "sha256")
        hashed = base64.b32encode(digest[:10]).decode().lower()  # 16 chars, [a-z2-7]
        if len(self) >= 500_000:  # bounded: Zipf makes hits the rule
            self.clear()
        self[token] = hashed
        return hashed


class TokenHasher:
    """Keyed hashes of search tokens under one search key, memoized.

    It holds the search key only (it cannot open a value), and pickles as that key
    alone: the importer hands it to the worker process that prepares search documents.
    """

    __slots__ = ("_key", "_memo")

    def __init__(self, search_key: bytes) -> None:
        self._key = search_key
        self._memo = _Hashes(search_key)

    def __reduce__(self) -> tuple[type[TokenHasher], tuple[bytes]]:
        return (TokenHasher, (self._key,))

    @property
    def key_id(self) -> str:
        """A public name for the search key (a hash of it): tells two hashers apart."""
        return hashlib.sha256(b"sessiongraph search key id\x00" + self._key).hexdigest()[:16]

    def __call__(self, token: str) -> str:
        return self._memo[token]

    def many(self, tokens: Iterable[str]) -> Iterator[str]:
        """The hash of each token, in order (the memo's lookups run in C)."""
        return map(self._memo.__getitem__, tokens)


class Cipher:
    """AES-256-GCM sealing under one key; opening under that key or older ones.

    Args:
        key: Seals new values; its search key hashes tokens.
        older: Keys whose envelopes may still be stored (during a key rotation).
    """

    encrypted = True

    def __init__(self, key: MasterKey, older: Iterable[MasterKey] = ()) -> None:
        self.key_id = key.key_id
        self._aead = AESGCM(key.data_key())  # one object per key, reused
        self._openers = {k.key_id: AESGCM(k.data_key()) for k in (*older, key)}
        self.hasher = TokenHasher(key.search_key())
        self.decryptions = 0
        self._header = bytes([ENVELOPE_VERSION]) + key.key_id

    def seal(self, table: str, column: str, row: str, plaintext: bytes) -> bytes:
        nonce = os.urandom(_NONCE)
        sealed = self._aead.encrypt(nonce, plaintext, _aad(table, column, row))
        return b"".join((self._header, nonce, sealed))  # one copy of the ciphertext

    def open(self, table: str, column: str, row: str, stored: bytes | str) -> bytes:
        """Raises DecryptionFailed when the value does not authenticate here."""
        if not is_envelope(stored):
            raise DecryptionFailed(f"{table}.{column} of {row} is not an encrypted value")
        assert isinstance(stored, bytes)
        opener = self._openers.get(stored[1 : 1 + _KEY_ID])
        if opener is None:
            raise DecryptionFailed(f"{table}.{column} of {row} was sealed with an unknown key")
        self.decryptions += 1
        try:
            return opener.decrypt(
                stored[1 + _KEY_ID : _HEADER], stored[_HEADER:], _aad(table, column, row)
            )
        except InvalidTag as exc:
            raise DecryptionFailed(
                f"{table}.{column} of {row} does not authenticate (tampered, or moved)"
            ) from exc

    def token(self, token: str) -> str:
        """A search token's keyed hash: equal tokens give equal hashes, nothing more."""
        return self.hasher(token)
