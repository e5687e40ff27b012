"""Benchmarks for sessiongraph: ``python -m bench`` (or ``make bench``).

- :mod:`bench.generate` writes deterministic Claude-Code-shaped JSONL corpora.
- :mod:`bench.ingest` imports a corpus (through the importer, or the store's write API)
  and inserts the same rows with plain ``sqlite3`` as the floor of the database cost.
- :mod:`bench.import_worker` runs one of those in a subprocess, for its peak RSS.
- :mod:`bench.queries` times GraphQL requests against raw ``sqlite3`` on the same file.
- :mod:`bench.report` prints the figures as rich tables.

Figures are reported, never asserted: there are no thresholds here.
"""
