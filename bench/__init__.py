"""Benchmarks for sessiongraph: ``python -m bench`` (``make bench``), figures only.

Every figure is set beside its raw baseline measured in the same run, on the same file,
the two timed in alternation: ``import_paths`` beside ``executemany`` of the same rows,
pages through the schema beside hand-written SQL + orjson, search beside bare FTS5, the
HTTP server beside a raw Starlette endpoint, encrypted beside plaintext.

Adding a scenario: write ``async def NAME(run: Run) -> Outcome`` in ``bench/scenarios/``
and add it to ``SCENARIOS`` in ``bench/__main__.py``; ``--only NAME`` then runs it, the
report prints it and the smoke test (tests/test_bench_smoke.py) runs it at a tiny size.
:class:`bench.core.Run` gives it the options (``run.options.sizes``, most scenarios use
the first), ``run.plan`` for :func:`bench.core.interleaved` (two calls timed in
alternating rounds: p50/p95 each and their ratio), the generated corpora
(``run.corpus``) and their imports (``await run.fill``/``run.database``, made once per
run and shared; ``encrypted=False`` gives the plaintext twin for raw SQL). It returns a
:class:`bench.report.Outcome`: tables, printed as they are, and figures by dotted name
(``usage.day.x_raw``), shown in the summary, written by ``--json`` and checked by the
smoke test: each must be positive, and ``*.same``/``*.rows_ok``/``*.received`` 1.0
(write 1.0 when your baseline answered the same data). Nothing is asserted about speed.
"""
