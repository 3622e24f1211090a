"""Which ATS board a careers URL points at: the kind and the options its adapter needs.

``detect_url`` reads the URL alone (pure): boards.greenhouse.io/acme, jobs.lever.co/acme,
jobs.ashbyhq.com/acme, apply.workable.com/acme, jobs.smartrecruiters.com/Acme, acme.recruitee.com,
acme.wd5.myworkdayjobs.com/en-US/External and the job-detail, embed and API URLs of each.
``find_embedded`` scans a page's HTML for such a URL (pure). ``detect`` does both: a company page that
is not an ATS URL is fetched (at most ``max_bytes``) and searched for an embedded board.

The option names are the adapters' own (greenhouse/ashby ``board``, lever ``site`` + ``region``, …), so
the result can go into jobdash.toml as it is.
"""

from __future__ import annotations

import html
import re
from collections import Counter
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any
from urllib.parse import parse_qs, unquote, urlsplit

import requests

from core.errors import ConfigError
from core.sources.http import MAX_REQUEST_TIMEOUT_S, USER_AGENT, deadline_session

MAX_PAGE_BYTES = 2 * 1024 * 1024  # a company page is read up to this much, never more
MAX_URL_CHARS = 2048

# The option that names the board of each kind (for names and duplicate checks), in adapter terms.
TOKEN_OPTIONS: dict[str, tuple[str, ...]] = {
    "greenhouse": ("board",),
    "lever": ("site", "region"),
    "ashby": ("board",),
    "workable": ("account",),
    "smartrecruiters": ("company",),
    "recruitee": ("company",),
    "workday": ("host", "tenant", "site"),
}


class DetectError(ConfigError):
    """A URL that is not usable, or no ATS board could be recognized in it."""


@dataclass(frozen=True)
class Detected:
    kind: str
    token: str  # the board token, for a source name ("acme")
    options: Mapping[str, Any] = field(default_factory=lambda: MappingProxyType({}))
    url: str = ""  # the URL the board was recognized in (the pasted one, or one found in the page)
    found_in_page: bool = False  # True when it came from a page that embeds or links the board
    alternatives: tuple[str, ...] = ()  # other boards the page mentions ("lever:acme-eu")

    def describe(self) -> str:
        opts = ", ".join(f"{k}={v!r}" for k, v in self.options.items())
        where = f" (found in the page, at {self.url})" if self.found_in_page else ""
        return f"{self.kind} ({opts}){where}"


def _detected(kind: str, url: str, **options: str) -> Detected:
    # A token is one URL path segment: nothing that could change the API path it is put into.
    for key, value in options.items():
        if not value or any(c in value for c in "/?#\\") or value != value.strip() or value in (".", ".."):
            raise DetectError(f"{url}: {key} {value!r} does not look like a {kind} board token")
    token = options[TOKEN_OPTIONS[kind][0]] if kind != "workday" else options["tenant"]
    return Detected(kind, token, MappingProxyType(dict(options)), url)


def check_url(url: str) -> str:
    """The URL stripped, or DetectError: only absolute http(s) URLs with a host are accepted."""
    if not isinstance(url, str) or not url.strip():
        raise DetectError("expected a careers page or job URL, got nothing")
    url = url.strip()
    if len(url) > MAX_URL_CHARS:
        raise DetectError(f"URL too long ({len(url):,} characters, at most {MAX_URL_CHARS:,})")
    if any(c.isspace() or ord(c) < 32 for c in url):
        raise DetectError(f"{url!r}: not a URL (it contains spaces or control characters)")
    try:
        parts = urlsplit(url)
    except ValueError as e:
        raise DetectError(f"{url!r}: not a valid URL ({e})") from e
    if parts.scheme.lower() not in ("http", "https"):
        shown = f"{parts.scheme}:" if parts.scheme else "no scheme"
        raise DetectError(f"{url!r}: only http(s) URLs are accepted ({shown})")
    try:
        host = parts.hostname
        parts.port  # noqa: B018  (raises ValueError on a bad port)
    except ValueError as e:
        raise DetectError(f"{url!r}: not a valid URL ({e})") from e
    if not host:
        raise DetectError(f"{url!r}: not a valid URL (no host)")
    return url


def _segments(path: str) -> list[str]:
    return [unquote(s) for s in path.split("/") if s]


