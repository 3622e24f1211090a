"""The file source: postings from CSV, JSON, JSON Lines or Parquet files — one file, a folder or a glob.

Columns may use our raw names (core.schema.RAW_COLUMNS) or JobSpy's CSV names as they are
(``id``, ``site``, ``job_url``, ``job_url_direct``, ``date_posted``, ``job_type``, ``interval``,
``min_amount``, ``max_amount``, ``currency``, ``job_level`` …); where a file has both, ours win.
``native_id`` is ``site:id`` when the file names the site, else ``id``.

Nothing is lost silently. Every value is read as text and converted one by one: a value that
cannot be converted becomes null and is counted; bytes that are not UTF-8 are replaced (U+FFFD) and
counted; a CSV record with the wrong number of fields is kept (padded or cut) and counted, and one
whose unclosed quote swallowed the lines after it is split back into those lines. These repairs
are listed in ``Fetched.warnings``. A file that cannot be read at all raises
``SourceError("<path>: <reason>")``; among several files, the bad ones are skipped and named in
``Fetched.partial`` (so nothing of this source is delisted on that run).

Relative paths resolve against the ``base_dir`` option when given (the config file's folder, if the
settings pass it), else against the current working directory.
"""

from __future__ import annotations

import csv
import glob
import io
import json
import math
import re
from collections.abc import Callable, Iterator
from datetime import date, datetime, time
from pathlib import Path
from typing import Any, ClassVar, Mapping

import pyarrow as pa
import pyarrow.parquet as pq

from core.errors import ConfigError, SourceError
from core.schema import RAW_ARROW_TYPES
from core.sources.base import FetchContext, Fetched, SourceConfig, optional, require

FORMATS = ("csv", "json", "jsonl", "parquet")
EXTENSIONS = {
    ".csv": "csv",
    ".json": "json",
    ".jsonl": "jsonl",
    ".ndjson": "jsonl",
    ".parquet": "parquet",
    ".pq": "parquet",
}
OPTIONS = {"path", "format", "base_dir"}

# JobSpy's column → our raw column.
ALIASES: dict[str, str] = {
    "id": "native_id",
    "job_url": "url",
    "job_url_direct": "apply_url",
    "date_posted": "posted_at",
    "job_type": "employment_type",
    "interval": "salary_period",
    "min_amount": "salary_min",
    "max_amount": "salary_max",
    "currency": "salary_currency",
    "job_level": "seniority",
    "job_function": "department",
}
# JobSpy columns with no place in a posting record: dropped without a warning.
JOBSPY_EXTRAS = frozenset(
    {
        "site", "company_industry", "company_url", "company_url_direct", "company_addresses",
        "company_num_employees", "company_revenue", "company_description", "company_logo", "logo_photo_url",
        "banner_photo_url", "ceo_name", "ceo_photo_url", "emails", "skills", "experience_range", "company_rating",
        "company_reviews_count", "vacancy_count", "work_from_home_type", "salary_source", "listing_type",
    }
)  # fmt: skip
PERIODS = {"yearly": "year", "hourly": "hour", "monthly": "month", "weekly": "week", "daily": "day"}
TRUE = frozenset({"true", "t", "1", "yes", "y"})
FALSE = frozenset({"false", "f", "0", "no", "n"})
MISSING = frozenset({"", "nan", "none", "null", "n/a", "na"})
_THOUSANDS = re.compile(r"^-?\d{1,3}(,\d{3})+(\.\d+)?$")

Columns = dict[str, list[Any]]


class _Failed(ValueError):
    """A value that cannot be converted to its column's type."""


# ---------------------------------------------------------------- reading one file into columns


def _decode(data: bytes, name: str, notes: list[str]) -> str:
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as e:
        text = data.decode("utf-8-sig", errors="replace")
        replaced = text.count("\ufffd") - data.count("\ufffd".encode())
        notes.append(
            f"{name}: not valid UTF-8 (first bad byte at offset {e.start}); "
            f"{replaced} undecodable byte sequence(s) replaced with U+FFFD"
        )
        return text


def _fit(record: list[str], width: int, where: str, notes: list[str]) -> list[str | None]:
    if len(record) != width:
        extra = " (extra fields dropped)" if len(record) > width else " (missing fields left empty)"
        notes.append(f"{where}: {len(record)} fields, expected {width}{extra}")
    return (list(record) + [None] * width)[:width]


