"""Benchmarks for sessiongraph: ``python -m bench`` (``make bench``), figures only.

Each figure is set beside its raw baseline, measured in the same run on the same file, the
two timed in alternation. A scenario is ``async def NAME(run: Run) -> Outcome`` in
``bench/scenarios/``, listed in ``bench.__main__.SCENARIOS`` and run by the smoke test at a
tiny size; the smoke test checks its figures (each positive; ``*.same``, ``*.rows_ok`` and
``*.received`` 1.0: write 1.0 when the baseline answered the same data).
"""
