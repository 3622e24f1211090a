"""URL canonicalization: the same posting gets the same URL whatever link it was found through.

Lowercase scheme and host, default port and fragment dropped, tracking parameters dropped, the
remaining query parameters sorted. Parameters that identify a job (``gh_jid``, ``jk``, ``id``, …) are
kept: only names known to be tracking are removed.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

import pyarrow as pa
import pyarrow.compute as pc

from core.normalize.text import clean_short, clean_short_column, map_distinct

TRACKING_PARAMS = frozenset(
    {
        "gclid", "gclsrc", "dclid", "fbclid", "msclkid", "yclid", "gbraid", "wbraid", "igshid", "twclid",
        "mc_cid", "mc_eid", "_hsenc", "_hsmi", "hsctatracking", "_ga", "_gl", "mkt_tok",
        "ref", "ref_src", "ref_url", "referrer", "referer", "src", "source", "sourcetype",
        "trk", "trkinfo", "trackingid", "refid", "tracking_id", "campaign", "campaignid",
        "gh_src", "lever-source", "lever-origin", "lever-via", "ashby_src",
    }
)  # fmt: skip
TRACKING_PREFIXES = ("utm_", "pk_", "mtm_", "hsa_")
_DEFAULT_PORTS = {"http": 80, "https": 443}
MAX_URL_CHARS = 2048
# RE2: already canonical (lowercase http(s) host, a path, no query, no fragment, no port).
_CANONICAL_RE2 = r"^https?://[a-z0-9.\-]+/[^?#\s]*$"


def _is_tracking(name: str) -> bool:
    lowered = name.lower()
    return lowered in TRACKING_PARAMS or lowered.startswith(TRACKING_PREFIXES)


def canonical_url(url: str | None) -> str | None:
    """The canonical form of an http(s) URL; any other scheme, a value without a host and one longer than
    ``MAX_URL_CHARS`` become None (a cut URL would be a broken link)."""
    text = clean_short(url)
    if text is None or len(text) > MAX_URL_CHARS:
        return None
    if text.startswith("//"):
        text = "https:" + text
    elif "://" not in text and not text.lower().startswith(("mailto:", "javascript:", "tel:")):
        text = "https://" + text  # "boards.greenhouse.io/acme/jobs/1"
    try:
        parts = urlsplit(text)
        port = parts.port
    except ValueError:
        return None
    scheme = parts.scheme.lower()
    if scheme not in _DEFAULT_PORTS:
        return None  # only http(s) is kept: data:, file:, javascript:, mailto: never become links
    host = (parts.hostname or "").rstrip(".")
    if not host or " " in host:
        return None
    if ":" in host:
        host = f"[{host}]"  # IPv6 literal
    netloc = host if port in (None, _DEFAULT_PORTS[scheme]) else f"{host}:{port}"
    query = [(k, v) for k, v in parse_qsl(parts.query, keep_blank_values=True) if not _is_tracking(k)]
    query.sort()
    return urlunsplit((scheme, netloc, parts.path or "/", urlencode(query), ""))


def canonical_url_column(values: Any) -> Any:
    """A URL column → canonical URLs; already-canonical values skip Python entirely."""
    text = clean_short_column(values)
    if len(text) == 0:
        return text
    canonical = pc.and_(
        pc.match_substring_regex(text, _CANONICAL_RE2), pc.less_equal(pc.utf8_length(text), MAX_URL_CHARS)
    )
    simple = pc.fill_null(canonical, True)
    if pc.all(simple).as_py():
        return text
    needs_work = pc.invert(simple)
    fixed = map_distinct(text.filter(needs_work), canonical_url, pa.string())
    return pc.replace_with_mask(text, needs_work, fixed)
