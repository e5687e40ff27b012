"""sessiongraph's entries in Claude Code's ``hooks`` settings: add, remove, find.

Claude Code reads hooks from ``settings.json`` as::

    {"hooks": {"SessionEnd": [{"matcher": "...", "hooks": [
        {"type": "command", "command": "...", "timeout": 30}]}]}}

Our entries are recognised by their command alone (``sessiongraph hook`` or
``python -m graph hook``, with any options), so they are found whatever path or flags
they were installed with, and nothing else in the file is ever touched. The functions
here are pure: they take the settings object and return a new one.
"""

from __future__ import annotations

import copy
import shlex
import sys
from pathlib import Path
from typing import Any, Final

from graph.errors import ConfigError

__all__ = [
    "EVENTS",
    "HOOK_TIMEOUT_S",
    "hook_command",
    "install",
    "installed",
    "is_ours",
    "uninstall",
]

# SessionEnd: the transcript is complete. PreCompact: what compaction replaces is still on
# disk. Stop: after each turn, so a session killed without SessionEnd is kept up to date.
EVENTS: Final = ("SessionEnd", "PreCompact", "Stop")
# Claude Code's limit for our command, in seconds; the command keeps well within it.
HOOK_TIMEOUT_S: Final = 30

Settings = dict[str, Any]


def hook_command(db: Path | None = None, key_file: Path | None = None) -> str:
    """The command line the settings run: this interpreter, so it works outside a venv.

    ``python -m graph hook`` rather than the ``sessiongraph`` script: it starts without
    loading the GraphQL stack (see :mod:`graph.__main__`), which a hook run after every
    turn would pay for each time.
    """
    parts = [sys.executable, "-m", "graph", "hook"]
    if db is not None:
        parts += ["--db", str(db)]
    if key_file is not None:
        parts += ["--key-file", str(key_file)]
    return shlex.join(parts)


def is_ours(entry: object) -> bool:
    """Whether a hook entry runs ``sessiongraph hook`` (or ``python -m graph hook``)."""
    if not isinstance(entry, dict) or not isinstance(entry.get("command"), str):
        return False
    try:
        words = shlex.split(entry["command"])
    except ValueError:
        return False
    for index, word in enumerate(words[1:], 1):
        if word != "hook":
            continue
        before = words[index - 1]
        if Path(before).name == "sessiongraph":
            return True
        if before == "graph" and index >= 2 and words[index - 2] == "-m":
            return True
    return False


def _groups(settings: Settings, event: str, where: str) -> list[Any]:
    """The matcher groups of ``event``, checked to have the shape Claude Code reads."""
    hooks = settings.get("hooks", {})
    if not isinstance(hooks, dict):
        raise ConfigError(f"{where}: `hooks` is not an object; left untouched")
    groups = hooks.get(event, [])
    if not isinstance(groups, list):
        raise ConfigError(f"{where}: `hooks.{event}` is not a list; left untouched")
    return groups


def _inner(group: object) -> list[Any] | None:
    inner = group.get("hooks") if isinstance(group, dict) else None
    return inner if isinstance(inner, list) else None


def install(settings: Settings, command: str, where: str) -> Settings:
    """``settings`` with our hook on every event of :data:`EVENTS`, once each.

    A group holding only our entries keeps its place and its other keys (a matcher
    the user set); our entries elsewhere are taken out; with no group of ours, one is
    appended. Installing twice gives the same settings.

    Raises:
        ConfigError: ``hooks`` (or one of our events in it) does not have the shape
            Claude Code reads; ``where`` names the file in the message.
    """
    for event in EVENTS:
        _groups(settings, event, where)
    result = copy.deepcopy(settings)
    hooks = result.setdefault("hooks", {})
    entry = {"type": "command", "command": command, "timeout": HOOK_TIMEOUT_S}
    for event in EVENTS:
        placed = False
        groups: list[Any] = []
        for group in hooks.get(event, []):
            inner = _inner(group)
            if inner is None or not any(is_ours(h) for h in inner):
                groups.append(group)
            elif all(is_ours(h) for h in inner):
                if not placed:
                    groups.append({**group, "hooks": [entry]})
                    placed = True
            else:
                groups.append({**group, "hooks": [h for h in inner if not is_ours(h)]})
        if not placed:
            groups.append({"hooks": [entry]})
        hooks[event] = groups
    return result


def uninstall(settings: Settings, where: str) -> Settings:
    """``settings`` without any entry of ours; containers we emptied go too.

    Raises:
        ConfigError: as :func:`install`.
    """
    for event in EVENTS:
        _groups(settings, event, where)
    result = copy.deepcopy(settings)
    hooks = result.get("hooks")
    if not isinstance(hooks, dict):
        return result
    removed = False
    for event in EVENTS:
        if event not in hooks:
            continue
        groups: list[Any] = []
        for group in hooks[event]:
            inner = _inner(group)
            if inner is None or not any(is_ours(h) for h in inner):
                groups.append(group)
                continue
            removed = True
            rest = [h for h in inner if not is_ours(h)]
            if rest:
                groups.append({**group, "hooks": rest})
        if groups or not hooks[event]:
            hooks[event] = groups
        else:
            del hooks[event]
    if removed and not hooks:
        del result["hooks"]
    return result


def installed(settings: Settings) -> dict[str, list[str]]:
    """The commands of our entries, by event (events without one are left out)."""
    hooks = settings.get("hooks")
    found: dict[str, list[str]] = {}
    if not isinstance(hooks, dict):
        return found
    for event, groups in hooks.items():
        if not isinstance(groups, list):
            continue
        for group in groups:
            for entry in _inner(group) or []:
                if is_ours(entry):
                    found.setdefault(event, []).append(entry["command"])
    return found
