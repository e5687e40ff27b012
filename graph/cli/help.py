"""``sessiongraph --help`` in a useful order.

Each command names its help panel (``rich_help_panel``); :func:`order_commands` puts
the panels in the order a new user needs them and the commands in each panel likewise.
Commands it does not know keep their registration order, after those it does; typer
lists command groups (``hooks``, ``mcp``, ``secrets``) after the commands of their panel.
"""

from __future__ import annotations

from typing import Final

import typer

from graph.cli.base import app

__all__ = ["COMMAND_ORDER", "PANEL_ORDER", "order_commands"]

PANEL_ORDER: Final = ("Serving", "Importing", "Reading", "Keys", "Maintenance")
COMMAND_ORDER: Final = (
    "serve",
    "token",
    "mcp",
    "import",
    "demo",
    "hook",
    "hooks",
    "sessions",
    "show",
    "search",
    "export",
    "stats",
    "usage",
    "keygen",
    "encrypt",
    "rotate-key",
    "secrets",
    "doctor",
    "backup",
    "restore",
    "migrate",
    "export-schema",
)


def order_commands() -> None:
    """Sort the registered commands by panel, then by :data:`COMMAND_ORDER`."""
    known = {name: index for index, name in enumerate(COMMAND_ORDER)}
    panels = {name: index for index, name in enumerate(PANEL_ORDER)}

    def key(item: tuple[int, typer.models.CommandInfo]) -> tuple[int, int, int]:
        position, info = item
        name = info.name or (info.callback.__name__ if info.callback else "")
        panel = panels.get(str(info.rich_help_panel), len(panels))
        return panel, known.get(name.replace("_", "-"), len(known)), position

    app.registered_commands[:] = [
        info for _, info in sorted(enumerate(app.registered_commands), key=key)
    ]
