"""What the HTTP source adapters share: options, a JSON GET with bounded retries, raw-record helpers.

Retries cover what is likely to pass: 408, 429, 5xx, connection errors and timeouts. Every other
failure becomes a ``SourceError`` at once, prefixed with the adapter's label ("greenhouse board
'acme': HTTP 404 (board not found)"), so the sync can show it as it is.

A source is untrusted, so every fetch runs on budgets (``JsonClient``):

- **bytes**: a body is streamed and counted as it is decoded; more than ``max_bytes`` (default 50 MB,
  counted after gzip/deflate, so a decompression bomb stops at the same budget) fails the fetch.
- **time**: the source's ``timeout_s`` is one deadline for the whole fetch — every page, retry and
  pause. A watchdog shuts the socket down at the deadline (or when the sync cancels the fetch), so a
  server that trickles one byte a second is cut off and the fetch thread ends.
- **redirects**: followed on the same host (http → https included); a redirect to another host is
  refused with the reason, since a board API has no reason to send us elsewhere and following could
  aim our requests at hosts the user never configured (a local service, say). ``base_url`` can name
  the new host if it is legitimate.
- **text**: a body that is not valid in its charset is decoded with U+FFFD and a warning says how many
  bytes were replaced; JSON nested too deep to read is a clear failure, never a RecursionError.
"""

from __future__ import annotations

import email.utils
import json
import math
import re
import socket
import threading
import time
import weakref
import zlib
from collections.abc import Callable, Iterable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any
from urllib.parse import urljoin, urlsplit

import pyarrow as pa
import requests
import urllib3
from requests.adapters import HTTPAdapter
from urllib3.connection import HTTPConnection, HTTPSConnection
from urllib3.connectionpool import HTTPConnectionPool, HTTPSConnectionPool

from core.errors import ConfigError, SourceError
from core.schema import RAW_ARROW_TYPES
from core.sources.base import FetchContext, SourceConfig, optional

USER_AGENT = "jobdash/0.1 (+local job-search dashboard)"
MAX_REQUEST_TIMEOUT_S = 30.0  # one request never waits longer, whatever the source's overall timeout
MAX_BACKOFF_S = 30.0
RETRYABLE_STATUS = frozenset({408, 429, 500, 502, 503, 504})
DEFAULT_MAX_BYTES = 50 * 2**20  # per response, decoded; the largest real board seen is ~15 MB
MAX_REDIRECTS = 5
CHUNK_BYTES = 64 * 1024
WATCH_INTERVAL_S = 0.1  # how often the watchdog looks at the deadline and the cancel flag
REDIRECT_STATUS = frozenset({301, 302, 303, 307, 308})

# Options every HTTP adapter accepts; each adapter adds its own keys.
HTTP_OPTION_KEYS = ("base_url", "retries", "backoff_s", "delay_s", "max_retry_after_s", "max_bytes")


@dataclass(frozen=True)
class HttpOptions:
    base_url: str
    timeout_s: float  # per request
    deadline_s: float  # the whole fetch stops after this long (the source's timeout_s)
    retries: int  # attempts in all, the first included
    backoff_s: float  # first wait; doubles per attempt
    delay_s: float  # polite pause between paged requests
    max_retry_after_s: float  # a longer Retry-After is not waited for: the fetch fails instead
    max_bytes: int = DEFAULT_MAX_BYTES  # one response's body, decoded


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
    max_bytes = options.get("max_bytes", DEFAULT_MAX_BYTES)
    if isinstance(max_bytes, bool) or not isinstance(max_bytes, int) or not 1024 <= max_bytes <= 2**31:
        raise ConfigError(f"{where}max_bytes: expected a whole number of bytes, 1024..2147483648, got {max_bytes!r}")


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
        max_bytes=int(o.get("max_bytes", DEFAULT_MAX_BYTES)),
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


