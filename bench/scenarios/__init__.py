"""The scenario table: ``python -m bench --only NAME`` runs ``SCENARIOS[NAME]``.

Order matters: ``import`` first, so that its figures come from the first, cold import
of each corpus (the others reuse the databases it left).
"""

from __future__ import annotations

from typing import Final

from bench.core import Scenario
from bench.scenarios.imports import codex, imports
from bench.scenarios.live import live
from bench.scenarios.query import encryption, query, search
from bench.scenarios.serve import serve

SCENARIOS: Final[dict[str, Scenario]] = {
    "import": imports,
    "query": query,
    "search": search,
    "serve": serve,
    "encryption": encryption,
    "live": live,
    "codex": codex,
}
