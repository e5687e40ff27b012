"""Registering ``sessiongraph mcp`` with Claude Code, as ``claude mcp add`` does.

With the ``claude`` command on the PATH, it is asked to do it (it knows its own files
best). Without it, the entry goes straight into the file ``claude mcp add`` writes:
``mcpServers`` in ``~/.claude.json`` for the user scope (``$CLAUDE_CONFIG_DIR``
honoured), in the project's ``.mcp.json`` for the project scope, with the same care
as the hooks (backup first, nothing else touched, an unreadable file refused).
"""

from __future__ import annotations

import shlex
import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Final

from graph.claude_settings import global_config_path
from graph.errors import ConfigError
from graph.hooks import SAFE_MODULE
from graph.json_settings import JsonFile

__all__ = ["SERVER_NAME", "Registration", "claude_add_command", "register", "server_entry"]

SERVER_NAME: Final = "sessiongraph"


def server_entry(db: Path, key_file: Path | None = None) -> dict[str, Any]:
    """The ``mcpServers`` entry: this interpreter, so it runs outside the venv too.

    Claude Code starts it in the project's folder: ``-P`` keeps a ``graph`` package of the
    project's from being run instead (see :data:`graph.hooks.SAFE_MODULE`).
    """
    python, *options = SAFE_MODULE
    args = [*options, "graph", "mcp", "--db", str(db)]
    if key_file is not None:
        args += ["--key-file", str(key_file)]
    return {"type": "stdio", "command": python, "args": args, "env": {}}


def claude_add_command(entry: dict[str, Any], scope: str) -> list[str]:
    """The ``claude mcp add`` command line that registers ``entry``."""
    return [
        "claude",
        "mcp",
        "add",
        "--scope",
        scope,
        SERVER_NAME,
        "--",
        entry["command"],
        *entry["args"],
    ]


@dataclass(frozen=True, slots=True)
class Registration:
    """What :func:`register` did, in words for the user."""

    done: str
    changed: bool


def register(
    entry: dict[str, Any], scope: str, project: Path, *, use_cli: bool, dry_run: bool
) -> Registration:
    """Register ``entry`` with Claude Code in ``scope`` (``user`` or ``project``).

    Raises:
        ConfigError: ``claude mcp add`` failed, or the file cannot be read as JSON.
    """
    command = claude_add_command(entry, scope)
    claude = shutil.which("claude") if use_cli else None
    if claude is not None:
        shown = shlex.join(command)
        if dry_run:
            return Registration(f"would run: {shown}", changed=False)
        done = subprocess.run(  # noqa: S603 - the user's own claude, with our arguments
            [claude, *command[1:]], capture_output=True, text=True, check=False, cwd=project
        )
        if done.returncode != 0:
            why = (done.stderr or done.stdout).strip().splitlines()
            raise ConfigError(f"`{shown}` failed: {why[-1] if why else done.returncode}")
        return Registration(f"ran: {shown}", changed=True)
    target = JsonFile(global_config_path() if scope == "user" else project / ".mcp.json")
    before = target.load()
    servers = before.get("mcpServers", {})
    if not isinstance(servers, dict):
        raise ConfigError(f"{target.path}: `mcpServers` is not an object; left untouched")
    if servers.get(SERVER_NAME) == entry:
        return Registration(f"already registered in {target.path}", changed=False)
    after = {**before, "mcpServers": {**servers, SERVER_NAME: entry}}
    if dry_run:
        return Registration(
            f"would change {target.path}:\n{target.diff(before, after)}", changed=False
        )
    backup = target.save(after)
    copy = f" (previous version: {backup})" if backup else ""
    return Registration(
        f"registered `{SERVER_NAME}` in {target.path}{copy}; the same as: {shlex.join(command)}",
        changed=True,
    )
