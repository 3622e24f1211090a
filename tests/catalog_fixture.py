"""A realistic, deterministic catalog in a temp data dir: a published snapshot and some user data.

``build(data_dir, rows)`` writes ``jobs-<v>.parquet`` (+ ``desc-<v>.parquet``), publishes CURRENT and
stores user data through ``UserData``. Vectorized with numpy so a 1M-row snapshot takes seconds (used by
the catalog benchmark too). Texts include the characters an escaping bug would trip on (%, _, quotes).
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq

from core import schema, snapshots
from core.catalog import Catalog, Page
from core.query import DEFAULT_SORT, JobFilter, Sort
from core.settings import Settings
from core.userdata import UserData

BASE = datetime(2025, 6, 1)
SOURCES = ("greenhouse", "lever", "ashby", "remoteok", "linkedin", "indeed")
ROLES = (
    "Backend Engineer", "Frontend Engineer", "Data Engineer", "Data Scientist", "Product Manager",
    "DevOps Engineer", "Site Reliability Engineer", "ML Engineer", "Designer", "QA Engineer",
    "Engineering Manager", "Support Specialist", "Sales Executive", "Technical Writer", "Security Analyst",
)  # fmt: skip
SPECIALTIES = ("", " (Python)", " (Go)", " - Payments", " — Platform", " 100% remote", " C++/Rust", " [contract]")
LEVELS = {
    "junior": "Junior ",
    "mid": "",
    "senior": "Senior ",
    "staff": "Staff ",
    "lead": "Lead ",
    "principal": "Principal ",
}
COMPANY_A = ("Acme", "Globex", "Initech", "Umbrella", "Hooli", "Stark", "Wayne", "Tyrell", "Cyberdyne", "Soylent",
             "Vandelay", "Gringotts", "Monarch", "Oscorp", "Aperture", "Nakatomi", "Wonka", "Zorg", "Duff", "Pied Piper")  # fmt: skip
COMPANY_B = (" Labs", " Inc", " GmbH", " Systems", "", " & Co", " AB", " O'Brien", " 100% Ltd", " under_score")
PLACES = (  # city, region, country
    ("Berlin", "Berlin", "DE"), ("Munich", "Bavaria", "DE"), ("London", "England", "GB"), ("Paris", "Île-de-France", "FR"),
    ("New York", "NY", "US"), ("San Francisco", "CA", "US"), ("Austin", "TX", "US"), ("Toronto", "ON", "CA"),
    ("Amsterdam", "North Holland", "NL"), ("Stockholm", "Stockholm", "SE"), ("Lisbon", "Lisbon", "PT"),
)  # fmt: skip
CURRENCY_OF = {"DE": "EUR", "FR": "EUR", "NL": "EUR", "PT": "EUR", "GB": "GBP", "US": "USD", "CA": "CAD", "SE": "SEK"}
PERIOD_FACTOR = {"year": 1.0, "month": 12.0, "hour": 2080.0}
WORDS = ("python", "kubernetes", "postgres", "react", "pipelines", "customers", "remote", "equity", "on-call", "rust")


@dataclass(frozen=True)
class Built:
    settings: Settings
    snapshot: snapshots.Snapshot
    job_ids: list[str]


def settings_for(data_dir: Path) -> Settings:
    s = Settings(data_dir=data_dir, config_path=None, sources=(), demo_default=True)
    s.ensure_dirs()
    return s


def _pick(rng: np.random.Generator, values: tuple[str, ...], n: int, null_share: float = 0.0) -> list[str | None]:
    idx = rng.integers(0, len(values), n)
    out: list[str | None] = [values[i] for i in idx]
    if null_share:
        for i in np.flatnonzero(rng.random(n) < null_share):
            out[i] = None
    return out


def _times(base: datetime, offsets_s: np.ndarray, mask: np.ndarray | None = None) -> pa.Array:
    us = (np.datetime64(base, "us") + offsets_s.astype("timedelta64[s]")).astype("datetime64[us]")
    return pa.array(us, pa.timestamp("us"), mask=mask)


def jobs_table(rows: int, seed: int = 7, id_prefix: str = "") -> pa.Table:
    """``rows`` jobs in the hot snapshot schema (desc_file left for ``write_snapshot`` to fill)."""
    rng = np.random.default_rng(seed)
    n = rows
    ids = [f"{id_prefix}{h:016x}" for h in rng.integers(0, 2**63, n, dtype=np.int64)]
    ids = list(dict.fromkeys(ids))
    while len(ids) < n:  # collisions are astronomically rare; stay exact anyway
        ids.append(f"{id_prefix}{len(ids):016x}z")
    source = _pick(rng, SOURCES, n)
    levels = list(LEVELS)
    seniority_idx = rng.integers(0, len(levels), n)
    seniority: list[str | None] = [levels[i] for i in seniority_idx]
    title = [
        LEVELS[levels[s]] + ROLES[r] + SPECIALTIES[p]
        for s, r, p in zip(
            seniority_idx, rng.integers(0, len(ROLES), n), rng.integers(0, len(SPECIALTIES), n), strict=True
        )
    ]
    for i in np.flatnonzero(rng.random(n) < 0.05):
        seniority[i] = None
    companies = [a + b for a in COMPANY_A for b in COMPANY_B]
    company: list[str | None] = [companies[i] for i in (rng.zipf(1.3, n) - 1) % len(companies)]
    for i in np.flatnonzero(rng.random(n) < 0.01):
        company[i] = None
    workplace = _pick(rng, schema.WORKPLACE_TYPES, n, null_share=0.1)
    place_idx = rng.integers(0, len(PLACES), n)
    city = [PLACES[i][0] for i in place_idx]
    region = [PLACES[i][1] for i in place_idx]
    country: list[str | None] = [PLACES[i][2] for i in place_idx]
    location = [f"{c}, {r}" for c, r in zip(city, region, strict=True)]
    for i, w in enumerate(workplace):
        if w == "remote" and i % 3 == 0:
            location[i], city[i], region[i] = "Remote", None, None  # type: ignore[call-overload]
            if i % 2:
                country[i] = None
    is_remote = [None if w is None else w == "remote" for w in workplace]
    employment = _pick(rng, schema.EMPLOYMENT_TYPES, n, null_share=0.1)
    department = _pick(rng, ("Engineering", "Product", "Data", "Sales", "Support", "Design"), n, null_share=0.2)

    has_salary = rng.random(n) < 0.6
    period = _pick(rng, ("year", "year", "year", "month", "hour"), n)
    base_pay = np.round(rng.lognormal(11.3, 0.35, n), -3)
    low = [b / PERIOD_FACTOR[p] for b, p in zip(base_pay, period, strict=True)]
    width = rng.choice([1.0, 1.2, 1.3, 1.5], n)
    only = rng.random(n)
    smin: list[float | None] = []
    smax: list[float | None] = []
    amin: list[float | None] = []
    amax: list[float | None] = []
    currency: list[str | None] = []
    speriod: list[str | None] = []
    stext: list[str | None] = []
    ssource: list[str | None] = []
    for i in range(n):
        if not has_salary[i]:
            for col in (smin, smax, amin, amax, currency, speriod, stext, ssource):
                col.append(None)
            continue
        lo, hi = round(low[i], 2), round(low[i] * width[i], 2)
        if only[i] < 0.1:
            hi = None  # type: ignore[assignment]
        elif only[i] < 0.15:
            lo = None  # type: ignore[assignment]
        f = PERIOD_FACTOR[period[i]]  # type: ignore[index]
        smin.append(lo)
        smax.append(hi)
        amin.append(None if lo is None else lo * f)
        amax.append(None if hi is None else hi * f)
        cur = CURRENCY_OF.get(country[i] or "", "USD")
        currency.append(cur)
        speriod.append(period[i])
        stext.append(f"{cur} {lo or ''}-{hi or ''} per {period[i]}")
        ssource.append("structured" if i % 4 else "parsed")

    age_s = rng.integers(0, 365 * 86400, n) // 3600 * 3600  # hour granularity: plenty of ties in posted_at
    posted_mask = rng.random(n) < 0.05
    first_seen_off = -age_s + rng.integers(0, 3 * 86400, n)
    last_seen_off = np.maximum(first_seen_off, -rng.integers(0, 20 * 86400, n))
    delisted = rng.random(n) < 0.1
    changed = rng.random(n) < 0.2

    # Duplicate groups: most postings alone; a few appear on 2-3 boards.
    group = [f"g{i:07d}" for i in range(n)]
    for i in np.flatnonzero(rng.random(n) < 0.04):
        j = int(rng.integers(0, n))
        group[i] = group[j]

    table = pa.table(
        {
            "job_id": ids,
            "source": source,
            "native_id": [f"n{i}" for i in range(n)],
            "url": [f"https://jobs.example.test/{s}/{j}?utm_source=x" for s, j in zip(source, ids, strict=True)],
            "apply_url": [f"https://jobs.example.test/apply/{j}" for j in ids],
            "title": title,
            "company": company,
            "location": location,
            "locations": pa.nulls(n, pa.string()),
            "city": city,
            "region": region,
            "country": country,
            "is_remote": pa.array(is_remote, pa.bool_()),
            "workplace_type": workplace,
            "employment_type": employment,
            "seniority": seniority,
            "department": department,
            "salary_min": pa.array(smin, pa.float64()),
            "salary_max": pa.array(smax, pa.float64()),
            "salary_currency": currency,
            "salary_period": speriod,
            "salary_annual_min": pa.array(amin, pa.float64()),
            "salary_annual_max": pa.array(amax, pa.float64()),
            "salary_text": stext,
            "salary_source": ssource,
            "posted_at": _times(BASE, -age_s, posted_mask),
            "first_seen_at": _times(BASE, first_seen_off),
            "last_seen_at": _times(BASE, last_seen_off),
            "changed_at": _times(BASE, last_seen_off, ~changed),
            "delisted_at": _times(BASE, last_seen_off + 86400, ~delisted),
            "content_hash": [f"{h:016x}" for h in rng.integers(0, 2**63, n, dtype=np.int64)],
            "dup_group": group,
        }
    )
    return table.cast(schema.arrow_schema(schema.HOT_COLUMNS))


def descriptions(table: pa.Table, seed: int = 7) -> list[str]:
    rng = np.random.default_rng(seed + 1)
    picks = rng.integers(0, len(WORDS), (table.num_rows, 3))
    titles = table.column("title").to_pylist()
    return [f"{t}: we use {WORDS[a]}, {WORDS[b]} and {WORDS[c]}." for t, (a, b, c) in zip(titles, picks, strict=True)]


def write_snapshot(
    settings: Settings, table: pa.Table, *, with_descriptions: bool = True, seed: int = 7
) -> snapshots.Snapshot:
    """Write jobs (sorted like the sync does) and descriptions for ``table``, then publish CURRENT."""
    d = settings.snapshots_dir
    version = snapshots.next_version(d)
    desc_file = snapshots.desc_name(version) if with_descriptions else None
    if with_descriptions:
        desc = pa.table(
            {
                "job_id": table.column("job_id"),
                "content_hash": table.column("content_hash"),
                "description": descriptions(table, seed),
            }
        )
        pq.write_table(desc, d / snapshots.desc_name(version))
    jobs = table.append_column(schema.DESC_FILE, pa.array([desc_file] * table.num_rows, pa.string()))
    jobs = jobs.sort_by([("posted_at", "ascending"), ("job_id", "ascending")]).cast(hot_snapshot_schema())
    tmp = d / f".{snapshots.jobs_name(version)}.tmp"
    pq.write_table(jobs, tmp)
    snapshots.fsync_replace(tmp, d / snapshots.jobs_name(version))
    return snapshots.publish(d, version, table.num_rows, BASE.isoformat(), demo=False)


def add_user_data(settings: Settings, job_ids: list[str], seed: int = 7) -> None:
    """Star, stage, note, hide and set follow-ups on a deterministic ~6% of the jobs, through UserData."""
    rng = np.random.default_rng(seed + 2)
    users = UserData(settings.db_path)
    now = BASE + timedelta(days=1)
    picked = [job_ids[i] for i in sorted(set(rng.integers(0, len(job_ids), max(1, len(job_ids) // 16))))]
    stages = schema.STAGES
    for k, job_id in enumerate(picked):
        users.set(
            job_id,
            starred=k % 3 == 0,
            stage=stages[k % len(stages)],
            notes=("call back; 100% 'maybe'" if k % 5 == 0 else None),
            follow_up_on=(BASE.date() + timedelta(days=k % 30)) if k % 4 == 0 else None,
            hidden=k % 7 == 0,
            now=now + timedelta(minutes=k),
        )
    users.close()


def index_descriptions(settings: Settings, table: pa.Table, seed: int = 7) -> None:
    """Fill the FTS5 description index (core/search.py) the way the sync does."""
    from core.search import DescriptionIndex

    rows = pa.table(
        {
            "job_id": table.column("job_id"),
            "title": table.column("title"),
            "company": table.column("company"),
            "description": descriptions(table, seed),
        }
    )
    index = DescriptionIndex(settings.search_path)
    index.update(rows)
    index.close()


def build(data_dir: Path, rows: int = 20_000, seed: int = 7, *, user_data: bool = True, search: bool = True) -> Built:
    settings = settings_for(data_dir)
    table = jobs_table(rows, seed)
    snap = write_snapshot(settings, table, seed=seed)
    ids = table.column("job_id").to_pylist()
    if user_data:
        add_user_data(settings, ids, seed)
    if search:
        index_descriptions(settings, table, seed)
    return Built(settings, snap, ids)


def hot_snapshot_schema() -> pa.Schema:
    """The columns of a jobs-<v>.parquet snapshot, as the sync writes them."""
    return schema.arrow_schema(schema.HOT_COLUMNS).append(pa.field(schema.DESC_FILE, pa.string()))


def iter_pages(cat: Catalog, flt: JobFilter, sort: Sort = DEFAULT_SORT, limit: int = 1000) -> Iterator[Page]:
    """Every page of the filtered set, by keyset."""
    cursor = None
    while True:
        page = cat.page(flt, sort, cursor, "next", limit)
        yield page
        if not page.has_next:
            return
        cursor = page.last_key
