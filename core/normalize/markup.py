"""Descriptions: HTML (or HTML-escaped HTML, as Greenhouse sends it) → sanitized plain text.

nh3 (Ammonia, an html5ever parser) does the parsing and sanitizing: it repairs broken markup, drops
script and style content, comments and every attribute, keeps only block tags and serializes the
result canonically (text ``<``/``&`` escaped, bare ``<p>``/``</p>`` tags). Layout is then a token
mapping over that canonical output — never a regex over untrusted HTML — and ``html.unescape``
decodes the entities. (The stdlib HTMLParser did the same job ten times slower.)
"""

from __future__ import annotations

import html
import re
from typing import Any

import nh3
import pyarrow as pa
import pyarrow.compute as pc
from markdown_it import MarkdownIt

from core.normalize.text import MOJIBAKE_RE2, fix_mojibake

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
# Control and zero-width characters (not tab, LF, CR), deleted with str.translate.
_CONTROL_TABLE = dict.fromkeys(
    [*range(0x00, 0x09), 0x0B, 0x0C, *range(0x0E, 0x20), *range(0x7F, 0xA0), 0x200B, 0x200C, 0x200D, 0x2060, 0xFEFF]
)
# Arrow (RE2) prefilter: rows that need the Python path at all.
_NEEDS_WORK_RE2 = (
    r"[<&\r\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\x{200B}-\x{200D}\x{2060}\x{FEFF}]|^\s|\s$|\*\*|__|" + MOJIBAKE_RE2
)
# Sources whose descriptions may be Markdown, and what sends one of their rows to the Python path.
MARKDOWN_KINDS = frozenset({"file", "jobspy"})
_MARKDOWN_WORK_RE2 = _NEEDS_WORK_RE2 + r"|\\|(?m)^\s{0,3}(?:[*+-]\s|#{1,6}\s|>)|\]\(|`"

# Markdown (JobSpy's default description format, and what many CSVs hold): rendered to HTML by
# markdown-it (raw HTML in it stays text) and then reduced like any HTML, so both give the same text.
_MARKDOWN = MarkdownIt("commonmark", {"html": False, "breaks": True}).disable(["image"])
_MARKDOWN_SIGNS = re.compile(
    r"\*\*\S|\S\*\*|__\S|\\[-\\`*_{}\[\]()#+.!|>~]|^\s{0,3}(?:[*+-]\s+\S|#{1,6}\s+\S|>\s)|\]\(https?://|`[^`\n]+`",
    re.M,
)
# Emphasis markers left inside HTML descriptions ("Please mention the word **REFORMS**").
_STRAY_STRONG = re.compile(r"\*\*(?=\S)(.+?)(?<=\S)\*\*|__(?=\S)(.+?)(?<=\S)__")


def _layout_for(tag: str, closing: bool) -> str:
    if tag in _PARAGRAPH_TAGS:
        return "\n\n"
    if closing:
        return ""
    if tag == "li":
        return "\n• "
    if tag in _LINE_TAGS:
        return "\n"
    return " " if tag in _CELL_TAGS else ""


# What each tag of nh3's output becomes in the text: block tags break lines, list items get a bullet.
_LAYOUT: dict[str, str] = {
    f"<{'/' if closing else ''}{tag}>": _layout_for(tag, closing) for tag in _KEPT_TAGS for closing in (False, True)
}
# nh3 serializes canonically: every "<" of the text is escaped and our tags carry no attributes,
# so these tokens are exactly the tags it kept.
_KEPT_TAG_TOKEN = re.compile(r" ?(</?[a-z0-9]+>) ?")  # spaces next to a block tag carry no meaning
_BLANK_LINES = re.compile(r"\n{3,}")
_PRE_BLOCK = re.compile(r"<pre>.*?</pre>", re.S)


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
    """Spaces collapsed in each line, at most one blank line in a row, ends stripped (str methods: fast)."""
    lines: list[str] = []
    blank = False
    for line in text.split("\n"):
        line = " ".join(line.split())
        if not line:
            blank = True
            continue
        if blank and lines:
            lines.append("")
        lines.append(line)
        blank = False
    return "\n".join(lines)


def looks_like_markdown(text: str) -> bool:
    return _MARKDOWN_SIGNS.search(text) is not None


