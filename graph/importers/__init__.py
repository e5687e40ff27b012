"""Importers: one module per transcript source (Claude Code first).

Deliberately empty: the import worker process runs :mod:`graph.importers.reading` and
must not load the rest (the store, its SQLite driver, asyncio). Import what you need from
its module: ``graph.importers.importer.import_paths``, ``graph.importers.summary``.
"""
