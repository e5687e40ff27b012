"""Importers: one module per transcript source (Claude Code first).

``import_paths`` is the entry point the CLI, the watcher and the benchmark share. The
names are loaded on first use (PEP 562), as in :mod:`graph.store`: the import worker
process runs :mod:`graph.importers.reading` and needs none of the rest.
"""

from __future__ import annotations

from importlib import import_module
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from graph.importers.claude_code import Problem
    from graph.importers.importer import import_paths
    from graph.importers.summary import ImportProgress, ImportSummary

_MODULES: dict[str, str] = {
    "ImportProgress": "graph.importers.summary",
    "ImportSummary": "graph.importers.summary",
    "Problem": "graph.importers.claude_code",
    "import_paths": "graph.importers.importer",
}


def __getattr__(name: str) -> Any:
    module = _MODULES.get(name)
    if module is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(import_module(module), name)
    globals()[name] = value  # once loaded, a plain attribute
    return value


def __dir__() -> list[str]:
    return sorted({*globals(), *_MODULES})


__all__ = ["ImportProgress", "ImportSummary", "Problem", "import_paths"]
