"""The demo generator: a seeded, realistic job board that churns between runs like a real one.

Every field of a posting is a pure function of ``(seed, id, revision)``: a counter-based hash
(splitmix64 over numpy arrays) replaces a sequential random stream, so a posting looks the same in
every run, whatever else is in the table, and a million rows take about 3 s of CPU.

Population of epoch ``e`` (``k = max(1, round(0.03 * jobs))``), when ``churn`` is true:

- **base ids** ``0 .. jobs-1`` are listed, except that id ``i`` is *absent* in epoch ``e`` when
  ``u(seed, i, e) < 0.03`` (``u`` a uniform hash): about 3% vanish each epoch (delisted) and,
  being drawn afresh each epoch, nearly all of them come back later (relisted);
- **new ids**: epoch ``b`` introduces ids ``jobs + b*k .. jobs + b*k + k-1``; each such batch is
  listed in epochs ``b, b+1, b+2`` and then closes (so ~3% new and ~3% closed per epoch);
- **revision** of id ``i`` in epoch ``e`` is ``(e + phase_i) // 20`` with ``phase_i`` in ``0..19``
  from the hash: exactly the ids with ``(e + phase_i) % 20 == 0`` (~5%) change content from one
  epoch to the next. A new revision changes the closing sentence of the description and raises the
  salary by 3-12% of the base; a third of revisions also change the title's specialty.

With ``churn`` false every epoch returns exactly the base population at revision 0. ``epoch``
defaults to the whole hours between 2026-01-01T00:00Z and the run's clock, so scheduled runs churn.
``posted_at`` (not content) follows the clock in both modes so the catalog stays recent: a base
posting keeps its date for 60 days of epochs and is then re-posted with a fresh date.
"""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import UTC, datetime
from functools import cache
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from core.sources.demo import words as W

EPOCH_ZERO = datetime(2026, 1, 1, tzinfo=UTC)
MAX_JOBS = 1_000_000
DELIST_RATE = 0.03
NEW_RATE = 0.03
NEW_LIFETIME = 3  # epochs a new batch stays listed
REVISION_PERIOD = 20  # each posting changes once per this many epochs (5% per epoch)
REPOST_HOURS = 60 * 24
URL_PREFIX = "https://jobs.example.com/demo/"
N_COMPANIES = 5000
BODIES_PER_FAMILY = 256
OPENERS = 5
HTML_SHARE = 0.06
_CHUNK = 1 << 17  # rows are generated in chunks (on two threads) to bound peak memory

_POOL = pa.system_memory_pool()  # see _join
U64 = np.uint64
_ARRAY = np.ndarray[Any, Any]


# ---------------------------------------------------------------- hashing


def _mix(x: _ARRAY) -> _ARRAY:
    """splitmix64 finalizer: a bijective, well-mixed uint64 → uint64."""
    with np.errstate(over="ignore"):
        x = x ^ (x >> U64(30))
        x = x * U64(0xBF58476D1CE4E5B9)
        x = x ^ (x >> U64(27))
        x = x * U64(0x94D049BB133111EB)
        mixed: _ARRAY = x ^ (x >> U64(31))
        return mixed


