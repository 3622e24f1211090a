"""What the HTTP source adapters share: options, a JSON GET with bounded retries, raw-record helpers.

Retries (tenacity) cover what is likely to pass: 408, 429, 5xx, connection errors and timeouts.
Every other failure becomes a ``SourceError`` at once, prefixed with the adapter's label
("greenhouse board 'acme': HTTP 404 (board not found)"), so the sync can show it as it is.
"""

from __future__ import annotations

import email.utils
import math
import time
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import pyarrow as pa
import requests
from tenacity import RetryCallState, Retrying, retry_if_exception_type, stop_after_attempt, stop_after_delay

from core.errors import ConfigError, SourceError
from core.schema import RAW_ARROW_TYPES
from core.sources.base import SourceConfig

USER_AGENT = "jobdash/0.1 (+local job-search dashboard)"
MAX_REQUEST_TIMEOUT_S = 30.0  # one request never waits longer, whatever the source's overall timeout
MAX_BACKOFF_S = 30.0
RETRYABLE_STATUS = frozenset({408, 429, 500, 502, 503, 504})

# Options every HTTP adapter accepts; each adapter adds its own keys.
HTTP_OPTION_KEYS = ("base_url", "retries", "backoff_s", "delay_s", "max_retry_after_s")


@dataclass(frozen=True)
class HttpOptions:
    base_url: str
    timeout_s: float  # per request
    deadline_s: float  # no new attempt starts after this long (the source's timeout_s)
    retries: int  # attempts in all, the first included
    backoff_s: float  # first wait; doubles per attempt
    delay_s: float  # polite pause between paged requests
    max_retry_after_s: float  # a longer Retry-After is not waited for: the fetch fails instead


def _number(options: Mapping[str, Any], key: str, where: str, default: float, minimum: float) -> float:
    value = options.get(key, default)
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
        raise ConfigError(f"{where}{key}: expected a number, got {value!r}")
    if value < minimum:
        raise ConfigError(f"{where}{key}: must be at least {minimum:g}, got {value!r}")
    return float(value)


def validate_http_options(options: Mapping[str, Any], where: str, own_keys: Iterable[str]) -> None:
    """Check the shared HTTP options and refuse keys the adapter does not know (typos fail loudly)."""
    known = (*own_keys, *HTTP_OPTION_KEYS)
    for key in options:
        if key not in known:
            raise ConfigError(f"{where}{key}: unknown option (known: {', '.join(sorted(known))})")
    base_url = options.get("base_url", "https://x")
    if not isinstance(base_url, str) or not base_url.startswith(("http://", "https://")):
        raise ConfigError(f"{where}base_url: expected an http(s) URL, got {base_url!r}")
    retries = options.get("retries", 3)
    if isinstance(retries, bool) or not isinstance(retries, int) or retries < 1:
        raise ConfigError(f"{where}retries: expected a whole number of attempts >= 1, got {retries!r}")
    _number(options, "backoff_s", where, 1.0, 0.0)
    _number(options, "delay_s", where, 0.5, 0.0)
    _number(options, "max_retry_after_s", where, 60.0, 0.0)


def http_options(config: SourceConfig, default_base_url: str) -> HttpOptions:
    """The validated options of ``config`` (validate_http_options has run at load time)."""
    o = config.options
    return HttpOptions(
        base_url=str(o.get("base_url", default_base_url)).rstrip("/"),
        timeout_s=min(config.timeout_s, MAX_REQUEST_TIMEOUT_S),
        deadline_s=config.timeout_s,
        retries=int(o.get("retries", 3)),
        backoff_s=float(o.get("backoff_s", 1.0)),
        delay_s=float(o.get("delay_s", 0.5)),
        max_retry_after_s=float(o.get("max_retry_after_s", 60.0)),
    )


