"""Salary: structured fields or free text → min / max / ISO currency / period, plus annualized figures.

Structured fields (``salary_min``/``salary_max`` from the source) win and give
``salary_source="structured"``; otherwise ``salary_text`` is parsed (``"text"``); nothing usable →
nulls. Text is understood as: amounts with thousands separators in any convention ("120,000",
"4.500", "60 000", "100'000", Indian "12,00,000"), ``k``/``M``/lakh/crore multipliers (shared across a
range: "100-120K"), ranges joined by -, –, —, "to", "and", "bis", "Up to X" (max only), "From X"
(min only), currency symbols or ISO codes, and period words in English, German and French.

When no period is given it is inferred from the largest amount: below 500 → hour, below 20,000 →
month, otherwise year. Annualizing multiplies by ``ANNUAL_FACTORS``.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache
from typing import Any, NamedTuple

import pyarrow as pa
import pyarrow.compute as pc

from core.normalize.text import as_array, clean_short_column, map_distinct, map_distinct_many

ANNUAL_FACTORS: dict[str, float] = {"hour": 2080.0, "day": 260.0, "week": 52.0, "month": 12.0, "year": 1.0}
HOURLY_BELOW = 500.0
MONTHLY_BELOW = 20_000.0
MIN_PLAIN_AMOUNT = 5.0  # a salary text whose largest amount is a bare "3" names a band, not money

CURRENCY_CODES = frozenset(
    "USD EUR GBP CAD AUD NZD INR CHF JPY CNY SGD HKD SEK NOK DKK PLN CZK HUF RON BGN BRL MXN ARS CLP COP "
    "ZAR ILS AED SAR TRY KRW PHP IDR MYR THB VND NGN KES EGP PKR BDT UAH".split()
)
# Symbols, longest first so "CA$" is not read as "$".
_SYMBOLS: dict[str, str] = {
    "CA$": "CAD", "C$": "CAD", "AU$": "AUD", "A$": "AUD", "NZ$": "NZD", "US$": "USD", "HK$": "HKD",
    "SG$": "SGD", "S$": "SGD", "R$": "BRL", "MX$": "MXN", "$": "USD", "£": "GBP", "€": "EUR", "₹": "INR",
    "¥": "JPY", "₩": "KRW", "₪": "ILS", "₱": "PHP", "₺": "TRY", "zł": "PLN", "Rs.": "INR", "Rs": "INR",
    "CHF": "CHF", "Fr.": "CHF",
}  # fmt: skip
_CURRENCY_WORDS: dict[str, str] = {
    "dollar": "USD", "dollars": "USD", "euro": "EUR", "euros": "EUR", "pound": "GBP", "pounds": "GBP",
    "sterling": "GBP", "rupee": "INR", "rupees": "INR", "yen": "JPY",
}  # fmt: skip
_LOWERCASE_CODES = ("USD", "EUR", "GBP", "CAD", "AUD", "INR", "CHF", "JPY", "SGD")  # other codes only in capitals
_CURRENCY = re.compile(
    r"(?P<symbol>"
    + "|".join(("(?<![A-Za-z])" if s[0].isalpha() else "") + re.escape(s) for s in _SYMBOLS)
    + r")|(?<![A-Za-z])(?P<code>"
    + "|".join(sorted(CURRENCY_CODES) + [c.lower() for c in _LOWERCASE_CODES])
    + r")(?![A-Za-z])|\b(?P<word>(?i:"
    + "|".join(_CURRENCY_WORDS)
    + r"))\b"
)
_MULTIPLIERS: dict[str, float] = {
    "k": 1e3, "thousand": 1e3, "m": 1e6, "mn": 1e6, "mm": 1e6, "million": 1e6, "millions": 1e6,
    "l": 1e5, "lakh": 1e5, "lakhs": 1e5, "lac": 1e5, "lacs": 1e5, "lpa": 1e5, "cr": 1e7, "crore": 1e7,
    "crores": 1e7,
}  # fmt: skip
_INDIAN_MULTIPLIERS = frozenset({"l", "lakh", "lakhs", "lac", "lacs", "lpa", "cr", "crore", "crores"})
_AMOUNT = re.compile(
    r"(?P<num>\d+(?:(?:[.,']|[ \u00a0\u202f](?=\d{3}(?!\d)))\d+)*)"
    r"(?:\s?(?P<mult>(?i:thousand|millions|million|lakhs|lakh|lacs|lac|lpa|crores|crore|cr|mn|mm|k|m|l))(?![A-Za-z]))?"
    r"(?P<plus>\+)?"
    r"(?P<pct>\s*%)?"
)
_NOT_SALARY = re.compile(r"\b401\s*\(?k\)?", re.I)  # the US retirement plan, not 401 thousand
# A requisition or posting number is not money: "Req #2024-5567", "Job ID 12345", "Ref: 88-231".
_IDENTIFIER = re.compile(
    r"(?:#|\b(?:req(?:uisition)?|job|ref(?:erence)?|posting|vacancy|id|no|number|code)\b\.?"
    r"(?:\s*(?:id|no|number|#)\b\.?)?\s*[:#]?)\s*(?=[\w./-]*\d)[\w./-]+",
    re.I,
)
_RANGE_JOINER = re.compile(r"\s*(?:-|–|—|‒|−|~|to|and|bis|à|a|until|through)?\s*", re.I)
_UP_TO = re.compile(r"\b(?:up\s*to|upto|max(?:imum)?|bis\s+zu|jusqu'à|under|less\s+than|no\s+more\s+than)\W*$", re.I)
_FROM = re.compile(
    r"\b(?:from|starting(?:\s+(?:at|from))?|min(?:imum)?|at\s+least|ab|à\s+partir\s+de|over|more\s+than)\W*$", re.I
)
_PERIOD_WORDS: dict[str, str] = {
    **dict.fromkeys(["hour", "hours", "hourly", "hr", "hrs", "ph", "stunde", "stunden", "stündlich", "std", "heure",
                     "hora"], "hour"),
    **dict.fromkeys(["day", "days", "daily", "diem", "tag", "tagessatz", "täglich", "jour", "journalier", "día"], "day"),
    **dict.fromkeys(["week", "weeks", "weekly", "wk", "woche", "wöchentlich", "semaine"], "week"),
    **dict.fromkeys(["month", "months", "monthly", "mo", "mth", "mnth", "pcm", "monat", "monatlich", "mois", "mensuel",
                     "mes", "mensual"], "month"),
    **dict.fromkeys(["year", "years", "yearly", "yr", "yrs", "annum", "annual", "annually", "annualized", "anual",
                     "jahr", "jährlich", "année", "annuel", "año", "lpa", "ctc", "pa"], "year"),
}  # fmt: skip
_SLASH_PERIODS = {"h": "hour", "d": "day", "w": "week", "m": "month", "y": "year"}  # "/h", "/m"
_WORD = re.compile(r"(/\s*)?([^\W\d_]+)")
_DOTTED = re.compile(r"\b([ph])\.\s?([ah])\.?")  # "p.a.", "p.h."


@dataclass(frozen=True)
class Salary:
    min: float | None = None
    max: float | None = None
    currency: str | None = None
    period: str | None = None  # explicit or inferred; None only when there is no amount
    period_explicit: bool = False


class _Token(NamedTuple):
    """A number found in a salary text's shape (its digits all replaced by 9)."""

    num_start: int
    num_end: int
    mult: str
    end: int
    plus: bool
    may_be_year: bool  # four plain digits with no currency before them


