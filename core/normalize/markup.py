"""Descriptions: HTML (or HTML-escaped HTML, as Greenhouse sends it) → sanitized plain text.

nh3 (Ammonia, an html5ever parser) does the sanitizing: it repairs broken markup, drops script and
style content, comments and every attribute, and keeps only block tags; the standard library's
HTMLParser then walks that small, well-formed result to lay out lines and decode entities.
"""

from __future__ import annotations

import html
import re
from html.parser import HTMLParser
from typing import Any

import nh3
import pyarrow as pa
import pyarrow.compute as pc

from core.normalize.text import as_array

MAX_DESCRIPTION_BYTES = 1_000_000  # longer descriptions are cut (and counted as repaired)
TRUNCATION_MARKER = "\n\n[… description truncated]"
_MAX_MARKUP_CHARS = 4 * MAX_DESCRIPTION_BYTES  # bound the parsing work on absurd inputs

_PARAGRAPH_TAGS = frozenset(
    {"p", "div", "ul", "ol", "dl", "table", "section", "article", "header", "footer", "blockquote", "pre", "hr"}
    | {f"h{i}" for i in range(1, 7)}
)
_LINE_TAGS = frozenset({"br", "li", "tr", "dt", "dd"})
_CELL_TAGS = frozenset({"td", "th"})
_KEPT_TAGS = _PARAGRAPH_TAGS | _LINE_TAGS | _CELL_TAGS | {"tbody", "thead"}

_TAG = re.compile(r"</?[a-zA-Z][^<>]*>|<!--")
_ESCAPED_TAG = re.compile(r"&(?:amp;)*lt;/?[a-zA-Z][a-zA-Z0-9]*(?:\s[^<>]{0,500}?)?/?&(?:amp;)*gt;")
_ENTITY = re.compile(r"&(?:[a-zA-Z][a-zA-Z0-9]{1,31}|#[0-9]{1,7}|#[xX][0-9a-fA-F]{1,6});")
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\u200b-\u200d\u2060\ufeff]")
_CRLF = re.compile(r"\r\n?")
_SPACES = re.compile(r"[ \t\u00a0\u2000-\u200a\u202f\u205f\u3000]+")
_SPACE_AROUND_NEWLINE = re.compile(r" *\n *")
_MANY_NEWLINES = re.compile(r"\n{3,}")
# Arrow (RE2) prefilter: rows that need the Python path at all.
_NEEDS_WORK_RE2 = r"[<&\r\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\x{200B}-\x{200D}\x{2060}\x{FEFF}]"


class _TextLayout(HTMLParser):
    """Plain text from nh3's output: block tags become line breaks, list items get a bullet."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []
        self.in_pre = 0

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag == "li":
            self.parts.append("\n• ")
        elif tag in _PARAGRAPH_TAGS:
            self.parts.append("\n\n")
        elif tag in _LINE_TAGS:
            self.parts.append("\n")
        elif tag in _CELL_TAGS:
            self.parts.append(" ")
        if tag == "pre":
            self.in_pre += 1

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.handle_starttag(tag, attrs)

    def handle_endtag(self, tag: str) -> None:
        if tag in _PARAGRAPH_TAGS:
            self.parts.append("\n\n")
        if tag == "pre" and self.in_pre:
            self.in_pre -= 1

    def handle_data(self, data: str) -> None:
        # HTML whitespace semantics: source line breaks are just spaces, except inside <pre>.
        self.parts.append(data if self.in_pre else re.sub(r"\s+", " ", data))

    def text(self) -> str:
        return "".join(self.parts)


def looks_like_html(text: str) -> bool:
    return bool(_TAG.search(text) or _ESCAPED_TAG.search(text))


def _unescape_nested(text: str) -> str:
    """Greenhouse sends ``&lt;p&gt;…``: unescape (at most twice) until real tags appear."""
    for _ in range(2):
        if _TAG.search(text) or not _ESCAPED_TAG.search(text):
            break
        text = html.unescape(text)
    return text


def _tidy(text: str) -> str:
    text = _SPACES.sub(" ", text)
    text = _SPACE_AROUND_NEWLINE.sub("\n", text)
    text = _MANY_NEWLINES.sub("\n\n", text)
    return text.strip()


def html_to_text(markup: str) -> str:
    """Sanitized plain text from HTML, escaped HTML or plain text with entities."""
    markup = _CONTROL.sub("", _CRLF.sub("\n", markup))
    markup = _unescape_nested(markup)
    if not _TAG.search(markup):
        # No markup at all: keep the author's line breaks, only decode entities.
        return _tidy(html.unescape(markup) if _ENTITY.search(markup) else markup)
    cleaned = nh3.clean(
        markup,
        tags=set(_KEPT_TAGS),
        attributes={},
        clean_content_tags={"script", "style"},
        strip_comments=True,
        link_rel=None,
    )
    layout = _TextLayout()
    layout.feed(cleaned)
    layout.close()
    return _tidy(layout.text())


def clean_description(text: str | None) -> tuple[str | None, bool]:
    """One description → (plain text or None, whether it had to be truncated)."""
    if text is None:
        return None, False
    truncated = False
    if len(text) > _MAX_MARKUP_CHARS:
        text, truncated = text[:_MAX_MARKUP_CHARS], True
    plain = html_to_text(text)
    if len(plain.encode("utf-8")) > MAX_DESCRIPTION_BYTES:
        plain = _cut_utf8(plain, MAX_DESCRIPTION_BYTES - len(TRUNCATION_MARKER.encode("utf-8")))
        truncated = True
    if truncated:
        plain = plain.rstrip() + TRUNCATION_MARKER
    return plain or None, truncated


def _cut_utf8(text: str, max_bytes: int) -> str:
    return text.encode("utf-8")[:max_bytes].decode("utf-8", errors="ignore")


def clean_description_column(values: Any) -> tuple[Any, int]:
    """Descriptions column → (plain-text column, number truncated).

    Plain text without ``<``, ``&``, CR or control characters (the common case for boards and the
    demo) only gets its ends trimmed in Arrow; the rest goes through ``clean_description``.
    """
    arr = as_array(values).cast(pa.string())
    if len(arr) == 0:
        return arr, 0
    oversized = pc.greater(pc.binary_length(arr), MAX_DESCRIPTION_BYTES)
    needs_work = pc.or_kleene(pc.match_substring_regex(arr, _NEEDS_WORK_RE2), oversized)
    needs_work = pc.fill_null(needs_work, False)
    result = pc.utf8_trim_whitespace(arr)
    truncated = 0
    positions = pc.indices_nonzero(needs_work).to_pylist()
    if positions:
        cleaned: list[str | None] = []
        for text in arr.take(pa.array(positions, pa.int64())).to_pylist():
            plain, cut = clean_description(text)
            cleaned.append(plain)
            truncated += cut
        result = pc.replace_with_mask(result, needs_work, pa.array(cleaned, pa.string()))
    result = pc.if_else(pc.equal(result, ""), pa.scalar(None, pa.string()), result)
    return result, truncated
