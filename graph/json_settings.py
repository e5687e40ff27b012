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
import os
import shutil
import stat
import tempfile
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from graph.errors import ConfigError

__all__ = ["JsonFile", "Settings", "dumps"]

Settings = dict[str, Any]


def dumps(settings: Settings) -> str:
    """Settings as written back: two-space indents, keys in their order, UTF-8 as is."""
    return json.dumps(settings, indent=2, ensure_ascii=False) + "\n"


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
            value = json.loads(text)
        except json.JSONDecodeError as exc:
            raise ConfigError(
                f"{self.path} is not valid JSON ({exc.msg} at line {exc.lineno} column "
                f"{exc.colno}); left untouched"
            ) from exc
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