class _Amount(NamedTuple):  # a tuple: built per number, so it should be cheap
    value: float
    base: float  # as written, before the multiplier
    mult: str
    start: int
    end: int
    plus: bool
    year_like: bool


_GROUP_SPACES = dict.fromkeys(map(ord, " '\u00a0\u202f"))
_DIGITS_TO_NINE = str.maketrans("012345678", "999999999")


def _number(digits: str) -> float:
    """'120,000' / '4.500' / '12,00,000' / '1.2' / '25,50' → float, whichever separator convention."""
    digits = digits.translate(_GROUP_SPACES)
    if "," in digits and "." in digits:
        decimal = "," if digits.rfind(",") > digits.rfind(".") else "."
        thousands = "." if decimal == "," else ","
        return float(digits.replace(thousands, "").replace(decimal, "."))
    for sep in (",", "."):
        if sep in digits:
            head, *tail = digits.split(sep)
            if len(tail) > 1 or len(tail[0]) == 3:
                return float(head + "".join(tail))  # thousands separators
            return float(f"{head}.{tail[0]}")  # a decimal point or comma
    return float(digits)


@lru_cache(maxsize=8192)
def _tokens(shape: str) -> tuple[_Token, ...]:
    """Where the numbers are. Only the shape matters, so texts differing in digits share the work."""
    found = []
    for m in _AMOUNT.finditer(shape):
        if m.group("pct"):
            continue
        start = m.start()
        if start and shape[start - 1] in ".,":
            continue  # the tail of "1.5.3" or similar, not a number of its own
        if start and shape[start - 1].isalpha():
            word = re.search(r"[A-Za-z]+$", shape[:start])
            if word is None or (word.group().upper() not in CURRENCY_CODES and word.group() != "Rs"):
                continue  # "Q3", "H1B": a digit glued to a word
        mult = (m.group("mult") or "").lower()
        num = m.group("num")
        may_be_year = not mult and len(num) == 4 and num.isdigit() and not _after_currency(shape, start)
        found.append(_Token(start, m.end("num"), mult, m.end(), bool(m.group("plus")), may_be_year))
    return tuple(found)


