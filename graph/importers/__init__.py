"""Importers: one module per transcript source (Claude Code first).

``import_paths`` is the entry point the CLI, the watcher and the benchmark share.
"""

from graph.importers.claude_code import Problem
from graph.importers.importer import import_paths
from graph.importers.summary import ImportProgress, ImportSummary

__all__ = ["ImportProgress", "ImportSummary", "Problem", "import_paths"]