class _Hasher:
    """Independent hash streams per field for a set of (id, revision) pairs."""

    def __init__(self, seed: int, ids: _ARRAY, revision: _ARRAY | None = None) -> None:
        with np.errstate(over="ignore"):
            base = _mix(ids.astype(U64) + _mix(np.array([seed & 0xFFFFFFFFFFFFFFFF], dtype=U64)))
            self._base = base
            self._rev = base if revision is None else _mix(base ^ (revision.astype(U64) * U64(0x9E3779B97F4A7C15)))

    @staticmethod
    def _salted(base: _ARRAY, field: str) -> _ARRAY:
        salt = U64(int.from_bytes(field.encode()[:8].ljust(8, b"\0"), "little") | 1)
        with np.errstate(over="ignore"):
            return _mix(base ^ (salt * U64(0xD6E8FEB86659FD93)))

    def bits(self, field: str, revised: bool = False) -> _ARRAY:
        return self._salted(self._rev if revised else self._base, field)

    def uniform(self, field: str, revised: bool = False) -> _ARRAY:
        return (self.bits(field, revised) >> U64(11)).astype(np.float64) * (1.0 / (1 << 53))

    def index(self, field: str, n: int | _ARRAY, revised: bool = False) -> _ARRAY:
        return (self.bits(field, revised) % np.asarray(n, dtype=U64)).astype(np.int64)

    def weighted(self, field: str, weights: tuple[float, ...]) -> _ARRAY:
        cum = np.cumsum(np.asarray(weights, dtype=np.float64))
        return np.minimum(np.searchsorted(cum / cum[-1], self.uniform(field), side="right"), len(weights) - 1)


def _epoch_uniform(seed: int, ids: _ARRAY, epoch: int, field: str) -> _ARRAY:
    return _Hasher(seed, ids, np.full(len(ids), epoch, dtype=np.int64)).uniform(field, revised=True)


# ---------------------------------------------------------------- vocabularies (built once)


@dataclass(frozen=True)
class _Vocab:
    companies: pa.Array
    company_intro: pa.Array  # index: html * N_COMPANIES + company
    company_home: _ARRAY  # country index per company
    titles: pa.Array  # index: ((family * T + title) * S + seniority) * (P + 1) + specialty
    openers: pa.Array  # index: title_index * OPENERS + template
    bodies: pa.Array  # index: html * F * B + family * B + body (ends where the location line starts)
    closings: pa.Array  # index: html * len(REVISION_SENTENCES) + sentence
    locations: pa.Array  # onsite/hybrid texts per city (4 each), then remote labels
    city_names: pa.Array
    city_offset: _ARRAY  # first global city per country
    city_count: _ARRAY
    remote_offset: _ARRAY
    remote_count: _ARRAY
    symbols: pa.Array
    symbol_offset: _ARRAY  # per currency
    symbol_count: _ARRAY
    period_raw: pa.Array  # per period (year, month, hour): variants
    period_raw_offset: _ARRAY
    period_raw_count: _ARRAY
    period_words: pa.Array
    period_words_offset: _ARRAY
    period_words_count: _ARRAY


CURRENCIES: tuple[str, ...] = tuple(W.FX)
PERIODS: tuple[str, ...] = ("year", "month", "hour")
_T = max(len(f.titles) for f in W.FAMILIES)
_S = len(W.SENIORITIES)
_P = max(len(f.specialties) for f in W.FAMILIES)
_F = len(W.FAMILIES)


def _flat(groups: list[tuple[str, ...]]) -> tuple[pa.Array, _ARRAY, _ARRAY]:
    counts = np.array([len(g) for g in groups], dtype=np.int64)
    offsets = np.concatenate([[0], np.cumsum(counts)[:-1]]).astype(np.int64)
    return pa.array([s for g in groups for s in g], pa.string()), offsets, counts


def _article(phrase: str) -> str:
    """By sound: "an Analyst", "an ML Engineer", "an FP&A Analyst", but "a UX Designer"."""
    first = phrase.split(" ", 1)[0]
    acronym = len(first) > 1 and first.replace("&", "").isupper()
    return "an" if first[:1] in ("AEIO" + ("FHLMNRSX" if acronym else "")) else "a"


def _title(family: W.Family, t: int, s: int, p: int) -> str:
    if t >= len(family.titles) or p > len(family.specialties):
        return ""
    level = W.SENIORITIES[s][0]
    base = family.titles[t]
    if level == "Intern":
        title = f"{base} Intern"
    elif level == "Head of":
        title = f"Head of {family.area}"
    elif level == "Director":
        title = f"Director of {family.area}" if t % 2 else f"Director, {family.area}"
    else:
        title = f"{level} {base}".strip()
    if p:
        spec = family.specialties[p - 1]
        title += (f" ({spec})", f" - {spec}", f", {spec}")[(t + p) % 3]
    return title