def _amounts(text: str, shape: str) -> list[_Amount]:
    found = []
    for t in _tokens(shape):
        digits = text[t.num_start : t.num_end]
        try:
            base = _number(digits)
        except ValueError:
            continue
        value = base * _MULTIPLIERS[t.mult] if t.mult else base
        if value <= 0:
            continue
        year_like = t.may_be_year and digits[:2] in ("19", "20")
        found.append(_Amount(value, base, t.mult, t.num_start, t.end, t.plus, year_like))
    if any(not a.year_like for a in found):
        found = [a for a in found if not a.year_like]  # "2024 range: $100k-$120k"
    return found


def _after_currency(text: str, start: int) -> bool:
    before = text[:start].rstrip()
    return bool(before) and _CURRENCY.search(before[-4:]) is not None


def normalize_currency(text: str | None) -> str | None:
    """'usd' / '$' / 'CA$' / 'euros' → ISO 4217 code; unknown → None."""
    if text is None:
        return None
    stripped = text.strip()
    if stripped.upper() in CURRENCY_CODES:
        return stripped.upper()
    m = _CURRENCY.search(stripped)
    return _currency_of(m) if m else None


def _currency_of(m: re.Match[str]) -> str:
    if m.group("symbol"):
        return _SYMBOLS[m.group("symbol")]
    if m.group("code"):
        return m.group("code").upper()
    return _CURRENCY_WORDS[m.group("word").lower()]


def normalize_period(text: str | None) -> str | None:
    """'HOURLY' / 'per annum' / 'monthly' / 'YEAR' → one of hour, day, week, month, year."""
    if text is None:
        return None
    lowered = text.lower().replace("_", " ")
    if "." in lowered:
        lowered = _DOTTED.sub(r"\1\2", lowered)
    for m in _WORD.finditer(lowered):
        slash, word = m.groups()
        period = _PERIOD_WORDS.get(word) or (_SLASH_PERIODS.get(word) if slash else None)
        if period:
            return period
    return None


def infer_period(amount: float) -> str:
    if amount < HOURLY_BELOW:
        return "hour"
    if amount < MONTHLY_BELOW:
        return "month"
    return "year"


@lru_cache(maxsize=8192)
def _shape_words(shape: str) -> tuple[str | None, str | None]:
    """Currency and explicit period: they depend on the words, not on the digits."""
    m = _CURRENCY.search(shape)
    return (_currency_of(m) if m else None), normalize_period(shape)


@lru_cache(maxsize=65_536)
def parse_salary_text(text: str | None) -> Salary:
    """Free salary text → Salary; anything without a usable amount → an empty Salary."""
    if text is None:
        return Salary()
    if "401" in text:
        text = _NOT_SALARY.sub(" ", text)
    text = _IDENTIFIER.sub(" ", text)
    shape = text.translate(_DIGITS_TO_NINE)
    amounts = _amounts(text, shape)
    if not amounts:
        return Salary()
    first = amounts[0]
    low: float | None = first.value
    high: float | None = first.value
    if len(amounts) > 1 and _is_range(shape[first.end : amounts[1].start]):
        second = amounts[1]
        low, high = first.value, second.value
        if not first.mult and second.mult:
            # "100-120K", "$80 - 120k": the multiplier belongs to both ends.
            mult = _MULTIPLIERS[second.mult]
            if first.value * mult <= second.value and first.value * mult * 10 >= second.value:
                low = first.value * mult
        if low > high:
            low, high = high, low
    else:
        qualifier = _qualifier(shape[max(0, first.start - 30) : first.start])
        if qualifier == "max":
            low = None
        elif qualifier == "min" or first.plus:
            high = None
    currency, period = _shape_words(shape)
    if currency is None and period is None and all(a.year_like for a in amounts):
        return Salary()  # "apply by 2026": a year, and nothing says money
    if currency is None and any(a.mult in _INDIAN_MULTIPLIERS for a in amounts):
        currency = "INR"
    largest = max(v for v in (low, high) if v is not None)
    if largest < MIN_PLAIN_AMOUNT:
        return Salary()
    return Salary(low, high, currency, period or infer_period(largest), period_explicit=period is not None)


