"""Digests of watch matches, as plain text, sent through apprise (mail, ntfy, Slack, Discord, Telegram, webhooks).

Posting text is attacker-controlled. A digest is plain text everywhere: every destination URL is sent with
``format=text`` (apprise then escapes for services that render HTML), and the posting fields themselves are
flattened to one line with the characters that Markdown, chat mark-up or HTML would act on replaced by
look-alikes, and ``://`` / ``www.`` defanged, so no posting can put a live link, a mention or mark-up in a
chat. The only link in a digest line is the job's own URL, and only when it is http(s).
"""

from __future__ import annotations

import logging
import re
import time
import unicodedata
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

log = logging.getLogger(__name__)

DIGEST_CAP = 20  # matches listed per digest; the rest are "and N more"
FIELD_CHARS = 160  # a posting field is cut to this many characters
RETRIES = 3  # attempts per destination per run (then the next run retries)
BACKOFF_S = 0.5  # wait before the 2nd attempt; doubles after

# What Markdown, Slack/Discord/Telegram mark-up or HTML act on, mapped to characters that look alike but do not.
_NEUTRAL = str.maketrans(
    {
        "<": "‹",
        ">": "›",
        "[": "⁅",
        "]": "⁆",
        "*": "∗",
        "_": "＿",
        "`": "ˋ",
        "~": "∼",
        "|": "│",
        "#": "＃",
        "@": "＠",
        "&": "＆",
        "\\": "∖",
        "!": "ǃ",
        "=": "＝",
    }
)
_SPACE = re.compile(r"\s+")


def plain(value: object, limit: int = FIELD_CHARS) -> str:
    """One line of inert text from a posting field: control characters dropped, whitespace collapsed,
    mark-up characters replaced by look-alikes, URLs defanged, cut to ``limit`` characters."""
    if value is None:
        return ""
    text = "".join(ch if unicodedata.category(ch)[0] != "C" else " " for ch in str(value))
    text = _SPACE.sub(" ", text).strip().translate(_NEUTRAL)
    text = re.sub(r"(?i)://", ":⁄⁄", text)
    text = re.sub(r"(?i)\bwww\.", "www․", text)
    if len(text) > limit:
        text = text[: limit - 1].rstrip() + "…"
    return text


def safe_link(url: object) -> str | None:
    """The URL if it is http(s) with a host and no whitespace or control characters; else None."""
    if not isinstance(url, str) or not url or len(url) > 2000:
        return None
    if any(ch.isspace() or unicodedata.category(ch)[0] == "C" for ch in url):
        return None
    try:
        parts = urlsplit(url)
    except ValueError:
        return None
    if parts.scheme.lower() not in ("http", "https") or not parts.hostname:
        return None
    return url.replace("<", "%3C").replace(">", "%3E").replace("[", "%5B").replace("]", "%5D").replace("|", "%7C")


def _salary(job: Mapping[str, Any]) -> str:
    text = plain(job.get("salary_text"), 80)
    if text:
        return text
    lo, hi, cur = job.get("salary_annual_min"), job.get("salary_annual_max"), job.get("salary_currency") or ""
    if lo is None and hi is None:
        return ""
    if lo is not None and hi is not None and lo != hi:
        amount = f"{float(lo):,.0f}–{float(hi):,.0f}"
    else:
        amount = f"{float(lo if lo is not None else hi or 0):,.0f}"
    return plain(f"{amount} {cur}/year".strip(), 80)


def digest_line(job: Mapping[str, Any]) -> str:
    """``Title — Company — Location — Salary`` then the link (or "no link") on the next line."""
    parts = [plain(job.get("title")) or "(untitled)", plain(job.get("company")), plain(job.get("location"))]
    salary = _salary(job)
    if salary:
        parts.append(salary)
    head = " — ".join(p for p in parts if p)
    link = safe_link(job.get("url")) or safe_link(job.get("apply_url"))
    return f"• {head}\n  {link or '(no http link)'}"


