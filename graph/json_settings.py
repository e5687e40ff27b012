"""An agent's JSON settings file, edited without harm (Claude Code's, Gemini CLI's).

Edits follow one discipline (:class:`JsonFile`): a file that is not a JSON object is
refused and left as it is; a changed file is first copied aside, then replaced in one
rename, so the agent never reads half a file; an edit that changes nothing writes
nothing. A settings file that is a symbolic link (kept with the user's dotfiles) is
written through: the file it names is replaced, and the link stays.
"""

from __future__ import annotations

import contextlib
import difflib
import json
import math
import os
import shutil
import stat
import tempfile
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from graph.errors import ConfigError

__all__ = ["JsonFile", "Settings", "dumps", "loads"]

Settings = dict[str, Any]


class _Literal(float):
    """A number no double holds (``1e999``), kept as written.

    Read as a float it is infinite, which :mod:`json` writes back as ``Infinity``: not
    JSON, and the agents' ``JSON.parse`` refuses the whole file then.
    """

    text: str


def _number(text: str) -> float:
    value = float(text)
    if math.isfinite(value):
        return value
    literal = _Literal(value)
    literal.text = text
    return literal


def _not_json(name: str) -> Any:
    raise ValueError(f"{name} is not JSON")


def loads(text: str) -> Any:
    """JSON as the agents read it: numbers beyond a double kept as written, ``NaN`` and
    ``Infinity`` refused (``JSON.parse`` refuses them).

    Raises:
        ValueError: ``text`` is not JSON (a :class:`json.JSONDecodeError` mostly).
    """
    return json.loads(text, parse_float=_number, parse_constant=_not_json)


def dumps(settings: Settings) -> str:
    """Settings as written back: two-space indents, keys in their order, UTF-8 as is, and
    numbers :func:`loads` kept as written, as they were.

    Raises:
        ValueError: a value JSON can not hold (a float that is not finite).
    """
    literals: dict[str, str] = {}
    marker = f"\x00sessiongraph-{uuid.uuid4().hex}-"

    def marked(value: Any) -> Any:
        if isinstance(value, _Literal):
            key = f"{marker}{len(literals)}"
            literals[json.dumps(key)] = value.text
            return key
        if isinstance(value, dict):
            return {key: marked(item) for key, item in value.items()}
        if isinstance(value, list):
            return [marked(item) for item in value]
        return value

    text = json.dumps(marked(settings), indent=2, ensure_ascii=False, allow_nan=False)
    for key, literal in literals.items():
        text = text.replace(key, literal, 1)
    return text + "\n"


@dataclass(frozen=True, slots=True)
class JsonFile:
    """A JSON settings file that holds one object (missing: an empty one)."""

    path: Path

    def load(self) -> Settings:
        """The object in the file, ``{}`` if there is no file.

        Raises:
            ConfigError: the file is unreadable, not JSON, or not a JSON object.
        """
        try:
            text = self.path.read_text(encoding="utf-8")
        except FileNotFoundError:
            if self.path.is_symlink():
                raise ConfigError(_dangling(self.path)) from None
            return {}
        except (OSError, UnicodeDecodeError) as exc:
            raise ConfigError(f"cannot read {self.path}: {_reason(exc)}; left untouched") from exc
        if not text.strip():
            return {}
        try:
            value = loads(text)
        except json.JSONDecodeError as exc:
            raise ConfigError(
                f"{self.path} is not valid JSON ({exc.msg} at line {exc.lineno} column "
                f"{exc.colno}); left untouched"
            ) from exc
        except ValueError as exc:
            raise ConfigError(f"{self.path} is not valid JSON ({exc}); left untouched") from exc
        if not isinstance(value, dict):
            raise ConfigError(f"{self.path} does not hold a JSON object; left untouched")
        return value

    def diff(self, before: Settings, after: Settings) -> str:
        """A unified diff of the two versions, as :func:`dumps` writes them."""
        return "".join(
            difflib.unified_diff(
                dumps(before).splitlines(keepends=True),
                dumps(after).splitlines(keepends=True),
                fromfile=str(self.path),
                tofile=str(self.path),
            )
        )

    def save(self, settings: Settings) -> Path | None:
        """Replace the file with ``settings``, copying the old one aside first.

        Returns:
            The backup's path (``None`` when there was no file to back up).

        Raises:
            ConfigError: the file is a symbolic link to nothing (left as it is).
        """
        target = self._target()
        backup = None
        mode = 0o644
        if target.exists():
            mode = stat.S_IMODE(target.stat().st_mode)
            stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%S%f")
            # Beside the name the user knows, not in the folder a link points into.
            backup = self.path.with_name(f"{self.path.name}.sessiongraph-{stamp}.bak")
            shutil.copy2(target, backup)
        target.parent.mkdir(parents=True, exist_ok=True)
        fd, temp = tempfile.mkstemp(prefix=f".{target.name}.", dir=target.parent)
        try:
            with os.fdopen(fd, "w", encoding="utf-8") as handle:
                handle.write(dumps(settings))
                handle.flush()
                os.fsync(handle.fileno())
            os.chmod(temp, mode)
            os.replace(temp, target)
        except BaseException:
            with contextlib.suppress(OSError):
                os.unlink(temp)
            raise
        return backup

    def _target(self) -> Path:
        """The file to replace: the path, or the file a symbolic link there names.

        Replacing the link itself would cut the user's settings off from where they keep
        them (a dotfiles repository), and leave that copy behind unchanged.
        """
        if not self.path.is_symlink():
            return self.path
        try:
            return self.path.resolve(strict=True)
        except (OSError, RuntimeError) as exc:  # RuntimeError: a loop of links
            raise ConfigError(_dangling(self.path)) from exc


def _dangling(path: Path) -> str:
    try:
        where = f" ({os.readlink(path)})"
    except OSError:
        where = ""
    return (
        f"{path} is a symbolic link to nothing{where}; left untouched: create the file it "
        "names, or remove the link"
    )


def _reason(exc: Exception) -> str:
    if isinstance(exc, OSError):
        return exc.strerror or type(exc).__name__
    return str(exc)
