"""Location strings → city / region / country / is_remote / workplace_type."""

from __future__ import annotations

import pytest

from core.normalize.location import Place, country_code, parse_location, workplace_type

N = None
R, H, S = "remote", "hybrid", "onsite"  # S: on site
# text, city, region, country, is_remote, workplace_type
CASES = [
    ("Remote - US", N, N, "US", True, R),
    ("San Francisco, CA", "San Francisco", "CA", "US", N, N),
    ("London, England, United Kingdom", "London", "England", "GB", N, N),
    ("Hybrid (Berlin)", "Berlin", N, "DE", False, H),
    ("Anywhere", N, N, N, True, R),
    ("Remote", N, N, N, True, R),
    ("New York, NY (Hybrid)", "New York", "NY", "US", False, H),
    ("Berlin, Germany", "Berlin", N, "DE", N, N),
    ("Toronto, ON, Canada", "Toronto", "ON", "CA", N, N),
    ("Bengaluru, Karnataka, India", "Bengaluru", "Karnataka", "IN", N, N),
    ("Remote (EMEA)", N, N, N, True, R),
    ("US-Remote", N, N, "US", True, R),
    ("Paris", "Paris", N, "FR", N, N),
    ("Worldwide", N, N, N, True, R),
    ("San Francisco, CA; New York, NY", "San Francisco", "CA", "US", N, N),
    ("Austin, TX | Remote", "Austin", "TX", "US", True, R),
    ("Seattle, WA / Remote", "Seattle", "WA", "US", True, R),
    ("Berlin, DE", "Berlin", N, "DE", N, N),
    ("Indianapolis, IN", "Indianapolis", "IN", "US", N, N),
    ("Mumbai, IN", "Mumbai", "Maharashtra", "IN", N, N),
    ("Austin, Texas", "Austin", "TX", "US", N, N),
    ("San Francisco, California, United States", "San Francisco", "CA", "US", N, N),
    ("California, USA", N, "CA", "US", N, N),
    ("Remote, United States", N, N, "US", True, R),
    ("United States (Remote)", N, N, "US", True, R),
    ("Remote in Canada", N, N, "CA", True, R),
    ("Remote (US only)", N, N, "US", True, R),
    ("Remote - Germany", N, N, "DE", True, R),
    ("Toronto, ON", "Toronto", "ON", "CA", N, N),
    ("Vancouver, British Columbia", "Vancouver", "BC", "CA", N, N),
    ("Springfield, IL", "Springfield", "IL", "US", N, N),
    ("Seattle, WA, USA", "Seattle", "WA", "US", N, N),
    ("Dublin, Ireland", "Dublin", N, "IE", N, N),
    ("Munich, Bavaria, Germany", "Munich", "Bavaria", "DE", N, N),
    ("Sydney, NSW, Australia", "Sydney", "NSW", "AU", N, N),
    ("On-site - Chicago, IL", "Chicago", "IL", "US", False, S),
    ("Hybrid - London, UK", "London", "England", "GB", False, H),
    ("London", "London", "England", "GB", N, N),
    ("NYC", "New York", "NY", "US", N, N),
    ("Bangalore, Karnataka", "Bangalore", "Karnataka", "IN", N, N),
    ("São Paulo, Brazil", "São Paulo", N, "BR", N, N),
    ("Washington, DC", "Washington", "DC", "US", N, N),
    ("Remote-first, Europe", N, N, N, True, R),
    ("Work from home", N, N, N, True, R),
    ("US", N, N, "US", N, N),
    ("Georgia", N, "GA", "US", N, N),
    ("Smallville", N, N, N, N, N),  # unknown stays unknown: never a made-up city
    ("Multiple Locations", N, N, N, N, N),
    # Never places: directions, offices, travel notes; and codes and capitals read right.
    ("Travel-Required", N, N, N, N, N),
    ("Central", N, N, N, N, N),
    ("Northeast", N, N, N, N, N),
    ("HQ", N, N, N, N, N),
    ("US", N, N, "US", N, N),
    ("Washington, D.C.", "Washington", "DC", "US", N, N),
    ("Washington, D.C. (Hybrid)", "Washington", "DC", "US", False, H),
    ("DL, IN", N, "DL", "IN", N, N),
    ("Saint Louis, MO, USA", "St. Louis", "MO", "US", N, N),
    ("Adelaide, Adelaide, South Australia, Australia", "Adelaide", "South Australia", "AU", N, N),
    ("Gdańsk, Poland", "Gdańsk", N, "PL", N, N),
    ("Remote, Italy", N, N, "IT", True, R),
    ("Pine Bluff", "Pine Bluff", "AR", "US", N, N),
    ("Singapore", "Singapore", N, "SG", N, N),
    ("Seoul, South Korea", "Seoul", N, "KR", N, N),
    ("Springfield, Mars", N, N, N, N, N),  # which Springfield? unknown
    ("", N, N, N, N, N),
]


@pytest.mark.parametrize(
    ("text", "city", "region", "country", "is_remote", "kind"), CASES, ids=[c[0] or "empty" for c in CASES]
)
def test_parse_location(
    text: str, city: str | None, region: str | None, country: str | None, is_remote: bool | None, kind: str | None
) -> None:
    assert parse_location(text) == Place(city, region, country, is_remote, kind)


def test_table_has_at_least_thirty_strings() -> None:
    assert len(CASES) >= 30


def test_none_is_nothing() -> None:
    assert parse_location(None) == Place()


@pytest.mark.parametrize(
    ("text", "code"),
    [("United States", "US"), ("USA", "US"), ("U.S.", "US"), ("uk", "GB"), ("United Kingdom", "GB"), ("DE", "DE"),
     ("Deutschland", "DE"), ("india", "IN"), ("Narnia", None), ("XX", None), (None, None)],
)  # fmt: skip
def test_country_code(text: str | None, code: str | None) -> None:
    assert country_code(text) == code


@pytest.mark.parametrize(
    ("text", "kind"),
    [("Remote", R), ("REMOTE", R), ("hybrid", H), ("ON_SITE", S), ("on-site", S), ("onsite", S), ("In office", S),
     ("office", S), ("unknown", None), (None, None)],
)  # fmt: skip
def test_workplace_type(text: str | None, kind: str | None) -> None:
    assert workplace_type(text) == kind
