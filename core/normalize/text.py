"""Column helpers: whitespace/control-character cleanup and per-distinct-value mapping.

Most raw columns repeat a few values many times (companies, locations, salary texts), so the
expensive Python parsers run once per distinct value and Arrow's ``take`` spreads the results.
"""

from __future__ import annotations

import html
import re
from typing import Any, Callable, Sequence, TypeVar

import ftfy
import pyarrow as pa
import pyarrow.compute as pc

T = TypeVar("T")

# RE2 syntax (Arrow compute): NUL, other non-space control characters and zero-width characters
# vanish; any run of whitespace (tabs, line breaks, no-break and other Unicode spaces) becomes one space.
_ZERO_WIDTH_RE2 = r"[\x00-\x08\x0e-\x1b\x7f-\x84\x86-\x9f\x{200B}-\x{200D}\x{2060}\x{FEFF}]"
_SPACE_RE2 = r"[\s\p{Z}\x0b\x1c-\x1f\x85]+"
# Mojibake: UTF-8 decoded as Latin-1 / Windows-1252 leaves a lead byte (Â..ô) followed by a continuation
# byte shown as a C1 control, a Latin-1 sign or a cp1252 punctuation ("â€™", "Ã³", "Å\x84"). Legit
# text almost never has that pair; ftfy decides on the rows that do.
_MOJIBAKE_TAIL = (
    r"\x{0080}-\x{00BF}\x{0152}\x{0153}\x{0160}\x{0161}\x{0178}\x{017D}\x{017E}\x{0192}\x{02C6}\x{02DC}"
    r"\x{2013}\x{2014}\x{2018}-\x{201E}\x{2020}-\x{2022}\x{2026}\x{2030}\x{2039}\x{203A}\x{20AC}\x{2122}"
)
MOJIBAKE_RE2 = r"[\x{00C2}-\x{00F4}][" + _MOJIBAKE_TAIL + "]"
MOJIBAKE = re.compile(re.sub(r"\\x\{([0-9A-F]{4})\}", r"\\u\1", MOJIBAKE_RE2))  # the same in Python syntax
# Anything either pattern would change, other than a lone ASCII space (ends are trimmed separately).
_DIRTY_RE2 = (
    r"[\x00-\x1f\x7f-\x9f\x{00A0}\x{1680}\x{2000}-\x{200D}\x{2028}\x{2029}\x{202F}\x{205F}\x{2060}\x{3000}\x{FEFF}]|  |"
    + MOJIBAKE_RE2
)
# Only the repair of mis-decoded text: HTML, quotes, line breaks and widths are left as they are.
_FTFY = ftfy.TextFixerConfig(
    unescape_html=False,
    remove_terminal_escapes=False,
    fix_latin_ligatures=False,
    fix_character_width=False,
    uncurl_quotes=False,
    fix_line_breaks=False,
    fix_surrogates=True,
    remove_control_chars=False,
    normalization=None,
    explain=False,
)

# Python syntax, for values already in Python.
_ZERO_WIDTH = re.compile("[\x00-\x08\x0e-\x1b\x7f-\x84\x86-\x9f\u200b-\u200d\u2060\ufeff]")
_SPACE = re.compile(r"\s+")  # str patterns: \s is Unicode whitespace


def as_array(values: Any) -> Any:
    """One contiguous Arrow array from an Array or ChunkedArray."""
    if isinstance(values, pa.ChunkedArray):
        return values.combine_chunks()
    return values


def clean_short_column(values: Any) -> Any:
    """Short text fields: control characters and whitespace runs become one space, ends stripped,
    empty strings become null."""
    arr = as_array(values)
    if len(arr) == 0:
        return arr.cast(pa.string())
    arr = arr.cast(pa.string())
    # Replacing is ~7x slower than matching: rewrite only the rows that need it.
    dirty = pc.fill_null(pc.match_substring_regex(arr, _DIRTY_RE2), False)
    if pc.any(dirty).as_py():
        subset = fix_mojibake_column(arr.filter(dirty))  # first: stripping C1 controls would make it unrepairable
        subset = pc.replace_substring_regex(subset, _ZERO_WIDTH_RE2, "")
        subset = pc.replace_substring_regex(subset, _SPACE_RE2, " ")
        arr = pc.replace_with_mask(arr, dirty, subset)
    arr = pc.utf8_trim_whitespace(arr)
    return pc.if_else(pc.equal(arr, ""), pa.scalar(None, pa.string()), arr)


def fix_mojibake(text: str) -> str:
    """UTF-8 that was decoded as Latin-1 or Windows-1252 (once or twice) → the intended text (ftfy)."""
    if MOJIBAKE.search(text) is None:
        return text
    return ftfy.fix_text(text, _FTFY)


def fix_mojibake_column(values: Any) -> Any:
    """``fix_mojibake`` on the rows that look mis-decoded, once per distinct value."""
    arr = as_array(values)
    if len(arr) == 0:
        return arr
    bad = pc.fill_null(pc.match_substring_regex(arr, MOJIBAKE_RE2), False)
    if not pc.any(bad).as_py():
        return arr
    fixed = map_distinct(arr.filter(bad), fix_mojibake, pa.string())
    return pc.replace_with_mask(arr, bad, fixed)


def clean_short(text: str | None) -> str | None:
    """The Python twin of ``clean_short_column`` for one value."""
    if text is None:
        return None
    text = fix_mojibake(text)
    cleaned = _SPACE.sub(" ", _ZERO_WIDTH.sub("", text)).strip()
    return cleaned or None


def map_distinct(values: Any, fn: Callable[[str], Any], out_type: pa.DataType) -> Any:
    """``fn`` applied once per distinct non-null value, spread back over the rows (nulls stay null)."""
    (mapped,) = map_distinct_many(values, lambda v: (fn(v),), (out_type,))
    return mapped


def map_distinct_many(values: Any, fn: Callable[[str], Sequence[Any]], out_types: Sequence[pa.DataType]) -> list[Any]:
    """Like ``map_distinct`` for a function returning a tuple: one output array per tuple slot."""
    arr = as_array(values)
    if len(arr) == 0:
        return [pa.array([], type=t) for t in out_types]
    encoded = pc.dictionary_encode(arr)
    results = [fn(v) for v in encoded.dictionary.to_pylist()]
    outputs = []
    for slot, typ in enumerate(out_types):
        dictionary = pa.array([r[slot] for r in results], type=typ)
        outputs.append(dictionary.take(encoded.indices))
    return outputs


def coalesce(preferred: Any, fallback: Any) -> Any:
    """Row by row, the preferred value when present, else the fallback."""
    return pc.coalesce(as_array(preferred), as_array(fallback))


_ENTITY_RE2 = r"&(#[0-9]{1,7}|#[xX][0-9a-fA-F]{1,6}|[a-zA-Z][a-zA-Z0-9]{1,31});"


def unescape_column(values: Any) -> Any:
    """HTML entities in short fields ("R&amp;D Engineer" from feeds that escape) decoded, then re-cleaned."""
    arr = as_array(values)
    if len(arr) == 0:
        return arr
    has_entity = pc.fill_null(pc.match_substring_regex(arr, _ENTITY_RE2), False)
    if not pc.any(has_entity).as_py():
        return arr
    decoded = map_distinct(arr.filter(has_entity), lambda v: clean_short(html.unescape(v)), pa.string())
    return pc.replace_with_mask(arr, has_entity, decoded)
