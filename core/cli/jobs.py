"""`python -m core jobs …`: list, show, edit and export jobs with the dashboard's filters.

Bad input is one line on stderr naming what is wrong: exit 2 for invalid input (argparse's own errors
exit 2 as well), 1 for a job id that is not in the catalog; never a traceback.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import sys
import textwrap
from collections.abc import Sequence
from datetime import date
from pathlib import Path
from typing import Any

from core import query, schema
from core.errors import JobdashError, NotFound, QueryError
from core.settings import Settings

NO_SNAPSHOT = "no snapshot yet: run `python -m core sync` (or `python -m core demo`) first"
DEFAULT_LIST_LIMIT = 50
STAR = "★"
# (header, key, max width) of the plain table
TABLE = (
    ("ID", "job_id", 16),
    ("TITLE", "title", 44),
    ("COMPANY", "company", 24),
    ("LOCATION", "location", 22),
    ("SALARY", "_salary", 20),
    ("POSTED", "_posted", 10),
    ("STAGE", "stage", 12),
    (STAR, "_star", 1),
)


# --- argument types --------------------------------------------------------------------------------


def _date(text: str) -> date:
    try:
        return date.fromisoformat(text.strip())
    except ValueError:
        raise argparse.ArgumentTypeError(f"invalid date {text!r} (expected YYYY-MM-DD)") from None


def _follow_up(text: str) -> date | str:
    """A date, or "none"/"" to clear the follow-up."""
    if text.strip().lower() in ("", "none", "clear"):
        return ""
    return _date(text)


def _amount(text: str) -> float:
    try:
        value = float(text.replace(",", "").replace("_", ""))
    except ValueError:
        raise argparse.ArgumentTypeError(f"invalid amount {text!r} (expected a number like 90000)") from None
    if not math.isfinite(value) or value < 0:
        raise argparse.ArgumentTypeError(f"invalid amount {text!r} (expected a number ≥ 0)")
    return value


def _limit(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"invalid limit {text!r} (expected a whole number)") from None
    if not 1 <= value <= query.MAX_LIMIT:
        raise argparse.ArgumentTypeError(f"invalid limit {value} (expected 1..{query.MAX_LIMIT:,})")
    return value


def _sort(text: str) -> query.Sort:
    """COL, COL:desc or COL:asc; the column must be sortable."""
    column, _, direction = text.partition(":")
    column, direction = column.strip(), direction.strip().lower()
    if direction not in ("", "asc", "desc"):
        raise argparse.ArgumentTypeError(f"invalid direction {direction!r} in {text!r} (expected :asc or :desc)")
    # relevance reads best match first unless :asc is asked for
    sort = query.Sort(column, desc=direction == "desc" or (column == query.RELEVANCE and direction != "asc"))
    try:
        query.validate_sort(sort)
    except QueryError as e:
        raise argparse.ArgumentTypeError(f"{e} (sortable: {', '.join(sortable_columns())})") from None
    return sort


def sortable_columns() -> list[str]:
    return [c.name for c in schema.COLUMNS if c.sortable and c.hot] + list(query.USER_SORTABLE) + [query.RELEVANCE]


# --- parser ----------------------------------------------------------------------------------------


def _filter_args() -> argparse.ArgumentParser:
    f = argparse.ArgumentParser(add_help=False)
    g = f.add_argument_group("filters")
    g.add_argument("--q", metavar="TEXT", default="", help="every word in the title or company")
    g.add_argument("--desc", metavar="TEXT", default="", help='description search: words, "phrases", prefix*, -not, OR')
    g.add_argument("--company", metavar="C", nargs="+", action="extend", default=[], help="company is one of these")
    g.add_argument("--source", metavar="S", nargs="+", action="extend", default=[], help="source is one of these")
    g.add_argument(
        "--country", metavar="CC", nargs="+", action="extend", default=[], help="country code is one of these"
    )
    g.add_argument("--location", metavar="TEXT", default="", help="text in the location, city, region or country")
    g.add_argument("--remote", action="store_true", help="remote jobs only")
    g.add_argument("--min-salary", metavar="N", type=_amount, help="annual salary range reaches at least N")
    g.add_argument("--max-salary", metavar="N", type=_amount, help="annual salary range starts at most at N")
    g.add_argument("--since", metavar="DATE", type=_date, help="posted on or after DATE (YYYY-MM-DD)")
    g.add_argument("--new-since", metavar="DATE", type=_date, help="first seen on or after DATE")
    g.add_argument("--stage", metavar="S", nargs="+", action="extend", default=[], choices=schema.STAGES,
                   help=f"stage is one of: {', '.join(schema.STAGES)}")  # fmt: skip
    g.add_argument("--starred", action="store_true", help="starred jobs only")
    g.add_argument("--pipeline", action="store_true", help="only jobs with user data (starred, staged, noted)")
    g.add_argument(
        "--listing",
        choices=query.LISTING,
        default="listed",
        help="listed (default; closed jobs with user data too), delisted or both",
    )
    g.add_argument("--hidden", choices=query.HIDDEN, default="hide", help="hidden jobs: hide (default), show, only")
    g.add_argument("--sort", metavar="COL[:desc]", type=_sort, default=query.DEFAULT_SORT,
                   help="sort column, ascending unless :desc (default posted_at:desc); "
                        "relevance: best match for --desc first")  # fmt: skip
    return f


def _parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="python -m core jobs", description="list, show, edit and export jobs")
    sub = p.add_subparsers(dest="action", required=True, metavar="{list,show,set,export}")
    filters = _filter_args()

    ls = sub.add_parser("list", parents=[filters], help="jobs matching the filters, as a table or JSON")
    ls.add_argument(
        "--limit", type=_limit, default=DEFAULT_LIST_LIMIT, help=f"at most N rows (default {DEFAULT_LIST_LIMIT})"
    )
    ls.add_argument("--json", action="store_true", help="a JSON list of job objects")

    sh = sub.add_parser("show", help="one job with its description and user data")
    sh.add_argument("job_id", metavar="ID")
    sh.add_argument("--json", action="store_true", help="one JSON object")

    st = sub.add_parser("set", help="star, move through stages, note, follow up, hide")
    st.add_argument("job_id", metavar="ID")
    star = st.add_mutually_exclusive_group()
    star.add_argument("--star", dest="starred", action="store_const", const=True)
    star.add_argument("--unstar", dest="starred", action="store_const", const=False)
    st.add_argument("--stage", choices=schema.STAGES, help=f"one of: {', '.join(schema.STAGES)}")
    st.add_argument("--note", metavar="TEXT", help="replace the notes with TEXT")
    st.add_argument("--follow-up", metavar="DATE", type=_follow_up, help="follow-up date (YYYY-MM-DD, or none)")
    hide = st.add_mutually_exclusive_group()
    hide.add_argument("--hide", dest="hidden", action="store_const", const=True)
    hide.add_argument("--unhide", dest="hidden", action="store_const", const=False)
    st.add_argument("--json", action="store_true", help="print the job's user data as JSON")

    ex = sub.add_parser("export", parents=[filters], help="write the filtered jobs to a CSV file")
    ex.add_argument("--csv", metavar="FILE", type=Path, required=True, help="the CSV file to write")
    return p


def to_filter(args: argparse.Namespace) -> query.JobFilter:
    flt = query.JobFilter(
        text=args.q,
        desc=args.desc,
        posted_from=args.since,
        seen_from=args.new_since,
        salary_min=args.min_salary,
        salary_max=args.max_salary,
        workplace=("remote",) if args.remote else (),
        location=args.location,
        countries=tuple(args.country),
        companies=tuple(args.company),
        sources=tuple(args.source),
        listing=args.listing,
        starred=args.starred,
        pipeline=args.pipeline,
        stages=tuple(dict.fromkeys(args.stage)),
        hidden=args.hidden,
    )
    query.validate(flt)
    return flt


# --- output ----------------------------------------------------------------------------------------


def _json_ready(value: Any) -> Any:
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, dict):
        return {k: _json_ready(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_json_ready(v) for v in value]
    return value


def _print_json(obj: Any) -> None:
    print(json.dumps(_json_ready(obj), indent=2, ensure_ascii=False, default=str))


def _money(value: float) -> str:
    return f"{value / 1000:,.0f}k" if value >= 1000 else f"{value:,.0f}"


def salary_label(row: dict[str, Any]) -> str:
    lo, hi = row.get("salary_annual_min"), row.get("salary_annual_max")
    cur = row.get("salary_currency") or ""
    if lo is not None and hi is not None:
        text = _money(lo) if round(lo) == round(hi) else f"{_money(lo)}–{_money(hi)}"
    elif lo is not None:
        text = f"{_money(lo)}+"
    elif hi is not None:
        text = f"up to {_money(hi)}"
    else:
        return str(row.get("salary_text") or "")
    return f"{cur} {text}".strip()


def _cell(value: Any, width: int) -> str:
    text = " ".join(str("" if value is None else value).split())  # one line: no tabs or newlines
    return text if len(text) <= width else text[: width - 1] + "…"


def format_table(rows: list[dict[str, Any]]) -> str:
    cells = []
    for row in rows:
        view = dict(row)
        view["_salary"] = salary_label(row)
        view["_posted"] = str(row.get("posted_at") or "")[:10]
        view["_star"] = STAR if row.get("starred") else ""
        cells.append([_cell(view.get(key), width) for _, key, width in TABLE])
    widths = [max([len(h)] + [len(c[i]) for c in cells]) for i, (h, _, _) in enumerate(TABLE)]
    lines = ["  ".join(h.ljust(w) for (h, _, _), w in zip(TABLE, widths, strict=True)).rstrip()]
    lines += ["  ".join(c.ljust(w) for c, w in zip(cell, widths, strict=True)).rstrip() for cell in cells]
    return "\n".join(lines)


SHOW_FIELDS = (
    ("Company", "company"),
    ("Location", "location"),
    ("Workplace", "workplace_type"),
    ("Type", "employment_type"),
    ("Seniority", "seniority"),
    ("Department", "department"),
    ("Salary", "_salary"),
    ("Source", "source"),
    ("URL", "url"),
    ("Apply", "apply_url"),
    ("Posted", "posted_at"),
    ("First seen", "first_seen_at"),
    ("Last seen", "last_seen_at"),
    ("Delisted", "delisted_at"),
    ("Starred", "_star"),
    ("Stage", "stage"),
    ("Applied", "applied_at"),
    ("Follow up", "follow_up_on"),
    ("Hidden", "_hidden"),
    ("Updated", "updated_at"),
)


def format_job(job: dict[str, Any]) -> str:
    view = dict(job)
    view["_salary"] = salary_label(job)
    view["_star"] = "yes" if job.get("starred") else ""
    view["_hidden"] = "yes" if job.get("hidden") else ""
    lines = [f"{job.get('title') or '(untitled)'}  [{job['job_id']}]"]
    for label, key in SHOW_FIELDS:
        value = view.get(key)
        if value not in (None, ""):
            lines.append(f"  {label + ':':<12}{value}")
    dups = job.get("duplicates") or []
    if dups:
        lines.append(f"  {'Also on:':<12}" + ", ".join(f"{d.get('source')} {d.get('job_id')}" for d in dups))
    if job.get("notes"):
        lines += ["", "Notes:", textwrap.indent(str(job["notes"]), "  ")]
    description = str(job.get("description") or "").strip()
    if description:
        paragraphs = [textwrap.fill(p, 100) for p in description.splitlines() if p.strip()]
        lines += ["", "Description:", textwrap.indent("\n".join(paragraphs), "  ")]
    return "\n".join(lines)


# --- commands --------------------------------------------------------------------------------------


def _catalog(settings: Settings) -> Any:
    from core.catalog import Catalog

    catalog = Catalog(settings, memory_limit=settings.memory_limit)
    if catalog.version is None:
        catalog.close()
        raise QueryError(NO_SNAPSHOT)
    return catalog


def _list(settings: Settings, args: argparse.Namespace) -> int:
    flt = to_filter(args)
    catalog = _catalog(settings)
    try:
        rows = catalog.rows(flt, args.sort, args.limit)
        if args.json:
            _print_json(rows)
            return 0
        total = catalog.count(flt) if len(rows) == args.limit else len(rows)
    finally:
        catalog.close()
    if not rows:
        print("no jobs match" + (_empty_index_hint(settings) if flt.desc.strip() else ""))
        return 0
    print(format_table(rows))
    print(f"\n{len(rows):,} of {total:,} jobs" + (" (use --limit for more)" if total > len(rows) else ""))
    return 0


def _empty_index_hint(settings: Settings) -> str:
    from core.search import DescriptionIndex

    with DescriptionIndex(settings.search_path) as index:
        return " (the description index is empty: run `python -m core sync`)" if index.count() == 0 else ""


def _show(settings: Settings, args: argparse.Namespace) -> int:
    catalog = _catalog(settings)
    try:
        job = catalog.job(args.job_id)
    finally:
        catalog.close()
    if args.json:
        _print_json(job)
    else:
        print(format_job(job))
    return 0


def _set(settings: Settings, args: argparse.Namespace) -> int:
    from core.userdata import UserData

    fields = {
        "starred": args.starred,
        "stage": args.stage,
        "notes": args.note,
        "follow_up_on": args.follow_up,
        "hidden": args.hidden,
    }
    fields = {k: v for k, v in fields.items() if v is not None}
    if not fields:
        raise QueryError("nothing to set: give --star/--unstar, --stage, --note, --follow-up or --hide/--unhide")
    catalog = _catalog(settings)
    try:
        catalog.set_user(args.job_id, **fields)  # NotFound for an id that is not in the catalog
    finally:
        catalog.close()
    users = UserData(settings.db_path)
    try:
        state = users.get(args.job_id) or {}
    finally:
        users.close()
    if args.json:
        _print_json(state)
        return 0
    parts = [
        f"stage {state.get('stage')}",
        "starred" if state.get("starred") else "not starred",
        "hidden" if state.get("hidden") else "",
        f"follow up {state['follow_up_on']}" if state.get("follow_up_on") else "",
        f"notes {len(state.get('notes') or ''):,} chars" if state.get("notes") else "",
    ]
    print(f"{args.job_id}: " + ", ".join(p for p in parts if p))
    return 0


def _export(settings: Settings, args: argparse.Namespace) -> int:
    flt = to_filter(args)
    path: Path = args.csv.expanduser()
    catalog = _catalog(settings)
    try:
        written = catalog.export_csv(flt, args.sort, path)
    except OSError as e:
        raise QueryError(f"export: cannot write {path}: {e.strerror or e}") from e
    finally:
        catalog.close()
    print(f"exported {written:,} jobs to {path}")
    return 0


COMMANDS = {"list": _list, "show": _show, "set": _set, "export": _export}


def run(argv: Sequence[str], settings: Settings) -> int:
    """Parse ``argv`` (after ``jobs``) and run it; returns the exit code."""
    try:
        args = _parser().parse_args(list(argv))
    except SystemExit as e:  # argparse has printed its message (or the help)
        return e.code if isinstance(e.code, int) else 2
    try:
        return COMMANDS[args.action](settings, args)
    except NotFound as e:
        print(f"error: {e}", file=sys.stderr)
        return 1
    except JobdashError as e:
        print(f"error: {e}", file=sys.stderr)
        return 2
    except BrokenPipeError:  # `… | head`: the reader left; say nothing more
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        return 0
    except KeyboardInterrupt:
        return 130