_LOCALE = re.compile(r"^[a-z]{2}(-[A-Za-z]{2,4})?$")
_RECRUITEE_RESERVED = {"www", "app", "api", "support", "blog", "help", "careers", "docs", "status"}
_WORKABLE_RESERVED = {"www", "apply", "jobs", "api", "help", "resources", "careers"}
_WORKABLE_PATHS = {"api", "j", "jobs", "assets", "embed"}
_SMARTRECRUITERS_PATHS = {"oneclick-ui", "sr-jobs", "api", "static", "assets", "widget"}


def _greenhouse(url: str, host: str, seg: list[str], query: dict[str, list[str]]) -> Detected | None:
    if host in ("boards-api.greenhouse.io", "api.greenhouse.io"):
        # /v1/boards/acme/jobs[/123]
        if len(seg) >= 3 and seg[0] == "v1" and seg[1] == "boards":
            return _detected("greenhouse", url, board=seg[2])
        return None
    if host not in ("boards.greenhouse.io", "job-boards.greenhouse.io", "www.greenhouse.io"):
        return None
    if seg and seg[0] == "embed":  # /embed/job_board?for=acme, /embed/job_board/js?for=acme, /embed/job_app?for=
        board = (query.get("for") or [""])[0]
        return _detected("greenhouse", url, board=board) if board else None
    if seg and host != "www.greenhouse.io":  # /acme, /acme/jobs/123
        return _detected("greenhouse", url, board=seg[0])
    return None


def _lever(url: str, host: str, seg: list[str]) -> Detected | None:
    region = {"jobs.lever.co": "global", "jobs.eu.lever.co": "eu", "api.lever.co": "global", "api.eu.lever.co": "eu"}
    if host not in region:
        return None
    if host.startswith("api."):  # /v0/postings/acme[/id]
        if len(seg) >= 3 and seg[0] == "v0" and seg[1] == "postings":
            return _finish_lever(_detected("lever", url, site=seg[2]), region[host])
        return None
    if seg:  # /acme, /acme/<posting id>, /acme/<posting id>/apply
        return _finish_lever(_detected("lever", url, site=seg[0]), region[host])
    return None


def _finish_lever(d: Detected, region: str) -> Detected:
    if region == "global":
        return d
    return Detected(d.kind, d.token, MappingProxyType({**d.options, "region": region}), d.url)


def _ashby(url: str, host: str, seg: list[str]) -> Detected | None:
    if host == "api.ashbyhq.com":  # /posting-api/job-board/acme
        if len(seg) >= 3 and seg[0] == "posting-api" and seg[1] == "job-board":
            return _detected("ashby", url, board=seg[2])
        return None
    if host == "jobs.ashbyhq.com" and seg and seg[0] not in ("api", "embed"):
        # /acme, /acme/<job id>, /acme/<job id>/application, /acme/embed
        return _detected("ashby", url, board=seg[0])
    return None


def _workable(url: str, host: str, seg: list[str]) -> Detected | None:
    if not (host == "workable.com" or host.endswith(".workable.com")):
        return None
    if host in ("apply.workable.com", "www.workable.com", "workable.com"):
        # /api/v1/widget/accounts/acme, /api/v3/accounts/acme/jobs, /api/accounts/acme
        if len(seg) >= 2 and seg[0] == "api" and "accounts" in seg[:-1]:
            return _detected("workable", url, account=seg[seg.index("accounts") + 1])
        # apply.workable.com/acme, /acme/j/ABC123, /acme/jobs/…
        if host == "apply.workable.com" and seg and seg[0] not in _WORKABLE_PATHS:
            return _detected("workable", url, account=seg[0])
        return None
    sub = host.split(".")[0]  # the older acme.workable.com[/j/ABC123]
    if host.count(".") == 2 and sub not in _WORKABLE_RESERVED:
        return _detected("workable", url, account=sub)
    return None


def _smartrecruiters(url: str, host: str, seg: list[str]) -> Detected | None:
    if host == "api.smartrecruiters.com":  # /v1/companies/Acme/postings[/id]
        if len(seg) >= 3 and seg[0] == "v1" and seg[1] == "companies":
            return _detected("smartrecruiters", url, company=seg[2])
        return None
    if host not in ("jobs.smartrecruiters.com", "careers.smartrecruiters.com"):
        return None
    if len(seg) >= 3 and seg[0] == "oneclick-ui" and seg[1] == "company":  # /oneclick-ui/company/Acme/publication/…
        return _detected("smartrecruiters", url, company=seg[2])
    if seg and seg[0] not in _SMARTRECRUITERS_PATHS:  # /Acme, /Acme/743999-engineer
        return _detected("smartrecruiters", url, company=seg[0])
    return None