# JobSpy's documented export, ``to_csv(quoting=csv.QUOTE_NONNUMERIC, escapechar="\\")``, escapes every
# backslash of the text with another one ("pan\\-India" for the Markdown "pan\-India"): a CSV whose
# header names JobSpy's columns is read with that escape character.
_JOBSPY_HEADER = re.compile(r'^\ufeff?"?id"?,"?site"?,"?job_url"?,', re.I)


def _read_csv(data: bytes, name: str, notes: list[str]) -> tuple[Columns, int]:
    text = _decode(data, name, notes)
    if not text.strip():
        raise SourceError(f"{name}: empty file")
    dialect: dict[str, Any] = {"escapechar": "\\"} if _JOBSPY_HEADER.match(text) else {}
    csv.field_size_limit(max(csv.field_size_limit(), 1 << 30))  # a 10 MB description is still one field
    consumed: list[str] = []

    def lines() -> Iterator[str]:
        for line in io.StringIO(text, newline=""):
            consumed.append(line)
            yield line

    reader = csv.reader(lines(), **dialect)
    try:
        header = next(reader)
    except csv.Error as e:
        raise SourceError(f"{name}: not a readable CSV header ({e})") from e
    width = len(header)
    rows: list[list[str | None]] = []
    repaired = 0
    while True:
        consumed.clear()
        start = reader.line_num + 1
        try:
            record = next(reader)
        except StopIteration:
            break
        except csv.Error as e:  # only with odd dialects; the default reader is lenient
            notes.append(f"{name}: line {start}: {e}; line kept as one text field")
            record = ["".join(consumed)]
        if not record:
            continue  # a blank line
        if len(record) == width:
            rows.append(list(record))
        elif len(consumed) > 1:
            # An unclosed quote swallowed the following lines: read them back one by one.
            repaired += 1
            notes.append(
                f"{name}: lines {start}-{start + len(consumed) - 1}: a quoted field was never closed; "
                f"the {len(consumed)} lines were read as separate rows"
            )
            for offset, line in enumerate(consumed):
                if line.strip():
                    single = next(csv.reader([line.rstrip("\r\n")], **dialect), [])
                    rows.append(_fit(single, width, f"{name}: line {start + offset}", notes))
        else:
            rows.append(_fit(record, width, f"{name}: line {start}", notes))
    columns: Columns = {}
    for i, col in enumerate(header):
        key = col.strip()
        if key in columns:
            notes.append(f"{name}: duplicate column {key!r} ignored (the first one is used)")
            continue
        columns[key] = [r[i] for r in rows]
    return columns, len(rows)


def _records_to_columns(records: list[Any], name: str, what: str, notes: list[str]) -> tuple[Columns, int]:
    objects = [r for r in records if isinstance(r, dict)]
    if len(objects) != len(records):
        bad = [i + 1 for i, r in enumerate(records) if not isinstance(r, dict)]
        notes.append(f"{name}: {len(bad)} {what} not an object and skipped (e.g. #{', #'.join(map(str, bad[:5]))})")
    columns: Columns = {}
    for obj in objects:
        for key in obj:
            columns.setdefault(str(key), [])
    for key, values in columns.items():
        values.extend(obj.get(key) for obj in objects)
    return columns, len(objects)


def _read_jsonl(data: bytes, name: str, notes: list[str]) -> tuple[Columns, int]:
    text = _decode(data, name, notes)
    records: list[Any] = []
    bad: list[str] = []
    lines = [(i + 1, line) for i, line in enumerate(text.splitlines()) if line.strip()]
    if not lines:
        raise SourceError(f"{name}: empty file")
    for number, line in lines:
        try:
            records.append(json.loads(line))
        except json.JSONDecodeError as e:
            bad.append(f"line {number}: {e.msg}")
    if bad and not records:
        raise SourceError(f"{name}: not JSON Lines ({bad[0]})")
    if bad:
        notes.append(f"{name}: {len(bad)} line(s) are not JSON and were skipped ({'; '.join(bad[:3])})")
    return _records_to_columns(records, name, "line(s) are", notes)


def _read_json(data: bytes, name: str, notes: list[str]) -> tuple[Columns, int]:
    text = _decode(data, name, notes)
    if not text.strip():
        raise SourceError(f"{name}: empty file")
    try:
        doc = json.loads(text)
    except json.JSONDecodeError as e:
        if e.msg == "Extra data":  # one object per line in a .json file
            notes.append(f"{name}: several JSON documents in one file; read as JSON Lines")
            return _read_jsonl(data, name, [])
        raise SourceError(f"{name}: not JSON ({e.msg} at line {e.lineno}, column {e.colno})") from e
    if isinstance(doc, dict) and isinstance(doc.get("jobs"), list):
        doc = doc["jobs"]
    if not isinstance(doc, list):
        raise SourceError(
            f'{name}: expected an array of job objects or {{"jobs": [...]}}, got a JSON {type(doc).__name__}'
        )
    return _records_to_columns(doc, name, "item(s) are", notes)