def _body(family: W.Family, rng: np.random.Generator, html: bool) -> str:
    """Everything between the role opener and the location line, as plain text or simple HTML."""
    context = " " + str(rng.choice(W.ROLE_CONTEXT)) if rng.random() < 0.5 else ""
    n_do, n_req = int(rng.integers(2, 4)), int(rng.integers(2, 4))
    verbs = rng.permutation(len(family.verbs))[:n_do]
    objects = rng.permutation(len(family.objects))[:n_do]
    dos = [f"{family.verbs[v]} {family.objects[o]}" for v, o in zip(verbs, objects, strict=True)]
    skills = rng.permutation(len(family.skills))[: n_req - 1]
    stems = rng.permutation(len(W.REQUIREMENT_STEMS))[: n_req - 1]
    reqs = [W.REQUIREMENT_STEMS[st].format(skill=family.skills[sk]) for st, sk in zip(stems, skills, strict=True)]
    reqs.append(str(rng.choice(W.GENERAL_REQUIREMENTS)))
    benefit = str(rng.choice(W.BENEFITS)) if rng.random() < 0.7 else ""
    if html:
        do_items = "".join(f"<li>{d}</li>" for d in dos)
        req_items = "".join(f"<li>{r}</li>" for r in reqs)
        perks = f"<p>{benefit}</p>\n" if benefit else ""
        return (
            f"{context}</p>\n<h3>What you'll do</h3>\n<ul>{do_items}</ul>\n"
            f"<h3>What we're looking for</h3>\n<ul>{req_items}</ul>\n{perks}<p>Location: "
        )
    bullets = "\n".join(f"- {d}" for d in dos)
    needs = "\n".join(f"- {r}" for r in reqs)
    perks = f"{benefit}\n\n" if benefit else ""
    return f"{context}\n\nWhat you'll do:\n{bullets}\n\nWhat we're looking for:\n{needs}\n\n{perks}Location: "


def _company_names(rng: np.random.Generator) -> list[str]:
    names: list[str] = []
    seen: set[str] = set()
    pairs = [f"{p} {k}" for p in W.COMPANY_PREFIXES for k in W.COMPANY_KINDS]
    coined = [f"{s}{p}" for s in W.COINED_STEMS for p in W.COINED_PARTS]
    pool = pairs + coined
    for i in rng.permutation(len(pool)):
        name = pool[i]
        if name not in seen:
            seen.add(name)
            names.append(name)
        if len(names) == N_COMPANIES:
            break
    return names


