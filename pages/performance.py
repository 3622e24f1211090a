"""Performance: measured query latency, caches, script times, processes, sync runs, benchmarks, alerts."""

import time

from core import metrics
from ui import performance

started = time.perf_counter()
try:
    performance.render()
finally:
    metrics.record_script(performance.PAGE_NAME, (time.perf_counter() - started) * 1000)
