"""Performance: measured query latency, caches, script times, processes, sync runs, benchmarks, alerts."""

from ui import boot, performance

boot.ensure_app()
performance.render()  # app.py times this script like every page
