"""Commands that tie sessiongraph to the agents' hooks (Claude Code, Gemini CLI): hooks
install|uninstall|status, hook."""

from __future__ import annotations

import shlex
import sys
from collections import deque
from enum import StrEnum
from pathlib import Path
from typing import Annotated

import typer

from graph import claude_settings, gemini_settings
from graph.cli.base import (
    DbOption,
    KeyFileOption,
    PassphraseFileOption,
    app,
    checked,
    resolve_db_path,
)
from graph.errors import ConfigError
from graph.hook_run import DEFAULT_BUDGET_S, hook_log_path, run_hook
from graph.hooks import (
    AGENTS,
    HookAgent,
    hook_command,
    imports_from_cwd,
    install,
    installed,
    uninstall,
)
from graph.json_settings import JsonFile

__all__ = ["Agent", "Scope", "settings_file"]

hooks_app = typer.Typer(
    help="Import each session as it ends, compacts or finishes a turn (Claude Code and "
    "Gemini CLI hooks).",
    no_args_is_help=True,
)
app.add_typer(hooks_app, name="hooks", rich_help_panel="Importing")


class Scope(StrEnum):
    user = "user"
    project = "project"


class Agent(StrEnum):
    claude_code = "claude-code"
    gemini_cli = "gemini-cli"


ScopeOption = Annotated[
    Scope,
    typer.Option(
        "--scope",
        help="user: ~/.claude/settings.json ($CLAUDE_CONFIG_DIR honoured), or "
        "~/.gemini/settings.json ($GEMINI_CLI_HOME honoured); project: .claude/settings.json "
        "or .gemini/settings.json of --project.",
    ),
]
AgentOption = Annotated[
    Agent, typer.Option("--agent", help="Whose settings: Claude Code's or Gemini CLI's.")
]
ProjectOption = Annotated[
    Path,
    typer.Option("--project", help="The project directory for --scope project.", file_okay=False),
]
DryRunOption = Annotated[
    bool, typer.Option("--dry-run", help="Show the change to the settings file; write nothing.")
]


def settings_file(scope: Scope, project: Path, agent: Agent = Agent.claude_code) -> JsonFile:
    """``agent``'s settings file of ``scope``."""
    files = claude_settings if agent is Agent.claude_code else gemini_settings
    if scope is Scope.user:
        return JsonFile(files.user_settings_path())
    return JsonFile(files.project_settings_path(project.expanduser().absolute()))


@hooks_app.command("install")
def install_command(
    scope: ScopeOption = Scope.user,
    project: ProjectOption = Path(),
    dry_run: DryRunOption = False,
    db: DbOption = None,
    key_file: KeyFileOption = None,
    agent: AgentOption = Agent.claude_code,
) -> None:
    """Add sessiongraph's hook to the agent's settings: Claude Code's SessionEnd,
    PreCompact and Stop, or Gemini CLI's SessionEnd, PreCompress and AfterAgent.

    Only sessiongraph's own entries are added or replaced; the file is copied aside
    before it changes, and running it again changes nothing.
    """
    hooks = AGENTS[agent.value]
    target = settings_file(scope, project, agent)
    database = resolve_db_path(db).absolute()
    command = hook_command(database, key_file.expanduser().absolute() if key_file else None)
    before = checked(target.load)
    after = checked(lambda: install(before, command, str(target.path), hooks))
    _apply(target, before, after, dry_run=dry_run, done="installed", agent=hooks)
    typer.echo(f"  events:  {', '.join(hooks.events)}")
    typer.echo(f"  command: {command}")
    typer.echo(f"  log:     {hook_log_path()}")


@hooks_app.command("uninstall")
def uninstall_command(
    scope: ScopeOption = Scope.user,
    project: ProjectOption = Path(),
    dry_run: DryRunOption = False,
    agent: AgentOption = Agent.claude_code,
) -> None:
    """Remove sessiongraph's hook entries (and only them) from the agent's settings."""
    hooks = AGENTS[agent.value]
    target = settings_file(scope, project, agent)
    before = checked(target.load)
    after = checked(lambda: uninstall(before, str(target.path), hooks))
    _apply(target, before, after, dry_run=dry_run, done="uninstalled", agent=hooks)


def _apply(
    target: JsonFile,
    before: dict[str, object],
    after: dict[str, object],
    *,
    dry_run: bool,
    done: str,
    agent: HookAgent,
) -> None:
    if after == before:
        typer.echo(f"{target.path}: already {done}, nothing changed")
        return
    if dry_run:
        typer.echo(f"would change {target.path}:")
        typer.echo(target.diff(before, after), nl=False)
        return
    backup = checked(lambda: target.save(after))
    copy = f" (previous version: {backup})" if backup else ""
    typer.echo(f"{done} sessiongraph's {agent.label} hooks in {target.path}{copy}")


@hooks_app.command("status")
def status_command(project: ProjectOption = Path()) -> None:
    """Where sessiongraph's hooks are installed (each agent, each scope), and what the
    last runs logged."""
    for agent in Agent:
        for scope in Scope:
            _status(AGENTS[agent.value], scope, settings_file(scope, project, agent))
    log_path = hook_log_path()
    if not log_path.exists():
        typer.echo(f"log: {log_path} (no run yet)")
        return
    typer.echo(f"log: {log_path}, last runs:")
    with log_path.open(encoding="utf-8", errors="replace") as handle:
        for line in deque(handle, maxlen=5):
            typer.echo(f"  {line.rstrip()}")


def _status(agent: HookAgent, scope: Scope, target: JsonFile) -> None:
    where = f"{agent.source} {scope.value}"
    try:
        found = installed(target.load())
    except ConfigError as exc:  # shown, not fatal: the other files may be fine
        typer.echo(f"{where}: {exc}")
        return
    if not found:
        typer.echo(f"{where}: not installed ({target.path})")
        return
    missing = [event for event in agent.events if event not in found]
    note = f" (missing: {', '.join(missing)})" if missing else ""
    typer.echo(f"{where}: installed in {target.path} for {', '.join(found)}{note}")
    for command in sorted({c for commands in found.values() for c in commands}):
        program = shlex.split(command)[0]
        ok = "" if Path(program).exists() else "  (not found: reinstall the hooks)"
        if not ok and imports_from_cwd(command):
            ok = "  (older form, may run a project's own `graph`: reinstall the hooks)"
        typer.echo(f"  command: {command}{ok}")


@app.command("hook", rich_help_panel="Importing")
def hook_command_line(
    db: DbOption = None,
    key_file: KeyFileOption = None,
    passphrase_file: PassphraseFileOption = None,
    budget: Annotated[
        float, typer.Option("--budget", help="Give up after this many seconds.", min=0.1)
    ] = DEFAULT_BUDGET_S,
) -> None:
    """What the installed hooks run: import the transcript of the event on stdin.

    Reads the hook input of Claude Code or Gemini CLI (session_id, transcript_path, ...)
    from stdin and imports that transcript and its subagents' files.
    Prints nothing and always exits 0; what happened goes to the hook log (see `hooks
    status`).
    """
    code = run_hook(
        db=db,
        key_file=key_file,
        passphrase_file=passphrase_file,
        budget=budget,
        stdin_fd=sys.stdin.fileno(),
    )
    raise typer.Exit(code)