@lru_cache(maxsize=4096)
def _qualifier(before: str) -> str | None:
    """ "Up to $…" → "max", "From …" → "min", else None."""
    before = _CURRENCY.sub(" ", before)
    if _UP_TO.search(before):
        return "max"
    if _FROM.search(before):
        return "min"
    return None


@lru_cache(maxsize=4096)
def _is_range(between: str) -> bool:
    between = _CURRENCY.sub(" ", between)
    return _RANGE_JOINER.fullmatch(between) is not None


def annualize(value: float | None, period: str | None) -> float | None:
    if value is None or period is None:
        return None
    return value * ANNUAL_FACTORS[period]


def salary_columns(raw: pa.Table) -> dict[str, Any]:
    """The salary output columns from a conformed raw table (or any table holding the raw salary
    columns): salary_min/max/currency/period/annual_min/annual_max/text/source."""
    n = raw.num_rows
    f64, text_type = pa.float64(), pa.string()
    salary_text = clean_short_column(raw.column("salary_text"))
    raw_min = _positive(raw.column("salary_min"))
    raw_max = _positive(raw.column("salary_max"))
    raw_currency = map_distinct(clean_short_column(raw.column("salary_currency")), normalize_currency, text_type)
    raw_period = map_distinct(clean_short_column(raw.column("salary_period")), normalize_period, text_type)

    t_min, t_max, t_currency, t_period, t_explicit = map_distinct_many(
        salary_text,
        lambda t: _as_tuple(parse_salary_text(t)),
        (f64, f64, text_type, text_type, pa.bool_()),
    )
    structured = pc.or_(pc.is_valid(raw_min), pc.is_valid(raw_max))
    both = pc.and_(pc.is_valid(raw_min), pc.is_valid(raw_max))
    s_min = pc.if_else(both, pc.min_element_wise(raw_min, raw_max), raw_min)
    s_max = pc.if_else(both, pc.max_element_wise(raw_min, raw_max), raw_max)

    out_min = pc.if_else(structured, s_min, t_min)
    out_max = pc.if_else(structured, s_max, t_max)
    has_amount = pc.or_(pc.is_valid(out_min), pc.is_valid(out_max))
    currency = pc.coalesce(raw_currency, t_currency)
    explicit_text_period = pc.if_else(pc.fill_null(t_explicit, False), t_period, pa.scalar(None, text_type))
    inferred = _infer_period_column(pc.coalesce(out_max, out_min))
    period = pc.if_else(
        structured,
        pc.coalesce(raw_period, inferred),
        pc.coalesce(explicit_text_period, raw_period, t_period),
    )
    none_text = pa.scalar(None, text_type)
    currency = pc.if_else(has_amount, currency, none_text)
    period = pc.if_else(has_amount, period, none_text)
    factor = map_distinct(period, lambda p: ANNUAL_FACTORS[p], f64)
    source = pc.if_else(
        structured,
        pa.scalar("structured"),
        pc.if_else(has_amount, pa.scalar("text"), none_text),
    )
    return {
        "salary_min": out_min,
        "salary_max": out_max,
        "salary_currency": currency,
        "salary_period": period,
        "salary_annual_min": pc.multiply(out_min, factor) if n else out_min,
        "salary_annual_max": pc.multiply(out_max, factor) if n else out_max,
        "salary_text": salary_text,
        "salary_source": source.cast(text_type),
    }


def _as_tuple(s: Salary) -> tuple[float | None, float | None, str | None, str | None, bool]:
    return s.min, s.max, s.currency, s.period, s.period_explicit


def _positive(values: Any) -> Any:
    """Structured amounts: NaN, zero and negatives mean "not given"."""
    arr = as_array(values).cast(pa.float64())
    usable = pc.fill_null(pc.and_(pc.greater(arr, 0.0), pc.invert(pc.is_nan(arr))), False)
    return pc.if_else(usable, arr, pa.scalar(None, pa.float64()))


def _infer_period_column(amount: Any) -> Any:
    return pc.if_else(
        pc.less(amount, HOURLY_BELOW),
        pa.scalar("hour"),
        pc.if_else(pc.less(amount, MONTHLY_BELOW), pa.scalar("month"), pa.scalar("year")),
    )