def _recruitee(url: str, host: str) -> Detected | None:
    # acme.recruitee.com, acme.recruitee.com/o/engineer, acme.recruitee.com/api/offers/
    if host.endswith(".recruitee.com") and host.count(".") == 2:
        sub = host.split(".")[0]
        if sub not in _RECRUITEE_RESERVED:
            return _detected("recruitee", url, company=sub)
    return None


def _workday(url: str, host: str, seg: list[str]) -> Detected | None:
    # acme.wd5.myworkdayjobs.com/[en-US/]External[/job/…], …/wday/cxs/acme/External/jobs
    m = re.fullmatch(r"([a-z0-9][a-z0-9-]*)\.(wd\d+)\.myworkdayjobs\.com", host)
    if m:
        tenant, wd = m.group(1), m.group(2)
        if len(seg) >= 4 and seg[0] == "wday" and seg[1] == "cxs":
            return _detected("workday", url, host=wd, tenant=seg[2], site=seg[3])
        rest = seg[1:] if seg and _LOCALE.match(seg[0]) else seg
        if rest and rest[0] not in ("wday", "job", "details"):
            return _detected("workday", url, host=wd, tenant=tenant, site=rest[0])
        raise DetectError(f"{url}: a Workday URL needs the career site, e.g. https://{host}/en-US/External")
    # wd3.myworkdaysite.com/[en-US/]recruiting/acme/External[/job/…]
    m = re.fullmatch(r"(wd\d+)\.myworkdaysite\.com", host)
    if m:
        rest = seg[1:] if seg and _LOCALE.match(seg[0]) else seg
        if len(rest) >= 3 and rest[0] == "recruiting":
            return _detected("workday", url, host=m.group(1), tenant=rest[1], site=rest[2])
    return None


def detect_url(url: str) -> Detected | None:
    """The ATS board this URL belongs to, from the URL alone; None for any other site (DetectError if bad)."""
    url = check_url(url)
    parts = urlsplit(url)
    host = (parts.hostname or "").lower().rstrip(".")
    seg = _segments(parts.path)
    query = parse_qs(parts.query)
    return (
        _greenhouse(url, host, seg, query)
        or _lever(url, host, seg)
        or _ashby(url, host, seg)
        or _workable(url, host, seg)
        or _smartrecruiters(url, host, seg)
        or _recruitee(url, host)
        or _workday(url, host, seg)
    )


# An ATS URL anywhere in a page: in an href/src, a script, or JSON with escaped slashes.
_EMBEDDED = re.compile(
    r"(?:https?:)?//"
    r"(?:boards\.greenhouse\.io|job-boards\.greenhouse\.io|boards-api\.greenhouse\.io|api\.greenhouse\.io"
    r"|jobs\.(?:eu\.)?lever\.co|api\.(?:eu\.)?lever\.co"
    r"|jobs\.ashbyhq\.com|api\.ashbyhq\.com"
    r"|(?:[a-z0-9-]+\.)?workable\.com"
    r"|(?:jobs|careers|api)\.smartrecruiters\.com"
    r"|[a-z0-9-]+\.recruitee\.com"
    r"|[a-z0-9-]+\.wd\d+\.myworkdayjobs\.com|wd\d+\.myworkdaysite\.com)"
    r"[^\s\"'<>()\\`]*",
    re.IGNORECASE,
)


def find_embedded(page: str) -> Detected | None:
    """The ATS board a company page embeds or links to: the one it mentions most (first seen wins a tie)."""
    text = page.replace("\\/", "/").replace("\\u002F", "/").replace("\\u002f", "/")
    found: list[Detected] = []
    for m in _EMBEDDED.finditer(text):
        raw = html.unescape(m.group(0)).rstrip(".,;")
        candidate = ("https:" + raw) if raw.startswith("//") else raw
        try:
            d = detect_url(candidate)
        except DetectError:
            continue
        if d is not None:
            found.append(d)
    if not found:
        return None
    keys = [(d.kind, tuple(sorted(d.options.items()))) for d in found]
    counts = Counter(keys)
    best = max(counts, key=lambda k: (counts[k], -keys.index(k)))
    pick = found[keys.index(best)]
    others = tuple(dict.fromkeys(f"{d.kind}:{d.token}" for d, k in zip(found, keys, strict=True) if k != best))
    return Detected(pick.kind, pick.token, pick.options, pick.url, True, others)


