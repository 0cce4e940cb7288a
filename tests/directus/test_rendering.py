"""Markdown is rendered once and sanitized: hostile content never reaches the page."""

from __future__ import annotations

import re

import pytest

from directus.rendering import markdown_render

HOSTILE = [
    "<script>alert(1)</script>",
    '<img src="x" onerror="alert(1)">',
    '<a href="javascript:alert(1)">click</a>',
    '<a href="JaVaScRiPt:alert(1)">click</a>',
    '<a href="  javascript:alert(1)">click</a>',
    "[click](javascript:alert(1))",
    '<div onclick="steal()" style="background:url(x)">hi</div>',
    '<iframe src="https://evil.example"></iframe>',
    "<svg><script>alert(1)</script></svg>",
    '<form action="https://evil.example"><input name="x"></form>',
    '<a href="data:text/html;base64,PHNjcmlwdD5hbGVydCgxKTwvc2NyaXB0Pg==">x</a>',
    '<p style="position:fixed">x</p>',
    '<object data="x"></object><embed src="x">',
]


@pytest.mark.parametrize("source", HOSTILE)
def test_hostile_html_is_neutralised(source: str) -> None:
    html = markdown_render(f"Intro\n\n{source}\n\nOutro").html.lower()
    for bad in (
        "<script",
        "onerror",
        "onclick",
        "<iframe",
        "<form",
        "<input",
        "style=",
        "<object",
        "<embed",
        "<svg",
    ):
        assert bad not in html, (source, html)
    # A scheme may survive as visible text, never inside an attribute.
    assert not re.search(r"(href|src)=\"\s*(javascript|data|vbscript):", html), html
    assert "outro" in html


def test_headings_get_anchors_and_a_table_of_contents() -> None:
    rendered = markdown_render(
        "# Title\n\n## Install it\n\ntext\n\n## Install it\n\n### Deep `code`"
    )
    assert '<h2 id="install-it">' in rendered.html
    assert '<h2 id="install-it-1">' in rendered.html
    assert [h["id"] for h in rendered.toc] == ["title", "install-it", "install-it-1", "deep-code"]
    assert rendered.toc[3] == {"level": 3, "id": "deep-code", "text": "Deep code"}


def test_code_blocks_get_language_classes_and_highlighting() -> None:
    html = markdown_render("```python\ndef f():\n    return '<b>'\n```").html
    assert '<code class="language-python">' in html
    assert 'class="tok-k"' in html  # pygments token spans
    assert "&lt;b&gt;" in html and "<b>" not in html


def test_a_hostile_language_name_is_dropped() -> None:
    html = markdown_render('```"><script>alert(1)</script>\nx\n```').html
    assert "<script" not in html and "language-" not in html


def test_invalid_markdown_renders_without_error() -> None:
    rendered = markdown_render("**unclosed *emphasis [link(\n\n```\nunterminated fence")
    assert "unclosed" in rendered.html
    assert markdown_render(None).html == ""


def test_links_are_kept_with_safe_rel() -> None:
    html = markdown_render("[site](https://example.org) [mail](mailto:a@b.org)").html
    assert 'href="https://example.org"' in html and 'href="mailto:a@b.org"' in html
    assert 'rel="noopener noreferrer nofollow"' in html


def test_plain_text_is_extracted_for_search() -> None:
    text = markdown_render("# Title\n\nSome *body* text.\n\n- one\n- two").text
    assert text == "Title Some body text. one two"
