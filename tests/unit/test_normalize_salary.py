"""Salary text parsing, currency/period vocabularies and the structured-vs-text column logic."""

from __future__ import annotations

import pyarrow as pa
import pytest

from core import schema
from core.normalize.salary import (
    annualize,
    infer_period,
    normalize_currency,
    normalize_period,
    parse_salary_text,
    salary_columns,
)

N = None
# text, min, max, currency, period
CASES = [
    ("$120k–$150k", 120_000, 150_000, "USD", "year"),
    ("$120k-$150k", 120_000, 150_000, "USD", "year"),
    ("$120K — $150K", 120_000, 150_000, "USD", "year"),
    ("$120,000 - $150,000", 120_000, 150_000, "USD", "year"),
    ("$120,000 to $150,000 per year", 120_000, 150_000, "USD", "year"),
    ("between $50,000 and $60,000", 50_000, 60_000, "USD", "year"),
    ("£45,000 - £55,000 per annum", 45_000, 55_000, "GBP", "year"),
    ("£45k-£55k pa", 45_000, 55_000, "GBP", "year"),
    ("£500 per day", 500, 500, "GBP", "day"),
    ("€60/hour", 60, 60, "EUR", "hour"),
    ("€60/h", 60, 60, "EUR", "hour"),
    ("Up to $200,000", N, 200_000, "USD", "year"),
    ("up to 90k", N, 90_000, N, "year"),
    ("Max. €70.000", N, 70_000, "EUR", "year"),
    ("From 90k", 90_000, N, N, "year"),
    ("Starting at $25/hr", 25, N, "USD", "hour"),
    ("$150k+", 150_000, N, "USD", "year"),
    ("ab 60.000 € brutto im Jahr", 60_000, N, "EUR", "year"),
    ("100-120K USD", 100_000, 120_000, "USD", "year"),
    ("100-120k usd", 100_000, 120_000, "USD", "year"),
    ("$80 - 120k", 80_000, 120_000, "USD", "year"),
    ("$25 - $35 an hour", 25, 35, "USD", "hour"),
    ("$25-35/hr", 25, 35, "USD", "hour"),
    ("$18.50 per hour", 18.5, 18.5, "USD", "hour"),
    ("$22.75 - $28.25 hourly", 22.75, 28.25, "USD", "hour"),
    ("Competitive", N, N, N, N),
    ("Req #2024-5567", N, N, N, N),  # identifiers are not money
    ("Job ID 12345, apply by 2026", N, N, N, N),
    ("Requisition No. 88123 · $95,000 - $105,000", 95_000, 105_000, "USD", "year"),
    ("Ref: AB-1234 €4.000/Monat", 4_000, 4_000, "EUR", "month"),
    ("DOE", N, N, N, N),
    ("Negotiable", N, N, N, N),
    ("", N, N, N, N),
    ("$150k + equity", 150_000, 150_000, "USD", "year"),
    ("$130,000-$160,000 plus bonus", 130_000, 160_000, "USD", "year"),
    ("$130,000 - $160,000 + 10% bonus", 130_000, 160_000, "USD", "year"),
    ("$100k-$120k, 401(k) match", 100_000, 120_000, "USD", "year"),
    ("$90k base + 401k", 90_000, 90_000, "USD", "year"),
    ("2025 range: $140k - $170k", 140_000, 170_000, "USD", "year"),
    ("₹12,00,000 - ₹18,00,000 per year", 1_200_000, 1_800_000, "INR", "year"),
    ("₹50,000 per month", 50_000, 50_000, "INR", "month"),
    ("12-18 LPA", 1_200_000, 1_800_000, "INR", "year"),
    ("INR 15 lakh", 1_500_000, 1_500_000, "INR", "year"),
    ("1.2M INR", 1_200_000, 1_200_000, "INR", "year"),
    ("Rs. 8,00,000", 800_000, 800_000, "INR", "year"),
    ("CA$90,000–CA$110,000", 90_000, 110_000, "CAD", "year"),
    ("C$90,000 - C$110,000", 90_000, 110_000, "CAD", "year"),
    ("CAD 95,000", 95_000, 95_000, "CAD", "year"),
    ("A$120,000 - A$140,000", 120_000, 140_000, "AUD", "year"),
    ("AU$150k", 150_000, 150_000, "AUD", "year"),
    ("NZ$100,000", 100_000, 100_000, "NZD", "year"),
    ("US$4,000/month", 4_000, 4_000, "USD", "month"),
    ("€4.500 - €5.500 brutto/Monat", 4_500, 5_500, "EUR", "month"),
    ("60.000 € - 75.000 €", 60_000, 75_000, "EUR", "year"),
    ("60 000 € – 75 000 €", 60_000, 75_000, "EUR", "year"),
    ("45.000,00 EUR", 45_000, 45_000, "EUR", "year"),
    ("CHF 120'000 - 140'000", 120_000, 140_000, "CHF", "year"),
    ("4.000 bis 5.000 € pro Monat", 4_000, 5_000, "EUR", "month"),
    ("$5,000/month", 5_000, 5_000, "USD", "month"),
    ("$5,000 monthly", 5_000, 5_000, "USD", "month"),
    ("$400 per day", 400, 400, "USD", "day"),
    ("$2,000 per week", 2_000, 2_000, "USD", "week"),
    ("$1,500/wk", 1_500, 1_500, "USD", "week"),
    ("80K", 80_000, 80_000, N, "year"),
    ("80k", 80_000, 80_000, N, "year"),
    ("USD 100000", 100_000, 100_000, "USD", "year"),
    ("USD100000", 100_000, 100_000, "USD", "year"),
    ("100000 USD per year", 100_000, 100_000, "USD", "year"),
    ("$1-1.5M", 1_000_000, 1_500_000, "USD", "year"),
    ("¥6,000,000", 6_000_000, 6_000_000, "JPY", "year"),
    ("$45", 45, 45, "USD", "hour"),
    ("$8,500", 8_500, 8_500, "USD", "month"),
    ("50000", 50_000, 50_000, N, "year"),
    ("150,000 - 120,000", 120_000, 150_000, N, "year"),
    ("90,000 dollars a year", 90_000, 90_000, "USD", "year"),
    ("Band 3", N, N, N, N),
    ("£30 ph", 30, 30, "GBP", "hour"),
    ("$75,000 - $95,000 / yr", 75_000, 95_000, "USD", "year"),
]