def token(options: Mapping[str, Any], key: str, where: str) -> str:
    """A required board/site token: a non-empty string that is safe as one URL path segment."""
    if key not in options:
        raise ConfigError(f"{where}{key}: required")
    value = options[key]
    if not isinstance(value, str) or not value.strip():
        raise ConfigError(f"{where}{key}: expected a non-empty string, got {value!r}")
    if "/" in value or "?" in value or "#" in value or value != value.strip():
        raise ConfigError(f"{where}{key}: expected a bare token such as 'acme', got {value!r}")
    return value


class _Retryable(Exception):
    """A failure worth another attempt; ``reason`` is what the user reads if none is left."""

    def __init__(self, reason: str, retry_after: float | None = None) -> None:
        super().__init__(reason)
        self.reason = reason
        self.retry_after = retry_after


def _retry_after_s(value: str | None) -> float | None:
    """Retry-After as seconds: either delta-seconds or an HTTP date."""
    if not value:
        return None
    value = value.strip()
    if value.isdigit():
        return float(value)
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return max(0.0, (when - datetime.now(UTC)).total_seconds())


def _root_cause(e: requests.ConnectionError) -> str:
    """urllib3's innermost reason ("[Errno 111] Connection refused") instead of requests' pool chatter."""
    inner = e.args[0] if e.args else e
    message = str(getattr(inner, "reason", inner))
    return message.rsplit("connection: ", 1)[-1][:160]


def _status_reason(status: int, not_found: str) -> str:
    hints = {401: "unauthorized", 403: "forbidden", 404: not_found, 410: "gone", 429: "rate limited"}
    hint = hints.get(status)
    return f"HTTP {status} ({hint})" if hint else f"HTTP {status}"


class JsonClient:
    """GETs JSON for one fetch; open it in a ``with`` block so the connection pool is closed."""

    def __init__(self, opts: HttpOptions, label: str, not_found: str = "not found") -> None:
        self.opts = opts
        self.label = label
        self.not_found = not_found
        self.session = requests.Session()
        self.session.headers.update({"User-Agent": USER_AGENT, "Accept": "application/json"})

    def __enter__(self) -> JsonClient:
        return self

    def __exit__(self, *exc: object) -> None:
        self.session.close()

    def fail(self, reason: str) -> SourceError:
        return SourceError(f"{self.label}: {reason}")

    def pause(self) -> None:
        """The polite delay between paged requests."""
        if self.opts.delay_s > 0:
            time.sleep(self.opts.delay_s)

    def get_json(self, path: str, params: Mapping[str, str | int] | None = None) -> Any:
        return self._call("GET", path, params, None)

    def post_json(self, path: str, body: Mapping[str, Any]) -> Any:
        """POST a JSON body and read JSON back, with the same retries and failure reasons as get_json."""
        return self._call("POST", path, None, body)

    def _call(self, method: str, path: str, params: Mapping[str, str | int] | None, body: Any) -> Any:
        url = self.opts.base_url + path
        retrying = Retrying(
            stop=stop_after_attempt(self.opts.retries) | stop_after_delay(self.opts.deadline_s),
            wait=self._wait,
            retry=retry_if_exception_type(_Retryable),
            reraise=True,
        )
        try:
            return retrying(self._request_once, method, url, params, body)
        except _Retryable as e:
            attempts = retrying.statistics.get("attempt_number", 1)
            if attempts <= 1:
                raise self.fail(e.reason) from e
            tally = f" after {attempts} attempts" if e.reason.startswith("HTTP") else f" ({attempts} attempts)"
            raise self.fail(e.reason + tally) from e

    def _wait(self, state: RetryCallState) -> float:
        wait: float = min(self.opts.backoff_s * 2.0 ** (state.attempt_number - 1), MAX_BACKOFF_S)
        exc = state.outcome.exception() if state.outcome else None
        if isinstance(exc, _Retryable) and exc.retry_after is not None:
            wait = max(wait, exc.retry_after)
        return wait

    def _request_once(self, method: str, url: str, params: Mapping[str, str | int] | None, body: Any) -> Any:
        try:
            resp = self.session.request(method, url, params=params, json=body, timeout=self.opts.timeout_s)
        except requests.Timeout as e:
            raise _Retryable(f"timed out after {self.opts.timeout_s:g} s") from e
        except requests.ConnectionError as e:
            raise _Retryable(f"connection failed: {_root_cause(e)}") from e
        except requests.RequestException as e:
            raise self.fail(f"request failed: {e}") from e
        with resp:
            if resp.status_code in RETRYABLE_STATUS:
                reason = _status_reason(resp.status_code, self.not_found)
                retry_after = _retry_after_s(resp.headers.get("Retry-After"))
                if retry_after is not None and retry_after > self.opts.max_retry_after_s:
                    raise self.fail(f"{reason}, asked to retry after {retry_after:g} s")
                raise _Retryable(reason, retry_after)
            if resp.status_code >= 400:
                raise self.fail(_status_reason(resp.status_code, self.not_found))
            try:
                return resp.json()
            except ValueError as e:
                start = resp.text[:60].replace("\n", " ")
                raise self.fail(f"invalid JSON: {e} (body starts {start!r})") from e


