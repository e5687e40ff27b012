"""Benchmarks for sessiongraph: ``python -m bench`` (``make bench``), each figure beside its
raw baseline measured in the same run on the same file. A scenario is ``async def NAME(run:
Run) -> Outcome`` listed in ``bench.__main__.SCENARIOS``; the smoke test runs each at a tiny
size and checks its figures (positive; ``*.same``, ``*.rows_ok``, ``*.received`` 1.0)."""
