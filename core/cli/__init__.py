"""`python -m core …`: the headless command line. Errors are one line on stderr, never a traceback."""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Sequence
from typing import Any

from core.errors import JobdashError, SyncBusy
from core.settings import Settings, load_settings
from core.sources import demo_source


def _parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="python -m core", description="jobdash headless commands")
    sub = p.add_subparsers(dest="command", required=True)

    s = sub.add_parser("sync", help="fetch every enabled source and publish a new snapshot")
    s.add_argument("--source", metavar="NAME", help="sync only this source")
    s.add_argument("--json", action="store_true", help="print the run as one JSON object")
    s.add_argument("--request", action="store_true", help="ask the running scheduler to sync now instead")
    s.add_argument("--trigger", default="cli", help=argparse.SUPPRESS)

    st = sub.add_parser("status", help="current snapshot, last run's counts, recent runs")
    st.add_argument("--json", action="store_true")
    st.add_argument("--runs", type=int, default=5, help="how many recent runs to list")

    d = sub.add_parser("demo", help="build a demo catalog of N jobs")
    d.add_argument("--jobs", type=int, default=5000, help="number of demo jobs (1..1,000,000)")
    d.add_argument("--json", action="store_true")

    so = sub.add_parser("sources", help="configured sources and their last status; add, enable, disable, remove")
    so.add_argument("--json", action="store_true")
    sosub = so.add_subparsers(dest="sources_command", metavar="{add,enable,disable,remove}")
    add = sosub.add_parser("add", help="detect the ATS board of a careers URL, test-fetch it, add it to jobdash.toml")
    add.add_argument("url", help="a careers page or job URL (boards.greenhouse.io/acme, a company page, …)")
    add.add_argument("--name", help="the source's name (default: derived from the board token)")
    add.add_argument("--no-test", action="store_true", help="add without fetching the board once first")
    add.add_argument("--base-url", help="the board API's base URL (written to the source; a proxy or a test server)")
    add.add_argument("--json", action="store_true")
    for verb in ("enable", "disable", "remove"):
        v = sosub.add_parser(verb, help=f"{verb} a source of jobdash.toml by name (comments are kept)")
        v.add_argument("name")

    doc = sub.add_parser("doctor", help="check snapshots, segments, pointer, SQLite files and the index; --repair")
    doc.add_argument("--repair", action="store_true", help="restore what can be restored (never touches user data)")
    doc.add_argument("--json", action="store_true")

    ud = sub.add_parser("userdata", help="export or import your stars, stages, history, notes, views, watches")
    udsub = ud.add_subparsers(dest="userdata_command", required=True, metavar="{export,import}")
    ex = udsub.add_parser("export", help="write every user table to a versioned JSON file")
    ex.add_argument("path", nargs="?", help="the file (default: data/backups/userdata-<time>.json)")
    ex.add_argument("--json", action="store_true")
    im = udsub.add_parser("import", help="merge a JSON export: newer edits win, history is deduplicated")
    im.add_argument("path")
    im.add_argument("--json", action="store_true")

    sub.add_parser("jobs", help="list, show, edit and export jobs (see `jobs --help`)", add_help=False)
    sub.add_parser("bench", help="run the benchmarks (see `bench --help`)", add_help=False)
    sub.add_parser("watch", help="watch saved views: list, add, pause, resume, test, matches", add_help=False)
    sub.add_parser("run", help="start the dashboard and the scheduled sync together (see `run --help`)", add_help=False)
    return p


def main(argv: Sequence[str] | None = None) -> int:
    """Every command, with the errors caught at the top: a JobdashError (StorageError included), a disk that is
    full or read-only (OSError) or anything unexpected is one line on stderr and exit 2, never a traceback; a
    closed pipe (``status --json | head``) ends quietly."""
    try:
        return _main(argv)
    except BrokenPipeError:
        _quiet_stdout()
        return 0
    except KeyboardInterrupt:
        return 130
    except SyncBusy as e:
        print(f"error: {e}", file=sys.stderr)
        return 3
    except JobdashError as e:
        print(f"error: {e}", file=sys.stderr)
        return 2
    except OSError as e:
        where = f" ({e.filename})" if e.filename else ""
        print(
            f"error: {e.strerror or e}{where}: check free disk space and that this user may write the data folder",
            file=sys.stderr,
        )
        return 2
    except Exception as e:  # a bug or a damaged file nothing translated: still one line, and where to look
        print(f"error: {type(e).__name__}: {e} (run `python -m core doctor` to check the data folder)", file=sys.stderr)
        return 2