# --- raw records: loose API values → the raw schema's types -------------------------------------------


def text(value: Any) -> str | None:
    """A string for the raw table: strings as they are (empty → None), numbers as digits, else None."""
    if isinstance(value, str):
        return value if value.strip() else None
    if isinstance(value, bool):
        return None
    if isinstance(value, int | float) and math.isfinite(value):
        return str(int(value)) if float(value).is_integer() else str(value)
    return None


def number(value: Any) -> float | None:
    """A finite float from a number or numeric text; anything else (incl. bool) → None."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int | float):
        f = float(value)
    elif isinstance(value, str):
        try:
            f = float(value.replace(",", "").strip())
        except ValueError:
            return None
    else:
        return None
    return f if math.isfinite(f) else None


def flag(value: Any) -> bool | None:
    return value if isinstance(value, bool) else None


def mapping(value: Any) -> Mapping[str, Any]:
    """A JSON object, or an empty one when the field is missing or of another type."""
    return value if isinstance(value, dict) else {}


def items(value: Any) -> list[Any]:
    return value if isinstance(value, list) else []


def shape_error(label: str, detail: str) -> SourceError:
    return SourceError(f"{label}: unexpected response shape: {detail}")


def objects(payload: Any, key: str, label: str) -> list[Mapping[str, Any]]:
    """``payload[key]`` as a list of objects, or a SourceError saying how the response changed shape."""
    if not isinstance(payload, dict):
        raise shape_error(label, f"expected a JSON object, got {type(payload).__name__}")
    if key not in payload:
        raise shape_error(label, f"missing {key!r} key")
    return object_list(payload[key], key, label)


def object_list(value: Any, what: str, label: str) -> list[Mapping[str, Any]]:
    if not isinstance(value, list):
        raise shape_error(label, f"expected {what} as a JSON array, got {type(value).__name__}")
    for i, item in enumerate(value):
        if not isinstance(item, dict):
            raise shape_error(label, f"{what}[{i}] is not an object")
    return value


def title_case_token(token_: str) -> str:
    """A company name guessed from a board token: 'acme-corp' → 'Acme Corp'."""
    return " ".join(part.capitalize() for part in token_.replace("_", "-").split("-") if part)


def raw_table(rows: list[dict[str, Any]], columns: tuple[str, ...]) -> pa.Table:
    """Rows (dicts keyed by raw column names) → an Arrow table with exactly the raw schema's types."""
    arrays = [pa.array([r.get(c) for r in rows], type=RAW_ARROW_TYPES[c]) for c in columns]
    return pa.Table.from_arrays(arrays, schema=pa.schema([pa.field(c, RAW_ARROW_TYPES[c]) for c in columns]))


def join_locations(primary: str | None, others: list[Any]) -> str | None:
    """Every location of a posting as "A; B; C" (primary first, no repeats), or None when it lists only one."""
    seen: dict[str, None] = {}
    for value in [primary, *others]:
        label = text(value)
        if label and label.lower() not in {k.lower() for k in seen}:
            seen[label] = None
    return "; ".join(seen) if len(seen) > 1 else None
