"""The ``sessiongraph`` command line.

Each command module registers its commands on :data:`app`; :func:`main` runs it and
turns every :class:`~graph.errors.SessiongraphError` into one line on stderr and exit 1.
"""

from __future__ import annotations

from graph.cli import browse as _browse  # noqa: F401  (registers commands)
from graph.cli import core as _core  # noqa: F401  (registers commands)
from graph.cli import help as _help
from graph.cli import hooks as _hooks  # noqa: F401  (registers commands)
from graph.cli import keys as _keys  # noqa: F401  (registers commands)
from graph.cli import mcp as _mcp  # noqa: F401  (registers commands)
from graph.cli import ops as _ops  # noqa: F401  (registers commands)
from graph.cli import search as _search  # noqa: F401  (registers commands)
from graph.cli import secrets as _secrets  # noqa: F401  (registers commands)
from graph.cli import serve as _serve  # noqa: F401  (registers commands)
from graph.cli import transcripts as _transcripts  # noqa: F401  (registers commands)
from graph.cli import usage as _usage  # noqa: F401  (registers commands)
from graph.cli.base import app, main

_help.order_commands()

__all__ = ["app", "main"]
