"""sessiongraph's entries in the ``hooks`` settings of Claude Code and Gemini CLI: add,
remove, find.

Both read hooks from ``settings.json`` in the same shape (the events differ, and Gemini
CLI's ``timeout`` is in milliseconds; it also names each hook)::

    {"hooks": {"SessionEnd": [{"matcher": "...", "hooks": [
        {"type": "command", "command": "...", "timeout": 30}]}]}}

Our entries are recognised by their command alone (``sessiongraph hook`` or
``python [-P] -m graph hook``, with any options), so they are found whatever path or
flags they were installed with, older forms included (installing again rewrites them),
and nothing else in the file is ever touched. The functions
here are pure: they take the settings object and return a new one.
"""

from __future__ import annotations

import copy
import shlex
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Final

from graph.errors import ConfigError

__all__ = [
    "AGENTS",
    "CLAUDE_CODE",
    "EVENTS",
    "GEMINI_CLI",
    "HOOK_TIMEOUT_S",
    "SAFE_MODULE",
    "HookAgent",
    "hook_command",
    "imports_from_cwd",
    "install",
    "installed",
    "is_ours",
    "uninstall",
]

# How an agent's command runs a module of ours: this interpreter, and not the current
# folder first on sys.path (-P, Python 3.11+), which ``python -m`` would put there.
SAFE_MODULE: Final = (sys.executable, "-P", "-m")

# The agent's limit for our command, in seconds; the command keeps well within it.
HOOK_TIMEOUT_S: Final = 30


@dataclass(frozen=True, slots=True)
class HookAgent:
    """An agent that runs hooks from its ``settings.json``, and what ours are there.

    Attributes:
        source: The agent, as ``sessions.source`` names it.
        label: Its name for people.
        events: The events our hook runs on.
        timeout: ``HOOK_TIMEOUT_S`` in the agent's unit.
        name: The name our entries carry (Gemini CLI lists and disables hooks by name).
    """

    source: str
    label: str
    events: tuple[str, ...]
    timeout: int
    name: str | None = None


# SessionEnd: the transcript is complete. PreCompact: what compaction replaces is still on
# disk. Stop: after each turn, so a session killed without SessionEnd is kept up to date.
CLAUDE_CODE: Final = HookAgent(
    "claude-code", "Claude Code", ("SessionEnd", "PreCompact", "Stop"), HOOK_TIMEOUT_S
)
# The same three moments: SessionEnd (best effort: Gemini CLI does not wait for it),
# PreCompress, and AfterAgent after each turn.
GEMINI_CLI: Final = HookAgent(
    "gemini-cli",
    "Gemini CLI",
    ("SessionEnd", "PreCompress", "AfterAgent"),
    HOOK_TIMEOUT_S * 1000,
    name="sessiongraph",
)
AGENTS: Final = {agent.source: agent for agent in (CLAUDE_CODE, GEMINI_CLI)}
EVENTS: Final = CLAUDE_CODE.events

Settings = dict[str, Any]


def hook_command(db: Path | None = None, key_file: Path | None = None) -> str:
    """The command line the settings run: this interpreter, so it works outside a venv.

    ``python -P -m graph hook`` rather than the ``sessiongraph`` script: it starts without
    loading the GraphQL stack (see :mod:`graph.__main__`), which a hook run after every
    turn would pay for each time. ``-P`` because the agent runs it in the project's
    folder, which ``-m`` would otherwise put first on ``sys.path``: a project with a
    ``graph`` package of its own would have that run instead.
    """
    parts = [*SAFE_MODULE, "graph", "hook"]
    if db is not None:
        parts += ["--db", str(db)]
    if key_file is not None:
        parts += ["--key-file", str(key_file)]
    return shlex.join(parts)


def is_ours(entry: object) -> bool:
    """Whether a hook entry runs ``sessiongraph hook`` (or ``python [-P] -m graph hook``)."""
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


def imports_from_cwd(command: str) -> bool:
    """Whether ``command`` is our older ``python -m graph ...`` form, without ``-P``.

    Run in a project's folder, such a command imports the project's ``graph`` package, if
    it has one, instead of sessiongraph's.
    """
    try:
        words = shlex.split(command)
    except ValueError:
        return False
    if "-m" not in words[1:]:
        return False
    options = words[1 : words.index("-m", 1)]
    return not {"-P", "-I"} & set(options)


def _groups(settings: Settings, event: str, where: str) -> list[Any]:
    """The matcher groups of ``event``, checked to have the shape the agents read."""
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


def install(
    settings: Settings, command: str, where: str, agent: HookAgent = CLAUDE_CODE
) -> Settings:
    """``settings`` with our hook on every event of ``agent``, once each.

    A group holding only our entries keeps its place and its other keys (a matcher
    the user set); our entries elsewhere are taken out; with no group of ours, one is
    appended. Installing twice gives the same settings.

    Raises:
        ConfigError: ``hooks`` (or one of our events in it) does not have the shape
            the agent reads; ``where`` names the file in the message.
    """
    for event in agent.events:
        _groups(settings, event, where)
    result = copy.deepcopy(settings)
    hooks = result.setdefault("hooks", {})
    entry: dict[str, Any] = {"type": "command", "command": command, "timeout": agent.timeout}
    if agent.name is not None:
        entry = {"name": agent.name, **entry}
    for event in agent.events:
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


def uninstall(settings: Settings, where: str, agent: HookAgent = CLAUDE_CODE) -> Settings:
    """``settings`` without any entry of ours on ``agent``'s events; containers we emptied
    go too.

    Raises:
        ConfigError: as :func:`install`.
    """
    for event in agent.events:
        _groups(settings, event, where)
    result = copy.deepcopy(settings)
    hooks = result.get("hooks")
    if not isinstance(hooks, dict):
        return result
    removed = False
    for event in agent.events:
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
