"""`python -m core watch …`: list, add, pause, resume, test and show the matches of watches."""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Sequence
from typing import Any

from core import watches
from core.errors import JobdashError
from core.settings import Settings


def _parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="python -m core watch", description="watch saved views for new matching jobs")
    sub = p.add_subparsers(dest="action", required=True)
    ls = sub.add_parser("list", help="every watch with its unseen count and destinations (credentials hidden)")
    ls.add_argument("--json", action="store_true")
    add = sub.add_parser("add", help="watch a saved view (or change the settings of a watched one)")
    add.add_argument("view", help="the saved view's name")
    add.add_argument("--to", action="append", default=[], metavar="URL", help="an apprise URL; repeat for more")
    add.add_argument("--include-relisted", action="store_true", help="also report jobs that come back")
    add.add_argument("--quiet-hours", metavar="HH:MM-HH:MM", help="hold digests back during these local hours")
    add.add_argument("--min-matches", type=int, default=1, help="send once this many matches gathered")
    add.add_argument("--paused", action="store_true")
    add.add_argument("--json", action="store_true")
    for verb in ("pause", "resume", "remove"):
        v = sub.add_parser(verb, help=f"{verb} a watch (by view name or id)")
        v.add_argument("watch")
    t = sub.add_parser("test", help="send a sample digest to the watch's destinations (or --to URL)")
    t.add_argument("watch")
    t.add_argument("--to", metavar="URL", help="send to this apprise URL instead")
    t.add_argument("--json", action="store_true")
    m = sub.add_parser("matches", help="the jobs a watch reported, newest first")
    m.add_argument("watch")
    m.add_argument("--unseen", action="store_true", help="only the ones not marked seen")
    m.add_argument("--limit", type=int, default=100)
    m.add_argument("--mark-seen", action="store_true", help="then mark them all seen")
    m.add_argument("--json", action="store_true")
    return p


def _print_json(obj: Any) -> None:
    print(json.dumps(obj, indent=2, default=str))


def run(argv: Sequence[str], settings: Settings) -> int:
    args = _parser().parse_args(list(argv))
    store = watches.WatchStore(settings.db_path)
    try:
        store.apply_config(settings.watches)
        if args.action == "list":
            counts = store.unseen_counts()
            items = [{**w.as_dict(), "unseen": counts.get(w.id, 0)} for w in store.all()]
            if args.json:
                _print_json(items)
            elif not items:
                print("no watches (watch a saved view with `python -m core watch add VIEW`)")
            for it in [] if args.json else items:
                flags = [f for f, on in (("paused", it["paused"]), ("relisted", it["include_relisted"])) if on]
                print(
                    f"#{it['id']} {it['view']} · {it['unseen']:,} new"
                    + (f" [{', '.join(flags)}]" if flags else "")
                    + (f" → {', '.join(it['destinations'])}" if it["destinations"] else " (dashboard only)")
                )
            return 0
        if args.action == "add":
            w = store.add(
                args.view,
                destinations=args.to,
                include_relisted=args.include_relisted,
                quiet_hours=args.quiet_hours,
                min_matches=args.min_matches,
                paused=args.paused,
            )
            if args.json:
                _print_json(w.as_dict())
            else:
                print(
                    f"watching #{w.id} {w.view!r}"
                    + (f" → {len(w.destinations)} destination(s)" if w.destinations else "")
                )
            return 0
        if args.action in ("pause", "resume"):
            w = store.set_paused(args.watch, args.action == "pause")
            print(f"#{w.id} {w.view!r} {'paused' if w.paused else 'resumed'}")
            return 0
        if args.action == "remove":
            store.remove(args.watch)
            print(f"removed watch {args.watch!r}")
            return 0
        if args.action == "test":
            sent = watches.send_test(settings, args.watch, args.to)
            if args.json:
                _print_json([d.__dict__ for d in sent])
            for d in [] if args.json else sent:
                print(f"{d.destination}: {d.status}" + (f" — {d.reason}" if d.reason else ""))
            return 0 if all(d.status == "sent" for d in sent) else 1
        rows = store.matches(args.watch, unseen=args.unseen, limit=args.limit)
        if args.json:
            _print_json(rows)
        else:
            for r in rows:
                print(f"{r['at']}  {r['job_id']}  {r['outcome']}" + ("" if r["seen_at"] else "  (unseen)"))
            if not rows:
                print("no matches" + (" unseen" if args.unseen else ""))
        if args.mark_seen:
            n = store.mark_seen(args.watch)
            print(f"marked {n:,} seen", file=sys.stderr)
        return 0
    except JobdashError as e:
        print(f"error: {e}", file=sys.stderr)
        return 2
    finally:
        store.close()
