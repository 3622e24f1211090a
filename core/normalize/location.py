"""Location text → city / region / country (ISO-3166 alpha-2) / is_remote / workplace_type.

"San Francisco, CA", "London, England, United Kingdom", "Remote - US", "Hybrid (Berlin)",
"New York, NY (Hybrid)", "Remote (EMEA)", "Worldwide". Several locations ("A; B", "A | B", "A / B")
→ the first that names a place; the workplace words of the whole text count. A place with no
remote/hybrid word is taken as on-site (a bare country or state is left unknown). Country comes from the text, else from the city table.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache

from core.normalize.places import (
    CA_PROVINCE_NAMES,
    CA_PROVINCES,
    CITIES,
    COUNTRIES,
    COUNTRY_CODES,
    US_STATE_NAMES,
    US_STATES,
    ZONES,
)


@dataclass(frozen=True)
class Place:
    city: str | None = None
    region: str | None = None
    country: str | None = None
    is_remote: bool | None = None
    workplace_type: str | None = None


_REMOTE = re.compile(
    r"\b(?:remote|remotely|anywhere|worldwide|work\s+from\s+home|wfh|distributed|telecommute|home[- ]based)\b",
    re.I,
)
_HYBRID = re.compile(r"\bhybrid\b", re.I)
_ONSITE = re.compile(r"\b(?:on[- ]?site|in[- ]office|office[- ]based|in[- ]person)\b", re.I)
_WORKPLACE_WORDS = re.compile(
    r"\b(?:fully|100%|remote|remotely|hybrid|on[- ]?site|in[- ]office|office[- ]based|in[- ]person|"
    r"work\s+from\s+home|wfh|distributed|telecommute|home[- ]based|first|friendly|optional|ok|only|"
    r"based|flexible|position|role|job)\b|100%",
    re.I,
)
_SEGMENTS = re.compile(r"\s*(?:;|\||\n|\s/\s|\s+or\s+|\s+and\s+)\s*", re.I)
_SEPARATORS = re.compile(r"[()\[\]{}/]|\s[-–—:·•]\s|\s[-–—]|[-–—]\s|^[-–—]|[-–—]$")
_LEADING_PREPOSITION = re.compile(r"^(?:in|from|within|across|based\s+in)\s+(?=\S)", re.I)  # "Remote in Canada"
_NOT_A_PLACE = frozenset(
    {"multiple locations", "various locations", "various", "multiple", "tbd", "n/a", "na", "none", "unknown",
     "see description", "location", "locations", "other", "and", "or"}
)  # fmt: skip


def country_code(text: str | None) -> str | None:
    """'United States' / 'USA' / 'uk' / 'DE' → ISO alpha-2; unknown → None."""
    if text is None:
        return None
    key = text.strip().lower().rstrip(".")
    if key in COUNTRIES:
        return COUNTRIES[key]
    if key + "." in COUNTRIES:
        return COUNTRIES[key + "."]
    upper = key.upper()
    return upper if len(upper) == 2 and upper in COUNTRY_CODES else None


def workplace_type(text: str | None) -> str | None:
    """'Remote' / 'ON_SITE' / 'in office' / 'Hybrid' → remote | hybrid | onsite; unknown → None."""
    if text is None:
        return None
    cleaned = text.replace("_", " ")
    if _HYBRID.search(cleaned):
        return "hybrid"
    if _REMOTE.search(cleaned):
        return "remote"
    if _ONSITE.search(cleaned) or cleaned.strip().lower() in {"office", "onsite", "on site", "in office"}:
        return "onsite"
    return None


@lru_cache(maxsize=65_536)
def parse_location(text: str | None) -> Place:
    """One location string → Place (all None when nothing is recognized)."""
    if text is None or not text.strip():
        return Place()
    kind = workplace_type(text)
    city = region = country = None
    for segment in _SEGMENTS.split(text):
        parts = _place_parts(segment)
        if parts:
            city, region, country = _resolve(parts)
            break
    if kind is None and city:
        kind = "onsite"  # a city and no remote/hybrid word; a bare country or state says nothing
    is_remote = None if kind is None else kind == "remote"
    return Place(city, region, country, is_remote, kind)


def _place_parts(segment: str) -> list[str]:
    """'Remote - US' → ['US']; 'New York, NY (Hybrid)' → ['New York', 'NY']."""
    stripped = _WORKPLACE_WORDS.sub(" ", segment)
    stripped = _SEPARATORS.sub(",", stripped)
    parts = []
    for part in stripped.split(","):
        part = _LEADING_PREPOSITION.sub("", " ".join(part.split()).strip(" -–—:·•."))
        if part and part.lower() not in _NOT_A_PLACE and part.lower() not in ZONES:
            parts.append(part)
    return parts


def _state(part: str, country: str) -> str | None:
    """The region code of ``part`` when it is a US state (country US) or Canadian province (CA)."""
    codes, names = (US_STATES, US_STATE_NAMES) if country == "US" else (CA_PROVINCES, CA_PROVINCE_NAMES)
    upper = part.upper()
    if upper in codes and (len(part) == 2 and (part.isupper() or country == "US")):
        return upper
    return names.get(part.lower())


def _resolve(parts: list[str]) -> tuple[str | None, str | None, str | None]:
    first, last = parts[0], parts[-1]
    known_city = CITIES.get(first.lower())
    if len(parts) == 1:
        return _resolve_single(first)
    # "City, XX": a known city settles ambiguous codes (Berlin, DE is Germany; Austin, TX is Texas).
    if known_city and last.upper() in (known_city[2], known_city[1]):
        return known_city[0], known_city[1], known_city[2]
    country = country_code(last) if not _is_state_code(last) or len(parts) > 2 else None
    if country is not None:
        middle = parts[1] if len(parts) > 2 else None
        if len(parts) == 2 and country in ("US", "CA") and _state(first, country):
            return None, _state(first, country), country  # "California, USA"
        region = _region(middle, country) if middle else _table_region(known_city, country)
        return (known_city[0] if known_city else first), region, country
    for country in ("US", "CA"):
        code = _state(last, country)
        if code:
            return (known_city[0] if known_city else first), code, country
    # Unknown tail: "Bangalore, Karnataka" — the city table may still know the country.
    if known_city:
        return known_city[0], last, known_city[2]
    return first, last, None


def _resolve_single(part: str) -> tuple[str | None, str | None, str | None]:
    known_city = CITIES.get(part.lower())
    if known_city:
        return known_city
    country = country_code(part)
    if country:
        return None, None, country
    for country in ("US", "CA"):
        code = _state(part, country)
        if code and (len(part) > 2 or part.isupper()):
            return None, code, country
    return part, None, None


def _is_state_code(part: str) -> bool:
    return len(part) == 2 and part.isupper() and (part in US_STATES or part in CA_PROVINCES)


def _region(part: str, country: str) -> str:
    if country in ("US", "CA"):
        return _state(part, country) or part
    return part


def _table_region(known_city: tuple[str, str | None, str] | None, country: str) -> str | None:
    return known_city[1] if known_city and known_city[2] == country else None
