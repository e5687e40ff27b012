"""Benchmarks for sessiongraph: ``python -m bench`` (``make bench``), figures only.

Every figure is set beside its raw baseline measured in the same run, on the same file,
the two timed in alternation: ``import_paths`` beside ``executemany`` of the same rows,
pages through the schema beside hand-written SQL + orjson, search beside bare FTS5, the
HTTP server beside a raw Starlette endpoint, encrypted beside plaintext.

A scenario is ``async def NAME(run: Run) -> Outcome`` in ``bench/scenarios/``, listed in
``SCENARIOS`` (``bench/__main__.py``): ``--only NAME`` runs it and the smoke test
(tests/test_bench_smoke.py) runs it at a tiny size. :class:`bench.core.Run` gives it the
options, the corpora and their imports (made once per run and shared; ``encrypted=False``
gives the plaintext twin for raw SQL) and ``run.plan`` for :func:`bench.core.interleaved`.
Its :class:`bench.report.Outcome` holds tables, printed as they are, and figures by dotted
name (``query.usage.x_raw``), summed up, written by ``--json`` and checked by the smoke
test: each positive, ``*.same``/``*.rows_ok``/``*.received`` 1.0 (write 1.0 when your
baseline answered the same data). Nothing is asserted about speed.
"""
