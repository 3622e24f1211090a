"""Employment type and seniority onto the registry's vocabularies (schema.EMPLOYMENT_TYPES, SENIORITIES)."""

from __future__ import annotations

import re
from functools import lru_cache

# Checked in order; the first pattern found anywhere in the text wins ("Full-time, Contract" → full_time).
_EMPLOYMENT: tuple[tuple[str, re.Pattern[str]], ...] = (
    (
        "internship",
        re.compile(r"\b(?:intern|interns|internship|co-?op|working\s+student|werkstudent|praktikum|stage)\b"),
    ),
    ("part_time", re.compile(r"\bpart\s*time\b|\bparttime\b|\bteilzeit\b")),
    (
        "full_time",
        re.compile(r"\bfull\s*time\b|\bfulltime\b|\bpermanent\b|\bregular\b|\bvollzeit\b|\bcdi\b|\bsalaried\b"),
    ),
    (
        "contract",
        re.compile(r"\b(?:contract|contractor|contract\s+to\s+hire|freelance|freelancer|c2c|1099|consultant|b2b)\b"),
    ),
    ("temporary", re.compile(r"\b(?:temporary|temp|seasonal|fixed\s+term|cdd|befristet)\b")),
)

# Title → seniority, most specific first ("Senior Engineering Manager" is a manager, "Staff" beats "Senior").
_TITLE_LEVELS: tuple[tuple[str, re.Pattern[str]], ...] = (
    ("intern", re.compile(r"\b(?:intern|internship|co-?op|werkstudent|working\s+student|praktikant)\b")),
    (
        "executive",
        re.compile(r"\b(?:chief|c-level|(?<!vice\s)president|founder|co-founder|managing\s+director)\b"),
    ),
    ("director", re.compile(r"\b(?:director|vp|v\.p\.|vice\s+president|svp|evp)\b")),
    ("principal", re.compile(r"\b(?:principal|distinguished|fellow)\b")),
    ("staff", re.compile(r"\bstaff\b")),
    ("manager", re.compile(r"\b(?:head\s+of|head|manager|mgr|supervisor)\b")),
    ("lead", re.compile(r"\b(?:lead|leader|team\s+lead|tech\s+lead)\b")),
    ("senior", re.compile(r"\b(?:senior|sr|snr|iii|iv|level\s+(?:3|4)|l[56])\b")),
    (
        "junior",
        re.compile(
            r"\b(?:junior|jr|entry[\s-]level|graduate|new\s+grad|trainee|apprentice|associate\s+engineer|i|level\s+1|l[12])\b"
        ),
    ),
)
# C-level acronyms count only as the title's head, in capitals ("CTO", "CFO, Europe", "CEO - Acme"): inside
# a title they name other things ("Clinical Research Associate (CRO)", "CMO Quality Lead" in pharma).
_C_LEVEL_HEAD = re.compile(r"^\s*(?:CEO|CTO|CFO|COO|CIO|CPO|CMO|CSO|CISO|CRO)\s*(?:$|[,\-–—|:/(])")
# Manager in these titles names an individual contributor's job, not a people manager.
_IC_MANAGER = re.compile(
    r"\b(?:product|project|program|programme|account|case|community|customer\s+success|success|marketing|content)\s+manager\b"
)

# Source-supplied levels (LinkedIn/JobSpy/Ashby wording) that map directly.
_RAW_LEVELS: dict[str, str] = {
    "internship": "intern", "intern": "intern", "entry": "junior", "junior": "junior",
    "associate": "junior", "graduate": "junior", "mid": "mid", "intermediate": "mid",
    "experienced": "mid", "senior": "senior", "staff": "staff", "principal": "principal", "lead": "lead",
    "manager": "manager", "management": "manager", "director": "director", "executive": "executive",
    "vp": "director", "c": "executive",
}  # fmt: skip


@lru_cache(maxsize=4096)
def employment_type(text: str | None) -> str | None:
    """'Full-time' / 'FULL_TIME' / 'Contractor' / 'Intern' → schema.EMPLOYMENT_TYPES; unknown → None."""
    if text is None:
        return None
    lowered = re.sub(r"[_\-]+", " ", text.lower())
    best: tuple[int, str] | None = None
    for kind, pattern in _EMPLOYMENT:
        m = pattern.search(lowered)
        if m and (best is None or m.start() < best[0]):
            best = (m.start(), kind)
    return best[1] if best else None


@lru_cache(maxsize=65_536)
def seniority_from_title(title: str | None) -> str | None:
    """A title → schema.SENIORITIES; a title naming no level is "mid"."""
    if title is None:
        return None
    if _C_LEVEL_HEAD.match(title):
        return "executive"
    lowered = title.lower()
    for level, pattern in _TITLE_LEVELS:
        if level == "manager" and _IC_MANAGER.search(lowered) and not re.search(r"\bhead\b", lowered):
            continue
        if pattern.search(lowered):
            return level
    return "mid"


@lru_cache(maxsize=4096)
def seniority_from_raw(text: str | None) -> str | None:
    """A source's own level ("Mid-Senior level", "Entry level") → SENIORITIES; unknown or vague → None."""
    if text is None:
        return None
    key = re.sub(r"[_\-]+", " ", text.lower()).replace(" level", "").strip()
    key = " ".join(key.split())
    if key in _RAW_LEVELS:
        return _RAW_LEVELS[key]
    if key in ("", "mid senior", "not applicable", "n/a"):
        return None  # LinkedIn's "Mid-Senior level" covers both: let the title decide
    level = seniority_from_title(key)
    return None if level == "mid" else level