def markdown_to_html(text: str) -> str:
    rendered: str = _MARKDOWN.render(text)
    return rendered


def html_to_text(markup: str, markdown: bool = False) -> str:
    """Sanitized plain text from HTML, escaped HTML or plain text with entities; with ``markdown``,
    text without HTML tags that looks like Markdown is rendered first (only for sources that send it:
    rendering is ~100x the cost of the rest, and plain "- " lists read fine as they are)."""
    markup = fix_mojibake(markup).translate(_CONTROL_TABLE)
    if "\r" in markup:
        markup = markup.replace("\r\n", "\n").replace("\r", "\n")
    markup = _unescape_nested(markup)
    if not _TAG.search(markup):
        if markdown and looks_like_markdown(markup):
            markup = markdown_to_html(markup)
        else:
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
    # HTML whitespace semantics: source line breaks are spaces, except inside <pre>.
    if "<pre>" in cleaned:
        cleaned = _PRE_BLOCK.sub(lambda m: m.group().replace("\n", "<br>"), cleaned)
    cleaned = " ".join(cleaned.replace("&nbsp;", " ").split())
    text = _KEPT_TAG_TOKEN.sub(lambda m: _LAYOUT.get(m.group(1), ""), cleaned)
    text = _BLANK_LINES.sub("\n\n", text)
    text = html.unescape(text).strip()
    if "**" in text or "__" in text:
        text = _STRAY_STRONG.sub(lambda m: m.group(1) or m.group(2), text)
    return text


def clean_description(text: str | None, markdown: bool = False) -> tuple[str | None, bool]:
    """One description → (plain text or None, whether it had to be truncated)."""
    if text is None:
        return None, False
    truncated = False
    if len(text) > _MAX_MARKUP_CHARS:
        text, truncated = text[:_MAX_MARKUP_CHARS], True
    plain = html_to_text(text, markdown)
    if len(plain.encode("utf-8")) > MAX_DESCRIPTION_BYTES:
        plain = _cut_utf8(plain, MAX_DESCRIPTION_BYTES - len(TRUNCATION_MARKER.encode("utf-8")))
        truncated = True
    if truncated:
        plain = plain.rstrip() + TRUNCATION_MARKER
    return plain or None, truncated


def _cut_utf8(text: str, max_bytes: int) -> str:
    return text.encode("utf-8")[:max_bytes].decode("utf-8", errors="ignore")


def clean_description_column(values: Any, markdown: bool = False) -> tuple[Any, int]:
    """Descriptions column → (plain-text column, number truncated).

    Plain text without ``<``, ``&``, CR, control characters or whitespace at its ends (the common
    case for boards and the demo) is kept as it is; the rest goes through ``clean_description``.
    Works chunk by chunk: descriptions are the bulk of the bytes and are never copied whole.
    """
    chunks = values.chunks if isinstance(values, pa.ChunkedArray) else [values]
    out, truncated = [], 0
    for chunk in chunks:
        cleaned, cut = _clean_description_chunk(chunk.cast(pa.string()), markdown)
        out.append(cleaned)
        truncated += cut
    return pa.chunked_array(out, pa.string()), truncated


def _clean_description_chunk(arr: Any, markdown: bool) -> tuple[Any, int]:
    if len(arr) == 0:
        return arr, 0
    lengths = pc.binary_length(arr)
    odd_size = pc.or_(pc.greater(lengths, MAX_DESCRIPTION_BYTES), pc.equal(lengths, 0))  # cut, or "" → null
    pattern = _MARKDOWN_WORK_RE2 if markdown else _NEEDS_WORK_RE2
    needs_work = pc.fill_null(pc.or_(pc.match_substring_regex(arr, pattern), odd_size), False)
    positions = pc.indices_nonzero(needs_work).to_pylist()
    if not positions:
        return arr, 0
    cleaned: list[str | None] = []
    truncated = 0
    for text in arr.take(pa.array(positions, pa.int64())).to_pylist():
        plain, cut = clean_description(text, markdown)
        cleaned.append(plain)
        truncated += cut
    return pc.replace_with_mask(arr, needs_work, pa.array(cleaned, pa.string())), truncated
