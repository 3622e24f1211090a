"""Location strings → city / region / country / is_remote / workplace_type."""

from __future__ import annotations

import pytest

from core.normalize.location import Place, country_code, parse_location, workplace_type

N = None
R, H, S = "remote", "hybrid", "onsite"  # S: on site
# text, city, region, country, is_remote, workplace_type
CASES = [
    ("Remote - US", N, N, "US", True, R),
    ("San Francisco, CA", "San Francisco", "CA", "US", False, S),
    ("London, England, United Kingdom", "London", "England", "GB", False, S),
    ("Hybrid (Berlin)", "Berlin", N, "DE", False, H),
    ("Anywhere", N, N, N, True, R),
    ("Remote", N, N, N, True, R),
    ("New York, NY (Hybrid)", "New York", "NY", "US", False, H),
    ("Berlin, Germany", "Berlin", N, "DE", False, S),
    ("Toronto, ON, Canada", "Toronto", "ON", "CA", False, S),
    ("Bengaluru, Karnataka, India", "Bengaluru", "Karnataka", "IN", False, S),
    ("Remote (EMEA)", N, N, N, True, R),
    ("US-Remote", N, N, "US", True, R),
    ("Paris", "Paris", N, "FR", False, S),
    ("Worldwide", N, N, N, True, R),
    ("San Francisco, CA; New York, NY", "San Francisco", "CA", "US", False, S),
    ("Austin, TX | Remote", "Austin", "TX", "US", True, R),
    ("Seattle, WA / Remote", "Seattle", "WA", "US", True, R),
    ("Berlin, DE", "Berlin", N, "DE", False, S),
    ("Indianapolis, IN", "Indianapolis", "IN", "US", False, S),
    ("Mumbai, IN", "Mumbai", "Maharashtra", "IN", False, S),
    ("Austin, Texas", "Austin", "TX", "US", False, S),
    ("San Francisco, California, United States", "San Francisco", "CA", "US", False, S),
    ("California, USA", N, "CA", "US", N, N),
    ("Remote, United States", N, N, "US", True, R),
    ("United States (Remote)", N, N, "US", True, R),
    ("Remote in Canada", N, N, "CA", True, R),
    ("Remote (US only)", N, N, "US", True, R),
    ("Remote - Germany", N, N, "DE", True, R),
    ("Toronto, ON", "Toronto", "ON", "CA", False, S),
    ("Vancouver, British Columbia", "Vancouver", "BC", "CA", False, S),
    ("Springfield, IL", "Springfield", "IL", "US", False, S),
    ("Seattle, WA, USA", "Seattle", "WA", "US", False, S),
    ("Dublin, Ireland", "Dublin", N, "IE", False, S),
    ("Munich, Bavaria, Germany", "Munich", "Bavaria", "DE", False, S),
    ("Sydney, NSW, Australia", "Sydney", "NSW", "AU", False, S),
    ("On-site - Chicago, IL", "Chicago", "IL", "US", False, S),
    ("Hybrid - London, UK", "London", "England", "GB", False, H),
    ("London", "London", "England", "GB", False, S),
    ("NYC", "New York", "NY", "US", False, S),
    ("Bangalore, Karnataka", "Bangalore", "Karnataka", "IN", False, S),
    ("São Paulo, Brazil", "São Paulo", N, "BR", False, S),
    ("Washington, DC", "Washington", "DC", "US", False, S),
    ("Remote-first, Europe", N, N, N, True, R),
    ("Work from home", N, N, N, True, R),
    ("US", N, N, "US", N, N),
    ("Georgia", N, "GA", "US", N, N),
    ("Smallville", "Smallville", N, N, False, S),
    ("Multiple Locations", N, N, N, N, N),
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