def validate_board(
    options: Mapping[str, Any], where: str, token_key: str, name_key: str = "company", extra: Iterable[str] = ()
) -> None:
    """A board named by one token option plus an optional display-name option, the shared HTTP options and
    ``extra`` keys the adapter checks itself: the options of most ATS adapters."""
    token(options, token_key, where)
    optional(options, name_key, where, str, None)
    validate_http_options(options, where, (token_key, name_key, *extra))


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


def _origin(url: str) -> tuple[str, str, int]:
    parts = urlsplit(url)
    scheme = parts.scheme.lower()
    try:
        port = parts.port
    except ValueError:
        port = -1
    return scheme, (parts.hostname or "").lower(), port or (443 if scheme == "https" else 80)


def redirect_refused(old: str, new: str) -> str | None:
    """Why following a redirect from ``old`` to ``new`` is refused, or None when it stays on the host.

    Same host means the same name and port; http → https on the default ports is an upgrade and allowed.
    127.0.0.1 and localhost are different hosts, as they are to a browser."""
    o_scheme, o_host, o_port = _origin(old)
    n_scheme, n_host, n_port = _origin(new)
    if n_scheme not in ("http", "https"):
        return f"redirected to a non-http(s) URL ({new[:100]!r}); refused"
    upgrade = o_scheme == "http" and n_scheme == "https" and (o_port, n_port) == (80, 443)
    if n_host != o_host or (n_port != o_port and not upgrade):
        return (
            f"redirected to another host ({o_host}:{o_port} → {n_host}:{n_port}); refused: a board API does not "
            f"move hosts, so set base_url to {n_scheme}://{urlsplit(new).netloc} if that is the board's new address"
        )
    if o_scheme == "https" and n_scheme == "http":
        return f"redirected from https to http ({new[:100]!r}); refused"
    return None


class _Sockets:
    """The sockets one client's session opened, so a watchdog can shut them from another thread.

    Sockets, not connections: once a response without a length starts, http.client hands the socket to the
    response and the connection forgets it (``conn.sock`` is None) while the body is still being read."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._socks: weakref.WeakSet[socket.socket] = weakref.WeakSet()

    def add(self, sock: socket.socket | None) -> None:
        if sock is not None:
            with self._lock:
                self._socks.add(sock)

    def shutdown(self) -> None:
        """Wake any thread blocked on these sockets: shutdown() ends a pending recv (close() would not)."""
        with self._lock:
            socks = list(self._socks)
        for sock in socks:
            try:
                sock.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass  # already closed


class _TrackingAdapter(HTTPAdapter):
    """requests' adapter with connections that register their socket once connected."""

    def __init__(self, socks: _Sockets) -> None:
        self._socks = socks  # before super().__init__, which builds the pool manager
        super().__init__()

    def init_poolmanager(self, connections: int, maxsize: int, block: bool = False, **pool_kwargs: Any) -> None:
        super().init_poolmanager(connections, maxsize, block, **pool_kwargs)
        socks = self._socks

        class Conn(HTTPConnection):
            def connect(self) -> None:
                super().connect()
                socks.add(self.sock)

        class TlsConn(HTTPSConnection):
            def connect(self) -> None:
                super().connect()
                socks.add(self.sock)

        class Pool(HTTPConnectionPool):
            ConnectionCls = Conn

        class TlsPool(HTTPSConnectionPool):
            ConnectionCls = TlsConn

        self.poolmanager.pool_classes_by_scheme = {"http": Pool, "https": TlsPool}


@contextmanager
def deadline_session(seconds: float) -> Iterator[tuple[requests.Session, threading.Event]]:
    """A requests session whose sockets are shut once ``seconds`` have passed: one deadline for a whole
    request however slowly the server drips bytes (requests' own timeout is per read). The event says it
    fired; a body read past it may end early rather than fail, so check the event after reading."""
    socks = _Sockets()
    fired = threading.Event()
    session = requests.Session()
    for prefix in ("http://", "https://"):
        session.mount(prefix, _TrackingAdapter(socks))

    def expire() -> None:
        fired.set()
        socks.shutdown()

    timer = threading.Timer(seconds, expire)
    timer.daemon = True
    timer.start()
    try:
        yield session, fired
    finally:
        timer.cancel()
        session.close()