@dataclass(frozen=True)
class Digest:
    title: str
    body: str
    listed: int  # matches listed
    more: int  # matches left out ("and N more")


def build_digest(
    watch_name: str, jobs: Sequence[Mapping[str, Any]], cap: int = DIGEST_CAP, *, total: int | None = None
) -> Digest:
    """One digest for one watch: a title with the count, one entry per match up to ``cap``, "and N more".

    ``total`` is the number of matches when ``jobs`` holds only some of them (the rest count as "more")."""
    n = max(len(jobs), total or 0)
    name = plain(watch_name, 80)
    title = f"jobdash · {name}: {n} new match{'es' if n != 1 else ''}"
    shown = list(jobs[:cap])
    lines = [f"{n} new job{'s' if n != 1 else ''} match your watch “{name}”.", ""]
    lines += [digest_line(j) for j in shown]
    more = n - len(shown)
    if more > 0:
        lines += ["", f"… and {more} more — open jobdash to see them all."]
    return Digest(title, "\n".join(lines), len(shown), more)


def with_text_format(url: str) -> str:
    """The destination URL with ``format=text`` (apprise sends the body as plain text, escaping as needed)."""
    if re.search(r"[?&]format=", url):
        return re.sub(r"([?&])format=[^&]*", r"\1format=text", url)
    return url + ("&" if "?" in url else "?") + "format=text"


def redact(url: str) -> str:
    """A destination as it may be shown or logged: scheme and host, no credentials, tokens or query."""
    try:
        parts = urlsplit(url)
        host = parts.hostname or ""
        port = f":{parts.port}" if parts.port else ""
    except ValueError:
        return "<unparsable URL>"
    return f"{parts.scheme}://{host}{port}" if parts.scheme else "<not a URL>"


def check_destination(url: object) -> str:
    """Raise ValueError unless apprise knows the URL's service; returns the URL stripped."""
    import apprise

    if not isinstance(url, str) or not url.strip():
        raise ValueError("a destination must be an apprise URL such as mailto://… or json://…")
    url = url.strip()
    if apprise.Apprise.instantiate(url) is None:
        raise ValueError(f"not an apprise URL apprise can use: {redact(url)}")
    return url


@dataclass(frozen=True)
class Sent:
    destination: str  # as given
    ok: bool
    attempts: int
    reason: str | None  # why it failed (apprise's own warnings), None when it was sent


def send(
    url: str,
    digest: Digest,
    *,
    retries: int = RETRIES,
    backoff_s: float = BACKOFF_S,
    sleep: Callable[[float], None] = time.sleep,
) -> Sent:
    """Send one digest to one destination, with ``retries`` attempts; never raises."""
    import apprise

    reason: str | None = None
    attempts = 0
    for attempts in range(1, max(1, retries) + 1):
        try:
            app = apprise.Apprise()
            with apprise.LogCapture(level=logging.WARNING, fmt="%(message)s") as captured:  # type: ignore[no-untyped-call]
                if not app.add(with_text_format(url)):
                    return Sent(url, False, attempts, f"not a usable apprise URL: {redact(url)}")
                ok = app.notify(title=digest.title, body=digest.body, body_format=apprise.NotifyFormat.TEXT)
            if ok:
                return Sent(url, True, attempts, None)
            logged = captured.getvalue().strip().splitlines()  # type: ignore[attr-defined]
            reason = "; ".join(line.strip() for line in logged[-3:]) or "the service refused the notification"
        except Exception as e:  # a plugin bug must not take the sync's caller down
            reason = f"{type(e).__name__}: {e}"
        if attempts < retries:
            sleep(backoff_s * 2 ** (attempts - 1))
    log.warning("notification to %s failed after %d attempt(s): %s", redact(url), attempts, reason)
    return Sent(url, False, attempts, (reason or "failed")[:500])
