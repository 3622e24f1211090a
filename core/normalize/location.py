"""Location text → city / region / country (ISO-3166 alpha-2) / is_remote / workplace_type.

"San Francisco, CA", "London, England, United Kingdom", "Remote - US", "Hybrid (Berlin)",
"New York, NY (Hybrid)", "Remote (EMEA)", "Washington, D.C.". Several locations ("A; B", "A | B",
"A / B") → the first that names a place; the workplace words of the whole text count.

Places come from the gazetteer (core.normalize.places): a city is a city only when GeoNames (or our
alias table) knows it — consistent with the region and country the text names — a region only when
it is a subdivision of that country. Anything else stays unknown: "Travel-Required", "Central",
"HQ" are never cities. A city alone says nothing about the workplace (no "onsite" is inferred), and
the source's own workplace field always wins over these words (see records._location_columns).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache

from core.normalize.places import (
    ALPHA3,
    CA_PROVINCE_NAMES,
    CA_PROVINCES,
    CITIES,
    COUNTRY_CODES,
    NOT_PLACES,
    US_STATE_NAMES,
    US_STATES,
    ZONES,
    City,
    cities,
    countries,
    fold,
    subdivisions,
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
    """'United States' / 'USA' / 'uk' / 'DE' / 'DEU' → ISO alpha-2; unknown → None."""
    if text is None:
        return None
    stripped = text.strip()
    key = stripped.lower().rstrip(".")
    table = countries()
    for candidate in (key, key + ".", fold(key)):
        if candidate in table:
            return table[candidate]
    upper = key.upper()
    if len(upper) == 2 and upper in COUNTRY_CODES:
        return "GB" if upper == "UK" else upper
    if len(stripped) == 3 and stripped.isupper():
        return ALPHA3.get(stripped)
    return None


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
            if city or region or country:
                break
    is_remote = None if kind is None else kind == "remote"
    return Place(city, region, country, is_remote, kind)


def _place_parts(segment: str) -> list[str]:
    """'Remote - US' → ['US']; 'New York, NY (Hybrid)' → ['New York', 'NY']."""
    stripped = _WORKPLACE_WORDS.sub(" ", segment)
    stripped = _SEPARATORS.sub(",", stripped)
    parts = []
    for part in stripped.split(","):
        part = _LEADING_PREPOSITION.sub("", " ".join(part.split()).strip(" -–—:·•"))
        part = part.rstrip(".") if not part.lower().endswith("d.c.") else part
        lowered = part.lower()
        if part and lowered not in _NOT_A_PLACE and lowered not in ZONES and lowered not in NOT_PLACES:
            parts.append(part)
    return parts


def _state(part: str, country: str) -> str | None:
    """The region code of ``part`` when it is a US state (country US) or Canadian province (CA)."""
    codes, names = (US_STATES, US_STATE_NAMES) if country == "US" else (CA_PROVINCES, CA_PROVINCE_NAMES)
    compact = part.replace(".", "").replace(" ", "")
    upper = compact.upper()
    if len(compact) == 2 and upper in codes and (compact.isupper() or country == "US"):
        return upper
    return names.get(part.lower())


def _region(part: str, country: str) -> str | None:
    """A known subdivision of ``country``: US/CA as their codes, others by name; else None."""
    if country in ("US", "CA"):
        return _state(part, country)
    table = subdivisions(country)
    return part if (part.lower() in table or fold(part) in table) else None  # as the board wrote it


def _city(part: str, country: str | None, region: str | None) -> City | None:
    """The gazetteer's city of that name (the largest one consistent with the country and region)."""
    candidates = cities().get(part.lower()) or cities().get(fold(part))
    if not candidates:
        return None
    for city, _ in candidates:
        if country and city[2] != country:
            continue
        if region and city[1] and city[1] != region:
            continue
        return city
    return None


def _is_state_code(part: str) -> bool:
    compact = part.replace(".", "")
    return len(compact) == 2 and compact.isupper() and (compact in US_STATES or compact in CA_PROVINCES)


def _resolve(parts: list[str]) -> tuple[str | None, str | None, str | None]:
    if len(parts) == 1:
        return _resolve_single(parts[0])
    first, last, middle = parts[0], parts[-1], parts[1:-1]
    # "City, XX": a state code settles it ("Austin, TX"), unless the city is only known elsewhere ("Berlin, DE").
    country = None if (_is_state_code(last) and len(parts) == 2) else country_code(last)
    if country is None and _is_state_code(last) and _city(first, "US", _state(last, "US")) is None:
        country = country_code(last)  # "DL, IN" is Delhi, India; "Berlin, DE" is Germany
        if country is not None and _city(first, country, None) is None and _region(first, country) is None:
            country = None
    if country is not None:
        region = next((r for r in (_region(m, country) for m in middle) if r), None)
        if not middle and country in ("US", "CA") and _state(first, country):
            return None, _state(first, country), country  # "California, USA"
        if not middle and _region(first, country) and _city(first, country, None) is None:
            return None, _region(first, country), country  # "Bavaria, Germany"
        city = _city(first, country, region)
        if city is None:
            return None, region, country
        if region is None and len(middle) == 1 and country not in ("US", "CA"):
            region = middle[0]  # "Munich, Bavaria, Germany": between a known city and its country
        return city[0], region or city[1], country
    for country in ("US", "CA"):
        code = _state(last, country)
        if code:
            city = _city(first, country, code)
            return (city[0] if city else None), code, country
    # "Bangalore, Karnataka": the city says the country, the tail must be one of its regions.
    for city, _ in cities().get(first.lower()) or cities().get(fold(first)) or ():
        region = _region(last, city[2])
        if region:
            return city[0], region, city[2]
    candidates = cities().get(first.lower()) or ()
    if len(candidates) == 1:  # an unknown tail: only a city of a unique name still says where
        city = candidates[0][0]
        return city[0], None, city[2]
    return None, None, None


def _resolve_single(part: str) -> tuple[str | None, str | None, str | None]:
    if part.lower() in CITIES:
        return CITIES[part.lower()]  # "NYC", "New York", "London": the reading boards mean
    if len(part) > 2 and part.lower() in US_STATE_NAMES:
        return None, US_STATE_NAMES[part.lower()], "US"  # "Georgia", "Washington": the state
    country = country_code(part)
    city = _city(part, None, None)
    if country and (city is None or city[2] != country):
        return None, None, country  # "US", "Canada" (not Canada, Kentucky); city-states keep their city
    if city is not None:
        return city
    for country in ("US", "CA"):
        code = _state(part, country)
        if code and (len(part) > 2 or part.isupper()):
            return None, code, country
    return None, None, None
