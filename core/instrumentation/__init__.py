"""Instrumentation, apart from the domain: what the Performance page and `status` measure and judge.

- ``metrics``: query, cache and script timings of this process (ring buffers, percentiles);
- ``monitor``: system samples (psutil), sync runs, source health, snapshot figures → ``Measurements``;
- ``alerts`` and ``recommendations``: pure rules over ``Measurements`` and the configured thresholds;
- ``bench_results``: the benchmark results files the Performance page shows (written by ``benchmarks/``).
"""
