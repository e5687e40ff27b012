"""Where the encryption key comes from: flags, environment, key files, passphrases."""

from __future__ import annotations

import contextlib
import errno
import os
import tempfile
from pathlib import Path
from typing import Final

import platformdirs

from graph.config import APP_NAME
from graph.crypto import MasterKey
from graph.errors import ConfigError
from graph.security import read_private_file
from graph.store.keyring import KeyMaterial, file_state

__all__ = ["KEY_ENV", "KEY_FILE_ENV", "default_key_path", "resolve_key", "write_key_file"]

KEY_ENV: Final = "SESSIONGRAPH_KEY"
KEY_FILE_ENV: Final = "SESSIONGRAPH_KEY_FILE"


def default_key_path() -> Path:
    """``key`` in the platform config dir (where ``keygen`` writes by default)."""
    return platformdirs.user_config_path(APP_NAME) / "key"


def read_key_file(path: Path) -> MasterKey:
    """The key in a key file (base64 of 32 bytes), refused if others can read the file."""
    try:
        return MasterKey.from_base64(read_private_file(path, "key file"))
    except ValueError as exc:
        raise ConfigError(f"key file {path}: {exc}") from exc


def resolve_key(
    key_file: Path | None = None,
    passphrase_file: Path | None = None,
    passphrase: str | None = None,
    *,
    db: Path | None = None,
) -> KeyMaterial | None:
    """The key material to open a database with: the flags, else the environment, else
    (given ``db``) the default key file, for an encrypted or a new database.

    The default key file is what ``sessiongraph keygen`` writes: having one means the
    user set up a key, so a new database is created encrypted with it. A plaintext
    database that holds sessions opens without it (``encrypt`` is how it gets a key).

    Returns:
        ``None`` when there is no key: the database must then be a plaintext one.
    """
    given = _given_key(key_file, passphrase_file, passphrase)
    if given is not None or db is None:
        return given
    default = default_key_path()
    if default.is_file() and file_state(db) != "plaintext":
        return KeyMaterial(key=read_key_file(default))
    return None


def _given_key(
    key_file: Path | None, passphrase_file: Path | None, passphrase: str | None
) -> KeyMaterial | None:
    """The key material of the flags, else of the environment."""
    if passphrase is not None:
        return KeyMaterial(passphrase=passphrase)
    if passphrase_file is not None:
        text = read_private_file(passphrase_file.expanduser(), "passphrase file").rstrip("\n")
        if len(text) < 8:
            raise ConfigError(f"the passphrase in {passphrase_file} is shorter than 8 characters")
        return KeyMaterial(passphrase=text)
    if key_file is not None:
        return KeyMaterial(key=read_key_file(key_file.expanduser()))
    from_env = os.environ.get(KEY_ENV)
    if from_env:
        try:
            return KeyMaterial(key=MasterKey.from_base64(from_env))
        except ValueError as exc:
            raise ConfigError(f"${KEY_ENV}: {exc}") from exc
    file_env = os.environ.get(KEY_FILE_ENV)
    if file_env:
        return KeyMaterial(key=read_key_file(Path(file_env).expanduser()))
    return None


def write_key_file(path: Path) -> MasterKey:
    """A new random key, written to ``path`` (mode 0600); never over an existing file.

    The key is written to a temporary file beside ``path``, synced, then linked to its
    name (a link fails rather than replace a file): a write that fails (a full disk)
    leaves nothing behind, where an empty ``path`` would have made every later keygen
    refuse to overwrite it.
    """
    key = MasterKey.generate()
    path.parent.mkdir(parents=True, exist_ok=True)
    if os.path.lexists(path):
        raise ConfigError(f"{path} exists: keygen never overwrites a key")
    try:
        fd, temp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    except OSError as exc:
        raise ConfigError(f"cannot create key file {path}: {_why(exc)}") from exc
    text = key.to_base64() + "\n"
    try:
        _write(fd, text)
        _link(temp, path, text)
    except FileExistsError as exc:  # written by another keygen meanwhile
        raise ConfigError(f"{path} exists: keygen never overwrites a key") from exc
    except OSError as exc:
        raise ConfigError(f"cannot write key file {path}: {_why(exc)}") from exc
    finally:
        with contextlib.suppress(OSError):
            os.unlink(temp)
    return key


def _write(fd: int, text: str) -> None:
    with os.fdopen(fd, "w", encoding="utf-8") as handle:
        handle.write(text)
        handle.flush()
        os.fsync(handle.fileno())


def _link(temp: str, path: Path, text: str) -> None:
    """Give the written ``temp`` the name ``path``, unless ``path`` exists."""
    try:
        os.link(temp, path)
        return
    except OSError as exc:
        if exc.errno not in (errno.EPERM, errno.EOPNOTSUPP, errno.ENOSYS):
            raise
    # A file system without hard links: the name is created exclusively instead, and
    # removed again if the write fails.
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    try:
        _write(fd, text)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(path)
        raise


def _why(exc: OSError) -> str:
    why = exc.strerror or str(exc)
    if exc.errno in (errno.ENOSPC, errno.EDQUOT):
        return f"{why}: free some space and run keygen again (nothing was written)"
    return why