def _quiet_stdout() -> None:
    """After a closed pipe, point stdout at /dev/null so the interpreter's final flush cannot fail again."""
    import os

    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
    except (OSError, ValueError):
        pass


def _main(argv: Sequence[str] | None = None) -> int:
    args_list = list(sys.argv[1:] if argv is None else argv)
    parser = _parser()
    if args_list and args_list[0] in ("jobs", "bench", "watch", "run"):
        return _delegate(args_list[0], args_list[1:])
    args = parser.parse_args(args_list)
    try:
        if args.command == "sources" and args.sources_command:
            return _sources_edit(args)  # works before a jobdash.toml exists: `add` creates it
        settings = load_settings()
        handler = {
            "sync": _sync,
            "status": _status,
            "demo": _demo,
            "sources": _sources,
            "doctor": _doctor,
            "userdata": _userdata,
        }[args.command]
        return handler(settings, args)
    except SyncBusy as e:
        print(f"error: {e}", file=sys.stderr)
        return 3
    except JobdashError as e:
        print(f"error: {e}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        return 130


def _delegate(command: str, rest: list[str]) -> int:
    if command == "bench":
        return _bench(rest)
    try:
        if command == "watch":
            from core.cli import watch

            return int(watch.run(rest, load_settings()))
        if command == "run":
            from core.cli import run

            return run.main(load_settings(), rest)
        from core.cli import jobs

        return int(jobs.run(rest, load_settings()))
    except JobdashError as e:
        print(f"error: {e}", file=sys.stderr)
        return 2


def _bench(rest: list[str]) -> int:
    """The benchmarks live outside core (``benchmarks/harness.py``): run them as a child process with the same
    arguments, environment and interpreter, from the repository root, and pass its exit code through."""
    import subprocess

    from core.settings import ROOT

    try:
        return subprocess.run([sys.executable, "-m", "benchmarks.harness", *rest], cwd=ROOT, check=False).returncode
    except KeyboardInterrupt:
        return 130


def _doctor(settings: Settings, args: argparse.Namespace) -> int:
    from core import doctor

    report = doctor.repair(settings) if args.repair else doctor.check(settings)
    if args.json:
        _print_json(report.as_dict())
    else:
        print(doctor.render(report))
    return report.exit_code()


def _userdata(settings: Settings, args: argparse.Namespace) -> int:
    from datetime import UTC, datetime
    from pathlib import Path

    from core import backup

    if args.userdata_command == "export":
        stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%S%fZ")
        path = Path(args.path) if args.path else backup.backups_dir(settings.data_dir) / f"userdata-{stamp}.json"
        counts = backup.export(settings.db_path, path)
        if args.json:
            _print_json({"path": str(path), "rows": counts})
        else:
            print(f"exported to {path}: " + ", ".join(f"{k} {v:,}" for k, v in counts.items()))
        return 0
    merged = backup.import_file(settings.db_path, Path(args.path))
    if args.json:
        _print_json({name: vars(m) | {"skipped_tables": list(m.skipped_tables)} for name, m in merged.items()})
    else:
        for name, m in merged.items():
            if m.skipped_tables:
                print(f"{name}: not in this data folder, skipped")
            else:
                print(
                    f"{name}: {m.inserted:,} added, {m.updated:,} updated (newer), {m.kept_local:,} kept (local as new)"
                )
    return 0


def _print_json(obj: Any) -> None:
    print(json.dumps(obj, indent=2, default=str))


def _report(result: Any, as_json: bool) -> int:
    if as_json:
        _print_json(result.as_dict())
    else:
        c = result.counts
        print(f"run #{result.run_id}: {result.status}" + (f" — {result.error}" if result.error else ""))
        if result.version is not None:
            print(f"snapshot v{result.version}{' (demo data)' if result.demo else ''}")
        print("  " + "  ".join(f"{k} {c.get(k, 0):,}" for k in c) + f"  rejected {result.rejected:,}")
        for s in result.sources:
            print(
                f"  source {s.name} [{s.kind}]: {s.status}, {s.fetched:,} fetched"
                + (f" — {s.error}" if s.error else "")
            )
        for reason, n in sorted(result.reject_reasons.items(), key=lambda kv: -kv[1]):
            print(f"  rejected {n:,}: {reason}")
        for w in result.warnings:
            print(f"  warning: {w}")
        print(
            f"  {result.jobs_per_s:,.0f} jobs/s, peak RSS {result.peak_rss_mb:,.0f} MB, phases "
            + ", ".join(f"{k} {v:.2f}s" for k, v in result.phases.items())
        )
    if result.status in ("ok", "partial") and result.error:
        return 1  # published, but the index (or another after-publish step) failed: not "ok"
    return 0 if result.status in ("ok", "partial") else 1


def _sync(settings: Settings, args: argparse.Namespace) -> int:
    from core.sync import run_sync

    if args.source:
        settings.source(args.source)  # a clear error for an unknown name, before anything runs
    if args.request:
        from core import control

        rid = control.request_sync(settings, "cli", args.source)
        hb = control.scheduler(settings)
        if hb is None:
            print(f"request #{rid} queued; the scheduler is not running, so it waits until it starts (`make run`)")
        else:
            print(f"request #{rid} sent; the scheduler (pid {hb.pid}) picks it up within a second")
        return 0
    result = run_sync(settings, trigger=args.trigger, only=args.source)
    from core import watches

    watches.wait_for_delivery()  # digests go out in the background; this process is about to exit
    return _report(result, args.json)


def _demo(settings: Settings, args: argparse.Namespace) -> int:
    from core.sync import run_sync

    if not 1 <= args.jobs <= 1_000_000:
        raise JobdashError(f"--jobs: expected 1..1,000,000, got {args.jobs}")
    from core.sources import build

    # Passed as built sources: a demo build never delists the jobs of the sources in jobdash.toml.
    result = run_sync(settings, trigger="demo", sources=[build(demo_source(args.jobs))])
    return _report(result, args.json)


def status_dict(settings: Settings, runs: int = 5) -> dict[str, Any]:
    from dataclasses import asdict

    from core import snapshots
    from core.instrumentation.alerts import alerts_for_status
    from core.runs import RunLog

    snap = snapshots.current(settings.snapshots_dir)
    log = RunLog(settings.db_path)
    try:
        recent = log.recent(runs)
        last_done = next((r for r in recent if r["status"] in ("ok", "partial")), None)
    finally:
        log.close()
    return {
        "data_dir": str(settings.data_dir),
        "config": str(settings.config_path) if settings.config_path else None,
        "snapshot": None
        if snap is None
        else {
            "version": snap.version,
            "rows": snap.rows,
            "created_at": snap.created_at,
            "demo": snap.demo,
            "fallback": snap.fallback,
        },
        "demo": bool(snap and snap.demo),
        "scheduler": _scheduler_dict(settings),
        "last_counts": last_done["counts"] if last_done else None,
        "alerts": [asdict(a) for a in alerts_for_status(settings)],
        "runs": [
            {
                k: r[k]
                for k in (
                    "id",
                    "trigger",
                    "status",
                    "started_at",
                    "finished_at",
                    "snapshot_version",
                    "counts",
                    "rejected",
                    "jobs_per_s",
                    "peak_rss_mb",
                    "error",
                )
            }
            for r in recent
        ],
    }


def _scheduler_dict(settings: Settings) -> dict[str, Any]:
    from core import control
    from core.clock import iso

    hb = control.scheduler(settings)
    restart = control.last_restart(settings)
    return {
        "alive": hb is not None,
        "pid": hb.pid if hb else None,
        "last_beat": iso(hb.beat_at) if hb else None,
        "next_run": iso(hb.next_run) if hb and hb.next_run else None,
        "last_restart": None
        if restart is None
        else {
            "at": iso(restart.at),
            "pid": restart.pid,
            "dead_pid": restart.dead_pid,
            "last_beat": iso(restart.last_beat),
        },
    }


def _status(settings: Settings, args: argparse.Namespace) -> int:
    doc = status_dict(settings, args.runs)
    if args.json:
        _print_json(doc)
        return 0
    snap = doc["snapshot"]
    if snap is None:
        print("no snapshot yet — run `python -m core sync`")
    else:
        label = " — demo data: add sources in jobdash.toml" if snap["demo"] else ""
        print(f"snapshot v{snap['version']}: {snap['rows']:,} jobs, published {snap['created_at']}{label}")
        if snap["fallback"]:
            print(f"warning: {snap['fallback']} (`python -m core doctor --repair` repoints CURRENT)")
    sched = doc["scheduler"]
    print(
        f"scheduler: alive (pid {sched['pid']}), next run {sched['next_run'] or 'not scheduled'}"
        if sched["alive"]
        else "scheduler: not running (`make run` starts it with the dashboard)"
    )
    if doc["last_counts"]:
        print("last run: " + ", ".join(f"{k} {v:,}" for k, v in doc["last_counts"].items()))
    for a in doc["alerts"]:
        print(f"alert: {a['message']}")
    for r in doc["runs"]:
        print(
            f"  #{r['id']} {r['started_at']} {r['trigger']:<10} {r['status']:<8}"
            + (f" v{r['snapshot_version']}" if r["snapshot_version"] else "")
            + (f" — {r['error']}" if r["error"] else "")
        )
    return 0


def _sources(settings: Settings, args: argparse.Namespace) -> int:
    from core.runs import RunLog

    log = RunLog(settings.db_path)
    try:
        health = {h["source"]: h for h in log.source_health()}
    finally:
        log.close()
    rows = [
        {
            "name": s.name,
            "kind": s.kind,
            "enabled": s.enabled,
            "schedule_minutes": s.schedule_minutes,
            "last_status": health.get(s.name, {}).get("status"),
            "last_error": health.get(s.name, {}).get("last_error"),
            "fetched": health.get(s.name, {}).get("fetched"),
            "failures_in_a_row": health.get(s.name, {}).get("failures_in_a_row", 0),
        }
        for s in settings.sources
    ]
    if args.json:
        _print_json(rows)
        return 0
    for r in rows:
        print(
            f"{r['name']:<24} {r['kind']:<10} {'on ' if r['enabled'] else 'off'} "
            f"{r['last_status'] or 'never run':<9} {r['fetched'] or 0:>7,}"
            + (f"  {r['last_error']}" if r["last_error"] else "")
        )
    return 0


def _sources_edit(args: argparse.Namespace) -> int:
    from core import config_edit

    path = config_edit.config_path()
    if args.sources_command in ("enable", "disable"):
        changed = config_edit.set_enabled(args.name, args.sources_command == "enable", path=path)
        state = "enabled" if args.sources_command == "enable" else "disabled"
        print(f"source {args.name!r} {state} in {path}" if changed else f"source {args.name!r} was already {state}")
        return 0
    if args.sources_command == "remove":
        config_edit.remove_source(args.name, path=path)
        print(
            f"source {args.name!r} removed from {path} (its jobs stay in the catalog until the next sync delists them)"
        )
        return 0
    checked = config_edit.check_url(args.url, name=args.name, test=not args.no_test, base_url=args.base_url, path=path)
    found = checked.found
    if not args.json:
        print(f"detected: {found.describe()}")
        for other in found.alternatives:
            print(f"  the page also mentions {other}")
        if checked.fetch is not None:
            note = f" (partial: {checked.fetch.partial})" if checked.fetch.partial else ""
            print(f"test fetch: {checked.fetch.jobs:,} jobs listed in {checked.fetch.seconds:.1f} s{note}")
    name = config_edit.add_checked(checked, path=path)
    if args.json:
        _print_json(
            {
                "name": name,
                "kind": found.kind,
                "options": dict(checked.options),
                "detected_from": found.url,
                "found_in_page": found.found_in_page,
                "alternatives": list(found.alternatives),
                "jobs": checked.fetch.jobs if checked.fetch else None,
                "fetch_seconds": round(checked.fetch.seconds, 3) if checked.fetch else None,
                "config": str(path),
            }
        )
    else:
        print(f"added source {name!r} to {path}; it syncs on the next run (`python -m core sync --source {name}`)")
    return 0