@pytest.mark.parametrize(("text", "low", "high", "currency", "period"), CASES, ids=[c[0] or "empty" for c in CASES])
def test_parse_salary_text(
    text: str, low: float | None, high: float | None, currency: str | None, period: str | None
) -> None:
    parsed = parse_salary_text(text)
    assert (parsed.min, parsed.max, parsed.currency, parsed.period) == (low, high, currency, period)


def test_table_has_at_least_sixty_strings() -> None:
    assert len({c[0] for c in CASES}) >= 60


@pytest.mark.parametrize(
    ("text", "code"),
    [("usd", "USD"), ("$", "USD"), ("CA$", "CAD"), ("C$", "CAD"), ("A$", "AUD"), ("AU$", "AUD"), ("£", "GBP"),
     ("€", "EUR"), ("₹", "INR"), ("euros", "EUR"), ("GBP", "GBP"), ("chf", "CHF"), ("doubloons", None), (None, None)],
)  # fmt: skip
def test_normalize_currency(text: str | None, code: str | None) -> None:
    assert normalize_currency(text) == code


@pytest.mark.parametrize(
    ("text", "period"),
    [("HOURLY", "hour"), ("per hour", "hour"), ("YEAR", "year"), ("yearly", "year"), ("annual", "year"),
     ("per annum", "year"), ("MONTHLY", "month"), ("month", "month"), ("WEEKLY", "week"), ("daily", "day"),
     ("DAY", "day"), ("whenever", None), (None, None)],
)  # fmt: skip
def test_normalize_period(text: str | None, period: str | None) -> None:
    assert normalize_period(text) == period


@pytest.mark.parametrize(
    ("amount", "period"), [(25.0, "hour"), (499.0, "hour"), (500.0, "month"), (19_999.0, "month"), (20_000.0, "year")]
)
def test_infer_period_thresholds(amount: float, period: str) -> None:
    assert infer_period(amount) == period


@pytest.mark.parametrize(
    ("period", "annual"), [("hour", 2080 * 10), ("day", 260 * 10), ("week", 52 * 10), ("month", 120), ("year", 10)]
)
def test_annualize(period: str, annual: float) -> None:
    assert annualize(10.0, period) == annual
    assert annualize(None, period) is None


def _raw(**columns: list[object]) -> pa.Table:
    n = len(next(iter(columns.values())))
    table = pa.table({k: pa.array(v, schema.RAW_ARROW_TYPES[k]) for k, v in columns.items()})
    assert table.num_rows == n
    return schema.conform_raw(table)


def test_salary_columns_structured_wins_and_text_fills_in() -> None:
    raw = _raw(
        salary_min=[100_000.0, None, None, 30.0, float("nan"), 0.0],
        salary_max=[150_000.0, None, None, None, None, None],
        salary_currency=["usd", None, None, "EUR", None, None],
        salary_period=["YEARLY", None, "HOURLY", None, None, None],
        salary_text=["£1 - £2 per hour", "$25 - $35 an hour", "$40", None, "Competitive", "80k"],
    )
    cols = salary_columns(raw)
    assert cols["salary_source"].to_pylist() == ["structured", "text", "text", "structured", None, "text"]
    assert cols["salary_min"].to_pylist() == [100_000.0, 25.0, 40.0, 30.0, None, 80_000.0]
    assert cols["salary_max"].to_pylist() == [150_000.0, 35.0, 40.0, None, None, 80_000.0]
    assert cols["salary_currency"].to_pylist() == ["USD", "USD", "USD", "EUR", None, None]
    # explicit structured period, explicit text period, the source's period over inference, inferred
    assert cols["salary_period"].to_pylist() == ["year", "hour", "hour", "hour", None, "year"]
    assert cols["salary_annual_min"].to_pylist() == [100_000.0, 25 * 2080.0, 40 * 2080.0, 30 * 2080.0, None, 80_000.0]
    assert cols["salary_annual_max"].to_pylist() == [150_000.0, 35 * 2080.0, 40 * 2080.0, None, None, 80_000.0]
    assert cols["salary_text"].to_pylist()[1] == "$25 - $35 an hour"


def test_salary_columns_swaps_reversed_structured_range() -> None:
    cols = salary_columns(_raw(salary_min=[150_000.0], salary_max=[120_000.0]))
    assert (cols["salary_min"].to_pylist(), cols["salary_max"].to_pylist()) == ([120_000.0], [150_000.0])
