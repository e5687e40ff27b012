"""Benchmarks for sessiongraph: ``python -m bench`` (``make bench``), figures only.

Every figure is set beside its raw baseline measured in the same run, on the same file,
the two timed in alternation: ``import_paths`` beside ``executemany`` of the same rows,
pages through the schema beside hand-written SQL + orjson, search beside bare FTS5, the
HTTP server beside a raw Starlette endpoint, encrypted beside plaintext.

Adding a scenario: write ``bench/scenarios/NAME.py`` with one coroutine function
``async def NAME(run: Run) -> Outcome`` and add it to ``SCENARIOS`` in
``bench/scenarios/__init__.py``; ``--only NAME`` then runs it, the report prints it and
the smoke test (tests/test_bench_smoke.py) runs it at a tiny size. From the
:class:`bench.core.Run` it gets:

- ``run.options``: ``sizes`` (corpus sizes in API messages; most scenarios use
  ``sizes[0]``), ``quick``, ``encrypted``, ``rounds``, ``requests``, ``workdir``;
- ``run.plan`` and :func:`bench.core.interleaved` (``{"api": call, "raw": call}`` ->
  a :class:`bench.core.Timing` each, p50/p95 ms, taken in alternating rounds);
- ``run.database(size, encrypted=None)``: the generated corpus imported by
  ``import_paths`` into a fresh database (made once per run, shared), and with
  ``encrypted=False`` its plaintext twin for raw SQL; ``run.key`` its key (base64);
  :func:`bench.scenarios.query.open_store` opens the store on it.

It returns an :class:`bench.core.Outcome`: ``tables`` (``Table(title, columns, rows)``,
printed as they are) and ``figures``, headline numbers by dotted name
(``usage.day.x_raw``), shown in the summary, written by ``--json`` and checked by the
smoke test: every figure must be positive, and ``*.same``/``*.rows_ok``/``*.received``
must be 1.0 (write 1.0 when your raw baseline answered the same data as sessiongraph).
No thresholds: nothing is asserted about speed.
"""