def _read_parquet(path: Path, name: str, notes: list[str]) -> tuple[Columns, int]:
    try:
        table = pq.read_table(path)
    except (pa.ArrowException, OSError) as e:
        raise SourceError(f"{name}: not a readable Parquet file ({e})") from e
    return table.to_pydict(), table.num_rows


# ---------------------------------------------------------------- converting columns to the raw schema


def _text(value: Any) -> str | None:
    if value is None:
        return None
    if isinstance(value, str):
        return value if value.strip() else None
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float):
        if math.isnan(value) or math.isinf(value):
            return None
        return str(int(value)) if value.is_integer() else str(value)
    if isinstance(value, datetime | date | time):
        return value.isoformat()
    if isinstance(value, dict | list):
        return json.dumps(value, ensure_ascii=False, default=str)
    return str(value)


def _number(value: Any) -> float | None:
    if value is None:
        return None
    if isinstance(value, bool):
        raise _Failed(value)
    if isinstance(value, int | float):
        number = float(value)
    else:
        text = str(value).strip()
        if text.lower() in MISSING:
            return None
        if _THOUSANDS.match(text):
            text = text.replace(",", "")
        try:
            number = float(text)
        except ValueError:
            raise _Failed(value) from None
    if math.isnan(number):
        return None
    if math.isinf(number):
        raise _Failed(value)
    return number


def _flag(value: Any) -> bool | None:
    if value is None or isinstance(value, bool):
        return value
    if isinstance(value, int | float) and value in (0, 1):
        return bool(value)
    text = str(value).strip().lower()
    if text in TRUE:
        return True
    if text in FALSE:
        return False
    if text in MISSING:
        return None
    raise _Failed(value)


def _period(value: Any) -> str | None:
    text = _text(value)
    return PERIODS.get(text.strip().lower(), text) if text else None


def _converter(column: str) -> Callable[[Any], Any]:
    typ = RAW_ARROW_TYPES[column]
    if typ == pa.float64():
        return _number
    if typ == pa.bool_():
        return _flag
    return _period if column == "salary_period" else _text


def _pick_columns(columns: Columns, name: str, notes: list[str]) -> dict[str, list[Any]]:
    """Our raw names first, then JobSpy's aliases for what is still missing."""
    lowered: dict[str, list[Any]] = {}
    for key, values in columns.items():
        lowered.setdefault(key.strip().lower(), values)
    picked = {k: v for k, v in lowered.items() if k in RAW_ARROW_TYPES and k != "source"}
    for alias, target in ALIASES.items():
        if alias in lowered and target not in picked:
            picked[target] = lowered[alias]
    if "native_id" not in lowered and "id" in lowered and "site" in lowered:
        ids = [_text(v) for v in lowered["id"]]
        sites = [_text(v) for v in lowered["site"]]
        picked["native_id"] = [f"{s}:{i}" if s and i else i for s, i in zip(sites, ids, strict=True)]
    unknown = [k for k in lowered if k not in RAW_ARROW_TYPES and k not in ALIASES and k not in JOBSPY_EXTRAS]
    if not columns:
        return {}  # an empty array: a valid board with no postings
    if not picked:
        got = ", ".join(list(columns)[:10]) or "no columns"
        raise SourceError(f"{name}: no job columns found (expected e.g. title, company, url or job_url; got {got})")
    if unknown:
        notes.append(f"{name}: ignored unknown column(s): {', '.join(sorted(unknown)[:10])}")
    return picked


def _to_table(columns: Columns, rows: int, name: str, source: str, notes: list[str]) -> pa.Table:
    picked = _pick_columns(columns, name, notes)
    arrays: dict[str, pa.Array] = {"source": pa.repeat(pa.scalar(source, pa.string()), rows)}
    failures: list[str] = []
    for column, values in picked.items():
        convert = _converter(column)
        out: list[Any] = []
        bad: list[Any] = []
        for value in values:
            try:
                out.append(convert(value))
            except _Failed:
                out.append(None)
                bad.append(value)
        if bad:
            failures.append(f"{column}: {len(bad)}, e.g. {str(bad[0])[:40]!r}")
        arrays[column] = pa.array(out, RAW_ARROW_TYPES[column])
    if failures:
        total = sum(int(f.split(": ")[1].split(",")[0]) for f in failures)
        notes.append(f"{name}: {total} value(s) could not be converted and were left empty ({'; '.join(failures)})")
    return pa.table(arrays)