@cache
def _vocab() -> _Vocab:
    rng = np.random.default_rng(20260101)  # fixed: the company universe does not depend on the seed
    names = _company_names(rng)
    shares = np.array([c[3] for c in W.COUNTRIES])
    home = rng.choice(len(W.COUNTRIES), size=len(names), p=shares / shares.sum()).astype(np.int64)
    intros = []
    for name in names:
        fact = str(rng.choice(W.COMPANY_FACTS)).format(n=int(rng.integers(3, 60)) * 25) if rng.random() < 0.5 else ""
        intro = f"{name} is {_article(name)} {rng.choice(W.INDUSTRIES)} {rng.choice(W.COMPANY_MISSIONS)}. {fact}"
        intros.append(intro.rstrip())
    intros += [f"<p>{i}</p>\n<p>" for i in intros]
    intros[: len(names)] = [f"{i}\n\n" for i in intros[: len(names)]]

    titles = [_title(fam, t, s, p) for fam in W.FAMILIES for t in range(_T) for s in range(_S) for p in range(_P + 1)]
    openers: list[str] = []
    for i, title in enumerate(titles):
        dept = W.FAMILIES[i // (_T * _S * (_P + 1))].department
        for tpl in W.ROLE_OPENERS:
            openers.append(tpl.format(title=title, dept=dept, a=_article(title)) if title else "")
    bodies = [_body(fam, rng, html) for html in (False, True) for fam in W.FAMILIES for _ in range(BODIES_PER_FAMILY)]

    loc_groups: list[tuple[str, ...]] = []
    city_names: list[str] = []
    for _, _, _, _, cities in W.COUNTRIES:
        for city, text in cities:
            loc_groups.append((text, f"Hybrid ({city})", f"{text} (Hybrid)", f"Hybrid - {text}"))
            city_names.append(city)
    city_count = np.array([len(c[4]) for c in W.COUNTRIES], dtype=np.int64)
    city_offset = np.concatenate([[0], np.cumsum(city_count)[:-1]]).astype(np.int64)
    remote, remote_offset, remote_count = _flat([W.REMOTE_LABELS[c[0]] for c in W.COUNTRIES])
    locations = pa.concat_arrays([pa.array([s for g in loc_groups for s in g], pa.string()), remote])
    remote_offset = remote_offset + 4 * len(city_names)
    symbols, sym_off, sym_cnt = _flat([W.SYMBOLS[c] for c in CURRENCIES])
    praw, praw_off, praw_cnt = _flat([W.PERIOD_RAW[p] for p in PERIODS])
    pwords, pw_off, pw_cnt = _flat([W.PERIOD_WORDS[p] for p in PERIODS])
    return _Vocab(
        companies=pa.array(names, pa.string()),
        company_intro=pa.array(intros, pa.string()),
        company_home=home,
        titles=pa.array(titles, pa.string()),
        openers=pa.array(openers, pa.string()),
        bodies=pa.array(bodies, pa.string()),
        closings=pa.array(list(W.REVISION_SENTENCES) + [f"{c}</p>" for c in W.REVISION_SENTENCES], pa.string()),
        locations=locations,
        city_names=pa.array(city_names, pa.string()),
        city_offset=city_offset,
        city_count=city_count,
        remote_offset=remote_offset,
        remote_count=remote_count,
        symbols=symbols,
        symbol_offset=sym_off,
        symbol_count=sym_cnt,
        period_raw=praw,
        period_raw_offset=praw_off,
        period_raw_count=praw_cnt,
        period_words=pwords,
        period_words_offset=pw_off,
        period_words_count=pw_cnt,
    )


# ---------------------------------------------------------------- column helpers


def _take(vocab: pa.Array, idx: _ARRAY, mask: _ARRAY | None = None) -> pa.Array:
    """vocab[idx] as a plain string array; rows where ``mask`` is true are null."""
    return pc.take(vocab, pa.array(idx, pa.int64(), mask=mask), memory_pool=_POOL)


def _strs(values: _ARRAY) -> pa.Array:
    return pc.cast(pa.array(values, pa.int64()), pa.string())


def _commas(values: _ARRAY) -> pa.Array:
    """Integers with thousands separators ("1,250,000"), vectorized."""
    millions, thousands, units = values // 1_000_000, (values // 1000) % 1000, values % 1000

    def pad(v: _ARRAY) -> pa.Array:
        return pc.utf8_lpad(_strs(v), width=3, padding="0")

    big = pc.binary_join_element_wise(_strs(millions), pad(thousands), pad(units), ",")
    mid = pc.binary_join_element_wise(_strs(values // 1000), pad(units), ",")
    return pc.if_else(pa.array(values >= 1_000_000), big, pc.if_else(pa.array(values >= 1000), mid, _strs(values)))


def _scatter(n: int, parts: list[tuple[_ARRAY, pa.Array]]) -> pa.Array:
    """Assemble a length-n column from (row positions, values) parts; uncovered rows are null."""
    pos = np.full(n, -1, dtype=np.int64)
    offset = 0
    for rows, _ in parts:
        pos[rows] = np.arange(offset, offset + len(rows))
        offset += len(rows)
    values = pa.concat_arrays([arr for _, arr in parts]) if parts else pa.array([], pa.string())
    return _take(values, np.maximum(pos, 0), pos < 0)


def _date_text(day: int) -> str:
    return datetime.fromtimestamp(day * 86400, UTC).strftime("%Y-%m-%d")


@cache
def _clock_vocab() -> pa.Array:
    """Time-of-day suffixes: "T%H:%M:%SZ" by second, then the "+00:00" forms, then "" (date only)."""
    clocks = [f"T{s // 3600:02d}:{s // 60 % 60:02d}:{s % 60:02d}" for s in range(86400)]
    return pa.array([c + "Z" for c in clocks] + [c + "+00:00" for c in clocks] + [""], pa.string())


def _join(*parts: pa.Array | str) -> pa.Array:
    # The join grows its output by reallocation: the system allocator does that in place (mremap),
    # jemalloc copies, which made 1M descriptions ~2x slower.
    scalars = [pa.scalar(p) if isinstance(p, str) else p for p in parts]
    return pc.binary_join_element_wise(*scalars, "", memory_pool=_POOL)


# ---------------------------------------------------------------- the generator


def _salary_text(h: _Hasher, n: int, rows: _ARRAY, lo: _ARRAY, hi: _ARRAY, cur: _ARRAY, per: _ARRAY) -> pa.Array:
    """Salary as a board would print it, in one of several formats, for the given rows."""
    v = _vocab()
    fmt = h.index("salfmt", 5)[rows]
    # "120k" reads right only for annual pay, and Indian boards write lakhs instead
    fmt = np.where((fmt == 0) & ((per[rows] != 0) | (cur[rows] == CURRENCIES.index("INR"))), 1, fmt)
    sym = _take(v.symbols, v.symbol_offset[cur] + h.index("sym", v.symbol_count[cur]))
    words = _take(v.period_words, v.period_words_offset[per] + h.index("perw", v.period_words_count[per]))
    iso = pa.array(np.array(CURRENCIES, dtype=object)[cur], pa.string())
    dash = _take(pa.array(["–", " - ", "-", " to "]), h.index("dash", 4))
    parts: list[tuple[_ARRAY, pa.Array]] = []
    for f in range(5):
        sel = rows[fmt == f]
        if not len(sel):
            continue
        s = pa.array(sel)
        sy, wd, ds = sym.take(s), words.take(s), dash.take(s)
        a, b = lo[sel], hi[sel]
        if f == 0:
            text = _join(sy, _strs(a // 1000), "k", ds, sy, _strs(b // 1000), "k")
        elif f == 1:
            text = _join(sy, _commas(a), ds, sy, _commas(b), " ", wd)
        elif f == 2:
            text = _join(iso.take(s), " ", _commas(a), "-", _commas(b), " ", wd)
        elif f == 3:
            text = _join("Up to ", sy, _commas(b), " ", wd)
        else:
            text = _join("From ", sy, _commas(a), " ", wd)
        parts.append((sel, text))
    return _scatter(n, parts)


def generate_rows(seed: int, ids: _ARRAY, revision: _ARRAY, posted_s: _ARRAY) -> pa.Table:
    """The raw postings for ``ids`` at the given revisions; ``posted_s`` is epoch seconds.

    Each row depends only on its own id, revision and date, so chunks are independent: they are
    built on two threads (numpy and pyarrow release the GIL) and only one chunk's temporaries live
    at a time per thread.
    """
    _vocab()  # build the shared vocabularies once, before the threads need them
    starts = range(0, len(ids), _CHUNK)

    def chunk(start: int) -> pa.Table:
        sl = slice(start, start + _CHUNK)
        return _chunk_rows(seed, ids[sl], revision[sl], posted_s[sl])

    if len(starts) <= 1:
        return _chunk_rows(seed, ids, revision, posted_s)
    with ThreadPoolExecutor(max_workers=2) as pool:
        return pa.concat_tables(pool.map(chunk, starts))


def _chunk_rows(seed: int, ids: _ARRAY, revision: _ARRAY, posted_s: _ARRAY, html_share: float = HTML_SHARE) -> pa.Table:
    v = _vocab()
    n = len(ids)
    h = _Hasher(seed, ids)
    hr = _Hasher(seed, ids, revision)
    changed = revision > 0

    native_id = pc.utf8_lpad(_strs(ids), width=7, padding="0")
    url = _join(URL_PREFIX, native_id)
    apply_url = pc.if_else(pa.array(h.uniform("apply") < 0.7), _join(url, "/apply"), pa.nulls(n, pa.string()))

    # company: a few companies post a lot (power law), most post a little
    company = np.minimum((h.uniform("company") ** 2.5 * N_COMPANIES).astype(np.int64), N_COMPANIES - 1)
    family = h.index("family", _F)
    n_titles = np.array([len(f.titles) for f in W.FAMILIES])[family]
    n_specs = np.array([len(f.specialties) for f in W.FAMILIES])[family]
    title_i = h.index("title", n_titles)
    level = h.weighted("level", tuple(s[1] for s in W.SENIORITIES))
    spec = np.where(h.uniform("hasspec") < 0.3, 1 + h.index("spec", n_specs), 0)
    retitle = changed & (hr.uniform("retitle", revised=True) < 1 / 3)
    spec = np.where(retitle, (spec + 1 + hr.index("spec", n_specs, revised=True)) % (n_specs + 1), spec)
    title_idx = ((family * _T + title_i) * _S + level) * (_P + 1) + spec
    title = _take(v.titles, title_idx)
    dept_names = pa.array([f.department for f in W.FAMILIES], pa.string())
    department = _take(dept_names, family, h.uniform("hasdept") < 0.15)

    # where: mostly the company's home country
    shares = tuple(c[3] for c in W.COUNTRIES)
    country = np.where(h.uniform("abroad") < 0.7, v.company_home[company], h.weighted("country", shares))
    city = v.city_offset[country] + h.index("city", v.city_count[country])
    place = h.weighted("workplace", (0.18, 0.22, 0.60))  # remote, hybrid, onsite
    remote, hybrid = place == 0, place == 1
    loc_idx = np.where(
        remote,
        v.remote_offset[country] + h.index("remotelabel", v.remote_count[country]),
        city * 4 + np.where(hybrid, 1 + h.index("hybridfmt", 3), 0),
    )
    location = _take(v.locations, loc_idx)
    structured_place = h.uniform("structplace") < 0.35
    city_col = _take(v.city_names, city, ~structured_place | remote)
    iso_country = pa.array([c[0] for c in W.COUNTRIES], pa.string())
    country_col = _take(iso_country, country, ~structured_place)
    is_remote = pa.array(remote, pa.bool_(), mask=h.uniform("hasremote") < 0.4)
    wp_keys = ("remote", "hybrid", "onsite")
    wp_vocab, wp_off, wp_cnt = _flat([W.WORKPLACE_RAW[k] for k in wp_keys])
    workplace = _take(wp_vocab, wp_off[place] + h.index("wpraw", wp_cnt[place]), h.uniform("haswp") < 0.5)

    # employment type: interns are internships; otherwise mostly full-time
    emp = np.where(level == 0, 4, h.weighted("emp", (0.86, 0.05, 0.07, 0.02)))
    emp_vocab, emp_off, emp_cnt = _flat(list(W.EMPLOYMENT_RAW))
    employment = _take(emp_vocab, emp_off[emp] + h.index("empraw", emp_cnt[emp]), h.uniform("hasemp") < 0.1)
    level_raw = pa.array([s[3] for s in W.SENIORITIES], pa.string())
    seniority = _take(level_raw, level, h.uniform("haslevel") < 0.5)

    # salary: family base × level × country, noisy, in local currency and a board-typical period
    cur_of_country = np.array([CURRENCIES.index(c[1]) for c in W.COUNTRIES], dtype=np.int64)
    cur = cur_of_country[country]
    base = np.array([f.base_usd for f in W.FAMILIES], dtype=np.float64)[family]
    mult = np.array([s[2] for s in W.SENIORITIES])[level]
    col = np.array([c[2] for c in W.COUNTRIES])[country]
    fx = np.array([W.FX[c] for c in CURRENCIES])[cur]
    noise = np.exp(0.35 * (h.uniform("n1") + h.uniform("n2") + h.uniform("n3") - 1.5))
    bump = np.where(changed, 1.0 + 0.03 * (1 + hr.index("bump", 4, revised=True)), 1.0)
    annual = base * mult * col * fx * noise * bump
    hourly_market = np.isin(country, [0, 1, 2, 9])  # US, CA, GB, AU
    monthly_market = ~hourly_market
    gig = (emp >= 1) & (emp != 2) | (level == 0)
    u_per = h.uniform("period")
    per = np.where(
        hourly_market & (u_per < np.where(gig, 0.6, 0.06)), 2, np.where(monthly_market & (u_per < 0.15), 1, 0)
    )
    step = np.where(per == 0, 1000.0, np.where(per == 1, 100.0, 1.0)) * np.where(cur == CURRENCIES.index("INR"), 10, 1)
    amount = annual / np.where(per == 0, 1, np.where(per == 1, 12, 2080))
    lo = np.maximum(np.round(amount * 0.92 / step), 1) * step
    hi = np.maximum(np.round(lo * (1.1 + 0.3 * h.uniform("spread")) / step), 1) * step
    lo_i, hi_i = lo.astype(np.int64), hi.astype(np.int64)

    mode = h.weighted("salmode", (0.20, 0.35, 0.20, 0.25))  # missing, structured, both, text only
    no_struct = (mode == 0) | (mode == 3)
    salary_min = pa.array(lo, pa.float64(), mask=no_struct)
    salary_max = pa.array(hi, pa.float64(), mask=no_struct)
    salary_currency = _take(pa.array(CURRENCIES, pa.string()), cur, no_struct)
    salary_period = _take(v.period_raw, v.period_raw_offset[per] + h.index("praw", v.period_raw_count[per]), no_struct)
    salary_text = _salary_text(h, n, np.nonzero(mode >= 2)[0], lo_i, hi_i, cur, per)

    # posted_at: ISO text in a few board-typical shapes, joined from day and time-of-day vocabularies
    day, second = np.divmod(posted_s, 86400)
    first_day = int(day.min()) if n else 0
    days = pa.array([_date_text(d) for d in range(first_day, int(day.max()) + 1 if n else 0)], pa.string())
    shape = h.weighted("dateshape", (0.8, 0.12, 0.08))  # "...Z", date only, "+00:00"
    clock = np.where(shape == 1, 2 * 86400, np.where(shape == 2, 86400, 0) + second)
    posted_at = _join(_take(days, day - first_day), _take(_clock_vocab(), clock))

    description = _descriptions(h, revision, native_id, title_idx, family, company, location, html_share)
    return pa.table(
        {
            "source": pa.nulls(n, pa.string()),  # filled by the caller: the source's configured name
            "native_id": native_id,
            "url": url,
            "apply_url": apply_url,
            "title": title,
            "company": _take(v.companies, company),
            "location": location,
            "city": city_col,
            "country": country_col,
            "is_remote": is_remote,
            "workplace_type": workplace,
            "employment_type": employment,
            "seniority": seniority,
            "department": department,
            "salary_min": salary_min,
            "salary_max": salary_max,
            "salary_currency": salary_currency,
            "salary_period": salary_period,
            "salary_text": salary_text,
            "posted_at": posted_at,
            "description": description,
        }
    )


def _descriptions(
    h: _Hasher,
    revision: _ARRAY,
    native_id: pa.Array,
    title_idx: _ARRAY,
    family: _ARRAY,
    company: _ARRAY,
    location: pa.Array,
    html_share: float,
) -> pa.Array:
    """Company intro + role opener + a pooled body + a per-posting closing; some as simple HTML.

    The HTML markup is baked into the html variants of the intro, body and closing vocabularies,
    so a single join builds the column.
    """
    v = _vocab()
    n_closing = len(W.REVISION_SENTENCES)
    html = (h.uniform("html") < html_share).astype(np.int64)
    intro = html * N_COMPANIES + company
    body = html * (_F * BODIES_PER_FAMILY) + family * BODIES_PER_FAMILY + h.index("body", BODIES_PER_FAMILY)
    opener = title_idx * OPENERS + h.index("opener", OPENERS)
    closing = html * n_closing + (revision + h.index("closing", n_closing)) % n_closing

    return _join(
        _take(v.company_intro, intro),
        _take(v.openers, opener),
        _take(v.bodies, body),
        location,
        ". Job reference: ",
        native_id,
        ". ",
        _take(v.closings, closing),
    )


# ---------------------------------------------------------------- populations


def _new_batch_size(jobs: int) -> int:
    return max(1, round(NEW_RATE * jobs))


def posted_seconds(seed: int, ids: _ARRAY, jobs: int, epoch: int) -> _ARRAY:
    """Stable dates: a base posting keeps its date for REPOST_HOURS epochs; a new one is dated near its epoch."""
    h = _Hasher(seed, ids)
    now = int(EPOCH_ZERO.timestamp()) + epoch * 3600
    jitter = h.index("minute", 3600)
    age_h = (epoch + h.index("age", REPOST_HOURS)) % REPOST_HOURS
    batch = (ids - jobs) // _new_batch_size(jobs)
    new_ts = int(EPOCH_ZERO.timestamp()) + batch * 3600 - jitter
    result: _ARRAY = np.where(ids >= jobs, new_ts, now - age_h * 3600 - jitter)
    return result


def _population(jobs: int, seed: int, epoch: int, churn: bool) -> tuple[_ARRAY, _ARRAY]:
    """(ids, revisions) listed in ``epoch``: the rule in the module docstring."""
    base = np.arange(jobs, dtype=np.int64)
    if not churn:
        return base, np.zeros(jobs, dtype=np.int64)
    listed = base[_epoch_uniform(seed, base, epoch, "absent") >= DELIST_RATE]
    k = _new_batch_size(jobs)
    first = max(0, epoch - NEW_LIFETIME + 1)
    new = jobs + np.arange(first * k, (epoch + 1) * k, dtype=np.int64)
    ids = np.concatenate([listed, new])
    phase = _Hasher(seed, ids).index("phase", REVISION_PERIOD)
    return ids, (epoch + phase) // REVISION_PERIOD


def demo_table(jobs: int, seed: int = 42, epoch: int = 0, churn: bool = True) -> pa.Table:
    """The raw demo postings of one epoch (``source`` is "demo"), ordered by native id."""
    ids, revision = _population(jobs, seed, epoch, churn)
    table = generate_rows(seed, ids, revision, posted_seconds(seed, ids, jobs, epoch))
    return table.set_column(0, "source", pa.repeat(pa.scalar("demo"), len(ids)))


def epoch_of(now_iso: str) -> int:
    """Whole hours from 2026-01-01T00:00Z to ``now_iso`` (0 before that)."""
    now = datetime.fromisoformat(now_iso)
    if now.tzinfo is None:
        now = now.replace(tzinfo=UTC)
    return max(0, int((now - EPOCH_ZERO).total_seconds() // 3600))