_ESCAPED = re.compile("[\udc80-\udcff]")  # one per undecodable byte under errors="surrogateescape"


class JsonClient:
    """GETs JSON for one fetch, on the budgets of the module docstring; open it in a ``with`` block, which
    closes its session and stops its watchdog.

    ``ctx`` gives the deadline and cancel flag the sync set for this fetch, and takes the warnings."""

    def __init__(
        self, opts: HttpOptions, label: str, not_found: str = "not found", ctx: FetchContext | None = None
    ) -> None:
        self.opts = opts
        self.label = label
        self.not_found = not_found
        self.deadline = time.monotonic() + opts.deadline_s
        if ctx is not None and ctx.deadline is not None:
            self.deadline = min(self.deadline, ctx.deadline)
        self.cancel = ctx.cancel if ctx is not None else None
        self.warnings: list[str] = ctx.warnings if ctx is not None else []
        self._socks = _Sockets()
        self.session = requests.Session()
        for prefix in ("http://", "https://"):
            self.session.mount(prefix, _TrackingAdapter(self._socks))
        self.session.headers.update(
            {"User-Agent": USER_AGENT, "Accept": "application/json", "Accept-Encoding": "gzip, deflate"}
        )
        self._closed = threading.Event()
        self._killed = threading.Event()
        self._kill_reason = ""
        self._watchdog: threading.Thread | None = None

    def __enter__(self) -> JsonClient:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        self._closed.set()
        if self._watchdog is not None:
            self._watchdog.join()
        self.session.close()

    def fail(self, reason: str) -> SourceError:
        return SourceError(f"{self.label}: {reason}")

    def warn(self, message: str) -> None:
        self.warnings.append(f"{self.label}: {message}")

    # --- deadline and cancel ---------------------------------------------------------------------------

    def remaining(self) -> float:
        return self.deadline - time.monotonic()

    def _stop_reason(self) -> str | None:
        if self.remaining() <= 0:
            return f"timed out after {self.opts.deadline_s:g} s"
        if self.cancel is not None and self.cancel.is_set():
            return "stopped: the sync cancelled this fetch"
        return None

    def _check_stop(self) -> None:
        if self._killed.is_set():
            raise self.fail(self._kill_reason)
        reason = self._stop_reason()
        if reason is not None:
            raise self.fail(reason)

    def _watch(self) -> None:
        while not self._closed.wait(WATCH_INTERVAL_S):
            reason = self._stop_reason()
            if reason is not None:
                self._kill_reason = reason
                self._killed.set()
                self._socks.shutdown()
                return

    def _start_watchdog(self) -> None:
        if self._watchdog is None:
            self._watchdog = threading.Thread(target=self._watch, name=f"watchdog {self.label}", daemon=True)
            self._watchdog.start()

    def _sleep(self, seconds: float) -> None:
        """Wait (a backoff, a polite pause) but never past the deadline, and wake on cancel."""
        wait = max(0.0, min(seconds, self.remaining()))
        if self.cancel is not None:
            self.cancel.wait(wait)
        else:
            time.sleep(wait)
        self._check_stop()

    def pause(self) -> None:
        """The polite delay between paged requests."""
        if self.opts.delay_s > 0:
            self._sleep(self.opts.delay_s)

    def details(
        self, paths: list[str], max_details: int, progress: Callable[[float, str], None], warnings: list[str]
    ) -> list[Mapping[str, Any]]:
        """One detail GET per posting, politely paced, for the first ``max_details`` paths; a failed or missing
        detail is an empty mapping and a warning (the posting is kept without its description)."""
        out: list[Mapping[str, Any]] = []
        for i, path in enumerate(paths):
            detail: Mapping[str, Any] = {}
            if i < max_details:
                self.pause()
                progress(i / max(len(paths), 1), f"{self.label}: details {i + 1}/{len(paths)}")
                try:
                    detail = mapping(self.get_json(path))
                except SourceError as e:
                    warnings.append(f"no description for {path}: {e}")
            out.append(detail)
        if len(paths) > max_details:
            warnings.append(f"descriptions fetched for the first {max_details} of {len(paths)} postings")
        return out

    # --- requests --------------------------------------------------------------------------------------

    def get_json(self, path: str, params: Mapping[str, str | int] | None = None) -> Any:
        return self._call("GET", path, params, None)

    def post_json(self, path: str, body: Mapping[str, Any]) -> Any:
        """POST a JSON body and read JSON back, with the same retries and failure reasons as get_json."""
        return self._call("POST", path, None, body)

    def _call(self, method: str, path: str, params: Mapping[str, str | int] | None, body: Any) -> Any:
        url = self.opts.base_url + path
        attempt = 0
        while True:
            attempt += 1
            self._check_stop()
            try:
                return self._request_once(method, url, params, body)
            except _Retryable as e:
                tally = ""
                if attempt > 1:
                    tally = f" after {attempt} attempts" if e.reason.startswith("HTTP") else f" ({attempt} attempts)"
                if attempt >= self.opts.retries:
                    raise self.fail(e.reason + tally) from e
                wait = self._backoff(attempt, e)
                if wait >= self.remaining():
                    left = f"no time left for another attempt within timeout_s = {self.opts.deadline_s:g} s"
                    raise self.fail(f"{e.reason}{tally}; {left}") from e
                self._sleep(wait)

    def _backoff(self, attempt: int, exc: _Retryable) -> float:
        wait: float = min(self.opts.backoff_s * 2.0 ** (attempt - 1), MAX_BACKOFF_S)
        if exc.retry_after is not None:
            wait = max(wait, exc.retry_after)
        return wait

    def _request_once(self, method: str, url: str, params: Mapping[str, str | int] | None, body: Any) -> Any:
        """One attempt: the request, same-host redirects, the streamed body, the JSON."""
        self._start_watchdog()
        for _hop in range(MAX_REDIRECTS + 1):
            self._check_stop()
            timeout = max(0.001, min(self.opts.timeout_s, self.remaining()))
            capped = timeout < self.opts.timeout_s  # this request's timeout is the fetch's deadline
            try:
                resp = self.session.request(
                    method, url, params=params, json=body, timeout=timeout, stream=True, allow_redirects=False
                )
            except requests.RequestException as e:
                self._check_killed()
                if isinstance(e, requests.Timeout):
                    if capped:
                        raise self.fail(f"timed out after {self.opts.deadline_s:g} s") from None
                    raise _Retryable(f"timed out after {self.opts.timeout_s:g} s") from e
                if isinstance(e, requests.ConnectionError):
                    raise _Retryable(f"connection failed: {_root_cause(e)}") from e
                raise self.fail(f"request failed: {e}") from e
            try:
                if resp.is_redirect:
                    target = urljoin(resp.url, self.session.get_redirect_target(resp) or "")
                    refused = redirect_refused(resp.url, target)
                    if refused is not None:
                        raise self.fail(refused)
                    if resp.status_code == 303 or (resp.status_code in (301, 302) and method == "POST"):
                        method, body = "GET", None  # what browsers and requests do
                    url, params = target, None  # the Location carries its own query
                    continue
                return self._read_json(resp, capped)
            finally:
                resp.close()  # an unread body closes the socket instead of returning it to the pool
        raise self.fail(f"more than {MAX_REDIRECTS} redirects")

    def _check_killed(self) -> None:
        """After a watchdog shut the socket, whatever the read saw (EOF, a reset) is the deadline."""
        if self._killed.is_set():
            raise self.fail(self._kill_reason) from None

    def _read_json(self, resp: requests.Response, capped: bool) -> Any:
        if resp.status_code in RETRYABLE_STATUS:
            reason = _status_reason(resp.status_code, self.not_found)
            retry_after = _retry_after_s(resp.headers.get("Retry-After"))
            if retry_after is not None and retry_after > self.opts.max_retry_after_s:
                raise self.fail(f"{reason}, asked to retry after {retry_after:g} s")
            raise _Retryable(reason, retry_after)
        if resp.status_code >= 400:
            raise self.fail(_status_reason(resp.status_code, self.not_found))
        try:
            body = self._read_body(resp)
        except urllib3.exceptions.ReadTimeoutError as e:
            self._check_killed()
            if capped:
                raise self.fail(f"timed out after {self.opts.deadline_s:g} s") from None
            raise _Retryable(f"timed out after {self.opts.timeout_s:g} s") from e
        except (urllib3.exceptions.HTTPError, requests.RequestException, OSError) as e:
            self._check_killed()
            raise _Retryable(f"connection broken while reading the response: {e}"[:200]) from e
        self._check_killed()  # a shut socket reads as the end of the body: that body is cut, not whole
        return self._decode_json(body, resp)

    def _read_body(self, resp: requests.Response) -> bytearray:
        """The body, decompressed, read in chunks against the byte budget and the deadline."""
        limit = self.opts.max_bytes
        announced = resp.headers.get("Content-Length", "").strip()
        if announced.isdigit() and int(announced) > limit:
            raise self.fail(f"response of {int(announced):,} bytes exceeds {limit:,} bytes (max_bytes)")
        coding = resp.headers.get("Content-Encoding", "").strip().lower()
        if coding in ("", "identity"):
            inflate = None
        elif coding in ("gzip", "x-gzip"):
            inflate = zlib.decompressobj(16 + zlib.MAX_WBITS)
        elif coding == "deflate":
            inflate = zlib.decompressobj(32 + zlib.MAX_WBITS)  # zlib or gzip framing, detected
        else:
            raise self.fail(f"unsupported Content-Encoding {coding!r}")
        body = bytearray()
        received = 0
        while True:
            self._check_stop()
            chunk = resp.raw.read(CHUNK_BYTES, decode_content=False)
            if not chunk:
                break
            received += len(chunk)
            if inflate is None:
                body += chunk
            else:
                data = chunk
                while data and not inflate.eof:
                    try:  # max_length bounds what one call may expand to: never more than the budget left
                        body += inflate.decompress(data, limit + 1 - len(body))
                    except zlib.error as e:
                        raise self.fail(f"could not decompress the {coding} body: {e}") from None
                    if len(body) > limit:
                        break
                    data = inflate.unconsumed_tail
            if len(body) > limit:
                how = f" once decompressed ({coding}, {received:,} bytes received)" if inflate else ""
                raise self.fail(f"response exceeds {limit:,} bytes (max_bytes){how}; stopped reading")
        return body

    def _decode_json(self, body: bytearray, resp: requests.Response) -> Any:
        content_type = resp.headers.get("Content-Type", "")
        charset = (resp.encoding or "utf-8") if "charset" in content_type.lower() else "utf-8"
        try:
            text = body.decode(charset)
        except LookupError:
            charset = "utf-8"
            text = body.decode(charset, errors="surrogateescape")
        except UnicodeDecodeError:
            text = body.decode(charset, errors="surrogateescape")
        if _ESCAPED.search(text):
            bad = sum(1 for _ in _ESCAPED.finditer(text))
            text = _ESCAPED.sub("\ufffd", text)
            where = urlsplit(resp.url).path or "/"
            n, was = (f"{bad:,} bytes", "were") if bad != 1 else ("1 byte", "was")
            self.warn(f"{n} of the response from {where} {was} not {charset} and {was} replaced (U+FFFD)")
        del body
        try:
            return json.loads(text.removeprefix("\ufeff"))
        except RecursionError:
            raise self.fail("invalid JSON: nested too deeply to read") from None
        except ValueError as e:
            start = text[:60].replace("\n", " ")
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
