"""The API token: where it comes from, how it is kept, and how it is checked."""

from __future__ import annotations

import hmac
import ipaddress
import os
import secrets
import stat
from pathlib import Path
from typing import Final

import platformdirs

from graph.config import APP_NAME
from graph.errors import ConfigError

__all__ = [
    "TOKEN_ENV",
    "default_token_path",
    "is_loopback",
    "load_or_create_token",
    "read_private_file",
    "read_token_file",
    "rotate_token",
    "token_from_env",
    "tokens_match",
]

TOKEN_ENV: Final = "SESSIONGRAPH_TOKEN"  # noqa: S105 - a variable's name, not a secret
_MIN_TOKEN: Final = 16


def default_token_path() -> Path:
    """``token`` in the platform config dir (e.g. ``~/.config/sessiongraph/token``)."""
    return platformdirs.user_config_path(APP_NAME) / "token"


def is_loopback(host: str) -> bool:
    """Whether ``host`` (a bind address or name) only ever reaches this machine."""
    host = host.strip("[]")
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def _check_token(token: str, source: str) -> str:
    token = token.strip()
    if len(token) < _MIN_TOKEN:
        raise ConfigError(f"the token in {source} is shorter than {_MIN_TOKEN} characters")
    return token


def read_private_file(path: Path, what: str) -> str:
    """A secret file's text, refused if other users could read it.

    Raises:
        ConfigError: missing, unreadable, or readable by group or others.
    """
    try:
        mode = path.stat().st_mode
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise ConfigError(f"cannot read {what} {path}: {exc.strerror}") from exc
    if mode & (stat.S_IRWXG | stat.S_IRWXO):
        raise ConfigError(
            f"{what} {path} is readable by other users (mode {stat.filemode(mode)}): "
            f"run `chmod 600 {path}`"
        )
    return text


def read_token_file(path: Path) -> str:
    """The token in ``path`` (see :func:`read_private_file`; also refused if too short)."""
    return _check_token(read_private_file(path, "token file"), str(path))


def load_or_create_token(path: Path) -> tuple[str, bool]:
    """The token stored at ``path``, made (mode 0600) if there is none yet.

    Returns:
        The token, and whether it was just created (so the caller shows it once).
    """
    if path.exists():
        return read_token_file(path), False
    path.parent.mkdir(parents=True, exist_ok=True)
    token = secrets.token_urlsafe(32)
    try:
        # O_EXCL: never overwrite a token another process created meanwhile.
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        return read_token_file(path), False
    except OSError as exc:
        raise ConfigError(f"cannot create token file {path}: {exc.strerror}") from exc
    with os.fdopen(fd, "w", encoding="utf-8") as handle:
        handle.write(token + "\n")
    return token, True


def rotate_token(path: Path) -> str:
    """Replace the token at ``path`` with a new one (mode 0600), written beside it and
    renamed, so a running server's readers never see half a token."""
    path.parent.mkdir(parents=True, exist_ok=True)
    token = secrets.token_urlsafe(32)
    part = path.with_name(path.name + ".new")
    part.unlink(missing_ok=True)
    try:
        fd = os.open(part, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            handle.write(token + "\n")
        part.replace(path)
    except OSError as exc:
        raise ConfigError(f"cannot write token file {path}: {exc.strerror}") from exc
    return token


def token_from_env() -> str | None:
    """``$SESSIONGRAPH_TOKEN``, checked, or ``None`` when unset."""
    value = os.environ.get(TOKEN_ENV)
    return _check_token(value, f"${TOKEN_ENV}") if value else None


def tokens_match(presented: str, expected: str) -> bool:
    """Constant-time comparison, so response timing does not leak the token."""
    return hmac.compare_digest(presented.encode(), expected.encode())
