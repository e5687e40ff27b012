"""The user's secrets settings: extra patterns, allowed values, redaction on import.

``secrets.toml`` in the config directory (or ``$SESSIONGRAPH_SECRETS_CONFIG``)::

    [secrets]
    redact_on_import = false          # what every import does without --redact-secrets
                                      # or --keep-secrets: `import`, hook, `serve --watch`
    allow = ["AKIAIOSFODNN7EXAMPLE"]  # values never reported (documentation examples)
    allow_patterns = ["^sk_test_"]    # nor any value one of these finds

    [[secrets.patterns]]              # secrets of your own kinds
    name = "acme-token"
    regex = "acme_[A-Za-z0-9]{32}"
    group = 0                         # the group that holds the secret (0: all of it)
"""

from __future__ import annotations

import functools
import os
import re
import tomllib
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Final

import platformdirs

from graph.config import APP_NAME
from graph.errors import ConfigError
from graph.secrets.detect import Pattern, SecretScanner

__all__ = [
    "CONFIG_ENV",
    "SecretsConfig",
    "default_config_path",
    "default_scanner",
    "load_config",
    "redact_on_import",
]

CONFIG_ENV: Final = "SESSIONGRAPH_SECRETS_CONFIG"
_KIND = re.compile(r"[a-z0-9-]{1,40}")


@dataclass(frozen=True, slots=True)
class SecretsConfig:
    """What ``secrets.toml`` says; the defaults when there is none."""

    redact_on_import: bool = False
    allow: frozenset[str] = frozenset()
    allow_patterns: tuple[str, ...] = ()
    patterns: tuple[Pattern, ...] = ()

    def scanner(self) -> SecretScanner:
        return SecretScanner(self.patterns, self.allow, self.allow_patterns)


@functools.cache
def default_scanner() -> SecretScanner:
    """The scanner of the user's ``secrets.toml``, read once per process."""
    return load_config().scanner()


def redact_on_import(flag: bool | None = None) -> bool:
    """Whether an import stores secrets redacted: ``flag`` when a command was told
    (``--redact-secrets``/``--keep-secrets``), else what ``secrets.toml`` says.

    Every import asks here (``import``, its ``--watch``, ``serve --watch``, the hook,
    the prompt history), so that none of them stores what the user asked to redact.

    Raises:
        ConfigError: ``flag`` is None and ``secrets.toml`` is wrong.
    """
    return load_config().redact_on_import if flag is None else flag


def default_config_path() -> Path:
    from_env = os.environ.get(CONFIG_ENV)
    if from_env:
        return Path(from_env).expanduser()
    return platformdirs.user_config_path(APP_NAME) / "secrets.toml"


def load_config(path: Path | None = None) -> SecretsConfig:
    """Read ``secrets.toml``; a missing file is the defaults, a wrong one a ConfigError."""
    path = path or default_config_path()
    try:
        document = tomllib.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        return SecretsConfig()
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError) as exc:
        raise ConfigError(f"{path}: not a readable TOML file ({exc})") from None
    section = document.get("secrets", {})
    if not isinstance(section, dict):
        raise ConfigError(f"{path}: [secrets] must be a table")
    return SecretsConfig(
        redact_on_import=_typed(path, section, "redact_on_import", bool, False),
        allow=frozenset(_strings(path, section, "allow")),
        allow_patterns=tuple(
            _regex(path, p, "allow_patterns") for p in _strings(path, section, "allow_patterns")
        ),
        patterns=tuple(
            _pattern(path, i, p) for i, p in enumerate(_typed(path, section, "patterns", list, []))
        ),
    )


def _typed(path: Path, section: dict[str, Any], key: str, kind: type, default: Any) -> Any:
    value = section.get(key, default)
    if not isinstance(value, kind):
        raise ConfigError(f"{path}: secrets.{key} must be a {kind.__name__}")
    return value


def _strings(path: Path, section: dict[str, Any], key: str) -> list[str]:
    values = _typed(path, section, key, list, [])
    if not all(isinstance(v, str) for v in values):
        raise ConfigError(f"{path}: secrets.{key} must be a list of strings")
    return list(values)


def _regex(path: Path, text: str, where: str) -> str:
    try:
        re.compile(text)
    except re.error as exc:
        raise ConfigError(
            f"{path}: secrets.{where}: bad regular expression {text!r}: {exc}"
        ) from None
    return text


def _pattern(path: Path, index: int, entry: Any) -> Pattern:
    where = f"patterns[{index}]"
    if not isinstance(entry, dict):
        raise ConfigError(f"{path}: secrets.{where} must be a table")
    name, regex, group = entry.get("name"), entry.get("regex"), entry.get("group", 0)
    if not isinstance(name, str) or not _KIND.fullmatch(name):
        raise ConfigError(f"{path}: secrets.{where}.name must be lower-case letters, digits, -")
    if not isinstance(regex, str):
        raise ConfigError(f"{path}: secrets.{where}.regex must be a string")
    compiled = re.compile(_regex(path, regex, f"{where}.regex"))
    if not isinstance(group, int) or not 0 <= group <= compiled.groups:
        raise ConfigError(f"{path}: secrets.{where}.group must name a group of its regex")
    return Pattern(name, regex, group)