# ---------------------------------------------------------------- the source


def _format_of(path: Path, explicit: str | None) -> str | None:
    if explicit:
        return explicit
    return EXTENSIONS.get(path.suffix.lower())


def read_file(path: Path, fmt: str, source: str, notes: list[str]) -> pa.Table:
    """One file as a raw table; repairs go to ``notes``; raises SourceError if it cannot be read at all."""
    name = str(path)
    if fmt == "parquet":
        columns, rows = _read_parquet(path, name, notes)
    else:
        try:
            data = path.read_bytes()
        except OSError as e:
            raise SourceError(f"{name}: {e.strerror or e}") from e
        if not data.strip():
            raise SourceError(f"{name}: empty file")
        reader = {"csv": _read_csv, "json": _read_json, "jsonl": _read_jsonl}[fmt]
        columns, rows = reader(data, name, notes)
    return _to_table(columns, rows, name, source, notes)


class FileSource:
    kind: ClassVar[str] = "file"

    def __init__(self, config: SourceConfig) -> None:
        self.validate(config.options, f"sources.{config.name}.")
        self.config = config
        self.format: str | None = config.options.get("format")
        path = Path(config.options["path"]).expanduser()
        base = config.options.get("base_dir")
        self.path = path if path.is_absolute() else (Path(base) if base else Path.cwd()) / path

    @classmethod
    def validate(cls, options: Mapping[str, Any], where: str) -> None:
        for key in options:
            if key not in OPTIONS:
                raise ConfigError(
                    f"{where}{key}: unknown option for a file source (known: {', '.join(sorted(OPTIONS))})"
                )
        path = require(options, "path", where, str)
        if not path.strip():
            raise ConfigError(f"{where}path: must not be empty")
        fmt = optional(options, "format", where, str, None)
        if fmt is not None and fmt not in FORMATS:
            raise ConfigError(f"{where}format: expected one of {', '.join(FORMATS)}, got {fmt!r}")
        optional(options, "base_dir", where, str, None)

    def files(self) -> list[Path]:
        """The files the path names, sorted; a SourceError if there are none."""
        pattern = str(self.path)
        if any(ch in str(self.config.options["path"]) for ch in "*?["):
            found = sorted(Path(p) for p in glob.glob(pattern, recursive=True) if Path(p).is_file())
            if not found:
                raise SourceError(f"{pattern}: no files match")
        elif self.path.is_dir():
            found = sorted(p for p in self.path.iterdir() if p.is_file() and not p.name.startswith("."))
            found = [p for p in found if _format_of(p, self.format)]
            if not found:
                raise SourceError(f"{pattern}: no .csv, .json, .jsonl or .parquet files in this folder")
        elif self.path.is_file():
            if not _format_of(self.path, self.format):
                raise SourceError(
                    f"{pattern}: cannot tell the format from the extension; set format = csv|json|jsonl|parquet"
                )
            found = [self.path]
        else:
            raise SourceError(f"{pattern}: no such file or folder")
        return found

    def fetch(self, ctx: FetchContext) -> Fetched:
        warnings: list[str] = []
        files = self.files()
        tables: list[pa.Table] = []
        failed: list[str] = []
        for i, path in enumerate(files):
            ctx.progress(i / len(files), f"reading {path.name}")
            fmt = _format_of(path, self.format)
            if fmt is None:
                warnings.append(f"{path}: skipped, not a .csv, .json, .jsonl or .parquet file")
                continue
            notes: list[str] = []
            try:
                tables.append(read_file(path, fmt, self.config.name, notes))
            except SourceError as e:
                failed.append(str(e))
            except Exception as e:  # one unreadable file must not sink the others
                failed.append(f"{path}: {type(e).__name__}: {e}")
            warnings.extend(notes)
        ctx.progress(1.0, f"read {len(files) - len(failed)} of {len(files)} file(s)")
        if not tables:  # nothing read: never report an empty board (that would delist everything)
            if not failed:
                raise SourceError(f"{self.path}: no .csv, .json, .jsonl or .parquet files to read")
            raise SourceError(failed[0] if len(failed) == 1 else f"all {len(failed)} files failed: {'; '.join(failed)}")
        table = (
            pa.concat_tables(tables, promote_options="default")
            if tables
            else pa.table({"source": pa.array([], pa.string())})
        )
        return Fetched(table, "; ".join(failed) if failed else None, tuple(warnings))
