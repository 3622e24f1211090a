"""Short-field cleanup (Arrow and Python twins agree) and per-distinct-value mapping."""

from __future__ import annotations

import pyarrow as pa
import pytest

from core.normalize.text import clean_short, clean_short_column, map_distinct, map_distinct_many

CASES = [
    ("  Data   Engineer  ", "Data Engineer"),
    ("Data\tEngineer\r\n", "Data Engineer"),
    ("Acme\u00a0\u2009Corp", "Acme Corp"),
    ("Ac\x00me\u200b", "Acme"),
    ("a\x1fb", "a b"),  # unit separator counts as whitespace
    ("\x07bell", "bell"),
    ("   ", None),
    ("", None),
    (None, None),
    ("Zürich – Ünïcode", "Zürich – Ünïcode"),
]


@pytest.mark.parametrize(("text", "expected"), CASES)
def test_clean_short(text: str | None, expected: str | None) -> None:
    assert clean_short(text) == expected


def test_column_twin_agrees() -> None:
    assert clean_short_column(pa.array([c[0] for c in CASES], pa.string())).to_pylist() == [c[1] for c in CASES]


def test_map_distinct_calls_once_per_value_and_keeps_nulls() -> None:
    calls: list[str] = []

    def upper(v: str) -> str:
        calls.append(v)
        return v.upper()

    out = map_distinct(pa.chunked_array([["a", "b"], ["a", None, "b"]]), upper, pa.string())
    assert out.to_pylist() == ["A", "B", "A", None, "B"]
    assert sorted(calls) == ["a", "b"]


def test_map_distinct_many_and_empty() -> None:
    lengths, firsts = map_distinct_many(
        pa.array(["xy", "z", "xy"]), lambda v: (len(v), v[0]), (pa.int64(), pa.string())
    )
    assert (lengths.to_pylist(), firsts.to_pylist()) == ([2, 1, 2], ["x", "z", "x"])
    assert map_distinct(pa.array([], pa.string()), str.upper, pa.string()).to_pylist() == []


@pytest.mark.parametrize(
    ("raw", "fixed"),
    [
        ("You\u00e2\u0080\u0099ll", "You\u2019ll"),  # RemoteOK: UTF-8 read as Latin-1, C1 bytes kept
        ("Z\u00c3\u00b3calo Health", "Z\u00f3calo Health"),
        ("Gda\u00c5\u0084sk", "Gda\u0144sk"),
        ("Z\u00fcrich caf\u00e9 \u00c7a", "Z\u00fcrich caf\u00e9 \u00c7a"),  # legit accents untouched
    ],
)
def test_mojibake_repaired_before_control_characters_go(raw: str, fixed: str) -> None:
    assert clean_short(raw) == fixed
    assert clean_short_column(pa.array([raw])).to_pylist() == [fixed]
