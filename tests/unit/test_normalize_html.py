"""Descriptions: HTML, escaped HTML and plain text → sanitized plain text."""

from __future__ import annotations

import pyarrow as pa
import pytest

from core.normalize.markup import (
    MAX_DESCRIPTION_BYTES,
    TRUNCATION_MARKER,
    clean_description,
    clean_description_column,
    html_to_text,
)

CASES = [
    ("<p>Hello</p><p>World</p>", "Hello\n\nWorld"),
    ("Line one<br>Line two<br/>Line three", "Line one\nLine two\nLine three"),
    ("<ul><li>Python</li><li>SQL</li></ul>", "• Python\n• SQL"),
    ("<ol><li>First</li><li>Second</li></ol>", "• First\n• Second"),
    ("<h2>About</h2><div>We build <b>tools</b>.</div>", "About\n\nWe build tools."),
    ("<p>Fish &amp; chips &lt;3 &eacute;t&eacute; &#8364;5 &nbsp;ok</p>", "Fish & chips <3 été €5 ok"),
    ("<p>Hi</p><script>alert('x')</script><style>p{color:red}</style>", "Hi"),
    ('<p>Image<img src="x" onerror="alert(1)"></p>', "Image"),
    ('<a href="javascript:alert(1)" onclick="steal()">Apply here</a>', "Apply here"),
    ("<p>Unclosed <b>bold<p>next", "Unclosed bold\n\nnext"),
    ("<!-- hidden --><p>Shown</p>", "Shown"),
    ("<p>  lots   of\n\n   space  </p>", "lots of space"),
    ("<table><tr><td>Stack</td><td>Python</td></tr></table>", "Stack Python"),
    ("<pre>keep\n  lines</pre>", "keep\nlines"),  # line breaks kept; indentation is not
    # Greenhouse sends the HTML escaped once (and some feeds twice).
    (
        "&lt;p&gt;Join &lt;strong&gt;Acme&lt;/strong&gt;&lt;/p&gt;&lt;ul&gt;&lt;li&gt;Remote&lt;/li&gt;&lt;/ul&gt;",
        "Join Acme\n\n• Remote",
    ),
    ("&amp;lt;p&amp;gt;Twice escaped&amp;lt;/p&amp;gt;", "Twice escaped"),
    ("&lt;div class=&quot;content&quot;&gt;&lt;p&gt;R&amp;amp;D team&lt;/p&gt;&lt;/div&gt;", "R&D team"),
    ("&lt;script&gt;alert(1)&lt;/script&gt;&lt;p&gt;Safe&lt;/p&gt;", "Safe"),
    # Plain text keeps its line breaks; entities alone are decoded without treating it as HTML.
    ("Plain text\nwith lines", "Plain text\nwith lines"),
    ("R&D and Q&A, 5 < 6", "R&D and Q&A, 5 < 6"),
    ("Tom &amp; Jerry\nSecond line", "Tom & Jerry\nSecond line"),
    ("Windows\r\nline\rends", "Windows\nline\nends"),
]


@pytest.mark.parametrize(("markup", "text"), CASES, ids=[c[0][:30] for c in CASES])
def test_html_to_text(markup: str, text: str) -> None:
    assert html_to_text(markup) == text


def test_no_markup_survives_in_dangerous_input() -> None:
    out = html_to_text('<div onmouseover="x()"><iframe src="evil"></iframe><svg onload=alert(1)>t</svg><p>ok</p></div>')
    assert "<" not in out and "onload" not in out and "iframe" not in out
    assert out.endswith("ok")


def test_nul_and_control_characters_are_stripped() -> None:
    assert html_to_text("a\x00b\x07c\u200bd\x1fe") == "abcde"
    assert clean_description("<p>x\x00y</p>") == ("xy", False)


def test_huge_description_is_truncated_with_marker() -> None:
    text, truncated = clean_description("<p>" + "word " * 2_000_000 + "</p>")  # 10 MB
    assert truncated
    assert text is not None and text.endswith(TRUNCATION_MARKER)
    assert len(text.encode("utf-8")) <= MAX_DESCRIPTION_BYTES


def test_column_only_touches_rows_that_need_it_and_counts_truncations() -> None:
    big = "x" * (MAX_DESCRIPTION_BYTES + 10)
    values = ["  plain text  ", "<p>html</p>", None, "", "nul\x00here", big]
    out, truncated = clean_description_column(pa.array(values, pa.string()))
    got = out.to_pylist()
    assert got[:5] == ["plain text", "html", None, None, "nulhere"]
    assert truncated == 1 and got[5].endswith(TRUNCATION_MARKER)


def test_markdown_renders_to_the_same_text_as_html_for_markdown_sources() -> None:
    md = "**About the role**\n\n* Build pan\\-India pipelines\n* Ship \\*fast\\*\n\nApply [here](https://x.test)."
    html_version = "<p><strong>About the role</strong></p><ul><li>Build pan-India pipelines</li><li>Ship *fast*</li></ul><p>Apply here.</p>"
    assert html_to_text(md, markdown=True) == html_to_text(html_version)


def test_stray_bold_inside_html_is_dropped() -> None:
    assert html_to_text("<p>mention the word **REFORMS** when applying</p>") == "mention the word REFORMS when applying"
