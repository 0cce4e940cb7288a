"""Markdown → sanitized HTML, done once when an item is synced (never per request).

Editors write Markdown (and may paste HTML); whatever they send, the output holds no
script, no event handlers and no ``javascript:`` links, because nh3 (an allow-list
sanitizer) has the last word after rendering.
"""

from __future__ import annotations

import html as html_lib
import re
from dataclasses import dataclass, field
from typing import Any

import nh3
from django.utils.text import slugify
from markdown_it import MarkdownIt
from pygments import highlight
from pygments.formatters import HtmlFormatter
from pygments.lexers import get_lexer_by_name
from pygments.util import ClassNotFound

_ALLOWED_TAGS = {
    "a",
    "abbr",
    "b",
    "blockquote",
    "br",
    "code",
    "dd",
    "del",
    "details",
    "div",
    "dl",
    "dt",
    "em",
    "figcaption",
    "figure",
    "h1",
    "h2",
    "h3",
    "h4",
    "h5",
    "h6",
    "hr",
    "i",
    "img",
    "ins",
    "kbd",
    "li",
    "mark",
    "ol",
    "p",
    "pre",
    "q",
    "s",
    "small",
    "span",
    "strong",
    "sub",
    "summary",
    "sup",
    "table",
    "tbody",
    "td",
    "tfoot",
    "th",
    "thead",
    "tr",
    "u",
    "ul",
}
_ALLOWED_ATTRIBUTES = {
    "a": {"href", "title", "id"},
    "img": {"src", "alt", "title", "width", "height"},
    "code": {"class"},
    "pre": {"class"},
    "span": {"class"},
    "div": {"class"},
    "th": {"align", "colspan", "rowspan"},
    "td": {"align", "colspan", "rowspan"},
    "ol": {"start"},
    **{f"h{level}": {"id"} for level in range(1, 7)},
}
_URL_SCHEMES = {"http", "https", "mailto"}
_LANGUAGE_NAME = re.compile(r"^[A-Za-z0-9_+#.-]{1,32}$")
_BLOCK_END = re.compile(r"</(?:p|h[1-6]|li|pre|div|td|th|tr|blockquote|dd|dt)>|<br\s*/?>")
_FORMATTER = HtmlFormatter(nowrap=True, classprefix="tok-")


@dataclass
class Rendered:
    html: str
    toc: list[dict[str, Any]] = field(default_factory=list)
    text: str = ""


def _highlight(code: str, lang: str, _attrs: str) -> str:
    """Pygments spans inside markdown-it's ``<pre><code class="language-…">`` wrapper."""
    if not lang or not _LANGUAGE_NAME.match(lang):
        return ""
    try:
        lexer = get_lexer_by_name(lang)
    except ClassNotFound:
        return ""
    return highlight(code, lexer, _FORMATTER)


_UNSAFE_SCHEMES = ("javascript:", "vbscript:", "data:")


def _link_allowed(url: str) -> bool:
    return not url.strip().lower().startswith(_UNSAFE_SCHEMES)


def _markdown() -> MarkdownIt:
    md = MarkdownIt("commonmark", {"html": True, "highlight": _highlight})
    md.enable(["table", "strikethrough"])
    # Defence in depth: nh3 drops these schemes too, but never emit them at all.
    md.validateLink = _link_allowed  # type: ignore[method-assign]
    return md


_MD = _markdown()


def markdown_render(source: str | None) -> Rendered:
    """Render ``source`` (Markdown, possibly with raw HTML) to safe HTML plus a TOC."""
    text = source or ""
    env: dict[str, Any] = {}
    tokens = _MD.parse(text, env)
    toc: list[dict[str, Any]] = []
    used: dict[str, int] = {}
    for index, token in enumerate(tokens):
        if token.type == "fence":
            lang = (token.info or "").strip().split(maxsplit=1)[0] if token.info else ""
            if lang and not _LANGUAGE_NAME.match(lang):
                token.info = ""
        if token.type != "heading_open":
            continue
        inline = tokens[index + 1]
        title = _inline_text(inline)
        anchor = slugify(title)[:80] or "section"
        count = used.get(anchor, 0)
        used[anchor] = count + 1
        if count:
            anchor = f"{anchor}-{count}"
        token.attrSet("id", anchor)
        level = int(token.tag[1])
        if level <= 3:
            toc.append({"level": level, "id": anchor, "text": title})
    raw = _MD.renderer.render(tokens, _MD.options, env)
    safe = html_sanitize(raw)
    return Rendered(html=safe, toc=toc, text=html_to_text(safe))


def _inline_text(token: Any) -> str:
    parts = []
    for child in token.children or []:
        if child.type in {"text", "code_inline"}:
            parts.append(child.content)
    return "".join(parts).strip() or token.content.strip()


def html_sanitize(raw: str) -> str:
    return nh3.clean(
        raw,
        tags=_ALLOWED_TAGS,
        attributes=_ALLOWED_ATTRIBUTES,
        url_schemes=_URL_SCHEMES,
        link_rel="noopener noreferrer nofollow",
        strip_comments=True,
    )


def html_to_text(safe_html: str) -> str:
    """Plain text of sanitized HTML (for search and snippets)."""
    spaced = _BLOCK_END.sub(lambda m: m.group(0) + " ", safe_html)
    stripped = nh3.clean(spaced, tags=set())
    return re.sub(r"\s+", " ", html_lib.unescape(stripped)).strip()


def plain_text(source: str | None) -> str:
    """Escape-free text for fields that are not Markdown (titles, labels)."""
    return re.sub(r"\s+", " ", source or "").strip()