@dataclass(frozen=True)
class Page:
    url: str  # after redirects
    text: str
    truncated: bool


def fetch_page(url: str, *, timeout_s: float = 15.0, max_bytes: int = MAX_PAGE_BYTES) -> Page:
    """GET a company page, reading at most ``max_bytes`` within one deadline of ``timeout_s`` for the whole
    request (a server that drips bytes is cut off there); DetectError with the reason on any failure."""
    timeout = min(timeout_s, MAX_REQUEST_TIMEOUT_S)
    headers = {"User-Agent": USER_AGENT, "Accept": "text/html,application/xhtml+xml,*/*;q=0.5"}
    late = DetectError(f"{url}: the page did not arrive within {timeout:g} s")
    with deadline_session(timeout) as (session, expired):
        try:
            with session.get(url, headers=headers, timeout=timeout, stream=True, allow_redirects=True) as resp:
                final = resp.url or url
                if not final.lower().startswith(("http://", "https://")):
                    raise DetectError(f"{url}: redirected to a non-http(s) URL")
                if resp.status_code >= 400:
                    raise DetectError(f"{url}: the page answered HTTP {resp.status_code}")
                chunks: list[bytes] = []
                size = 0
                truncated = False
                for chunk in resp.iter_content(64 * 1024):
                    chunks.append(chunk)
                    size += len(chunk)
                    if size >= max_bytes:
                        truncated = True
                        break
                body = b"".join(chunks)[:max_bytes]
                encoding = resp.encoding if "charset" in resp.headers.get("Content-Type", "").lower() else None
        except requests.Timeout as e:
            raise late from e
        except requests.RequestException as e:
            if expired.is_set():
                raise late from e
            reason = str(e.args[0] if e.args else e)[:200]
            raise DetectError(f"{url}: could not fetch the page ({reason})") from e
        if expired.is_set():  # the shut socket can end the body early instead of failing: not a whole page
            raise late
    return Page(final, body.decode(encoding or "utf-8", errors="replace"), truncated)


def detect(
    url: str,
    *,
    timeout_s: float = 15.0,
    max_bytes: int = MAX_PAGE_BYTES,
    fetch: Callable[..., Page] = fetch_page,
) -> Detected:
    """The board of an ATS URL, or of the ATS a company page embeds; DetectError when there is none."""
    found = detect_url(url)
    if found is not None:
        return found
    page = fetch(check_url(url), timeout_s=timeout_s, max_bytes=max_bytes)
    if page.url != url:
        redirected = detect_url(page.url)  # careers.acme.com → jobs.lever.co/acme
        if redirected is not None:
            return Detected(redirected.kind, redirected.token, redirected.options, redirected.url, True)
    found = find_embedded(page.text)
    if found is None:
        read = f"the first {len(page.text):,} characters" if page.truncated else "the page"
        raise DetectError(
            f"{url}: no supported job board found in {read} (supported: {', '.join(TOKEN_OPTIONS)}); "
            "paste the board's own URL, e.g. https://boards.greenhouse.io/acme"
        )
    return found


TEST_FETCH_TIMEOUT_S = 60.0


@dataclass(frozen=True)
class TestFetch:
    jobs: int  # postings the board lists now
    seconds: float
    partial: str | None = None


def source_options(found: Detected, base_url: str | None = None) -> dict[str, Any]:
    """The options a source of this board is written with (``base_url`` points the API elsewhere, e.g. tests)."""
    options = dict(found.options)
    if base_url is not None:
        options["base_url"] = check_url(base_url).rstrip("/")
    return options


def test_fetch(found: Detected, *, base_url: str | None = None, timeout_s: float = TEST_FETCH_TIMEOUT_S) -> TestFetch:
    """Fetch the board once, as the sync would (the source's own timeout); SourceError when it fails."""
    import time

    from core.clock import iso, utcnow
    from core.sources import build, validate_options
    from core.sources.base import FetchContext, SourceConfig

    options = source_options(found, base_url)
    validate_options(found.kind, options, f"{found.kind} source: ")
    config = SourceConfig(f"test-{found.token}", found.kind, timeout_s=timeout_s, options=MappingProxyType(options))
    started = time.perf_counter()
    fetched = build(config).fetch(FetchContext(now_iso=iso(utcnow())))
    return TestFetch(fetched.table.num_rows, time.perf_counter() - started, fetched.partial)


test_fetch.__test__ = False  # type: ignore[attr-defined]  # not a pytest test when imported into one
TestFetch.__test__ = False  # type: ignore[attr-defined]
