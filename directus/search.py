"""Site search: one registry of sources (docs and pages here; other apps add theirs).

A source is a function ``(query, *, user, language, limit) -> list[SearchHit]``. Other
apps register theirs at start-up::

    from directus.search import search_source_register
    search_source_register("proposals", proposals_search)

Snippets are HTML with matches in ``<mark>``; everything else in them is escaped.
"""

from __future__ import annotations

import html
import logging
import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Protocol

from django.db import connection

from directus.constants import DEFAULT_LANGUAGE, Collection, Status
from directus.models import ContentItem

log = logging.getLogger(__name__)

MAX_QUERY_LENGTH = 200
# Control characters as headline markers, so the raw text can be escaped afterwards.
_START, _STOP = "\x02", "\x03"


@dataclass(frozen=True)
class SearchHit:
    kind: str
    title: str
    url: str
    snippet: str  # safe HTML
    rank: float = 0.0
    updated: datetime | None = None

    def as_dict(self) -> dict[str, Any]:
        return {
            "kind": self.kind,
            "title": self.title,
            "url": self.url,
            "snippet": self.snippet,
            "rank": round(self.rank, 4),
            "updated": self.updated.isoformat() if self.updated else None,
        }


class SearchSource(Protocol):
    def __call__(self, query: str, *, user: Any, language: str, limit: int) -> list[SearchHit]: ...


_SOURCES: dict[str, SearchSource] = {}


def search_source_register(name: str, source: SearchSource) -> None:
    """Add (or replace) a named search source."""
    _SOURCES[name] = source


def search_sources() -> list[str]:
    return list(_SOURCES)


def search_run(
    query: str,
    *,
    user: Any = None,
    language: str = DEFAULT_LANGUAGE,
    limit: int = 20,
    kinds: list[str] | None = None,
) -> list[SearchHit]:
    """Every source's hits for ``query``, best first. A failing source is skipped."""
    query = query.strip()[:MAX_QUERY_LENGTH]
    if not query:
        return []
    hits: list[SearchHit] = []
    for name, source in _SOURCES.items():
        if kinds and name not in kinds:
            continue
        try:
            hits.extend(source(query, user=user, language=language, limit=limit))
        except Exception:  # one broken source must not take search down
            log.exception("search source %s failed", name)
    hits.sort(key=lambda h: h.rank, reverse=True)
    return hits[:limit]


def snippet_from_markers(text: str) -> str:
    """Escape ``text`` and turn the headline markers into ``<mark>`` tags."""
    escaped = html.escape(text)
    return escaped.replace(_START, "<mark>").replace(_STOP, "</mark>")


def snippet_plain(text: str, query: str, *, width: int = 160) -> str:
    """A highlighted excerpt found in Python (the SQLite fallback)."""
    words = [w for w in re.split(r"\W+", query) if len(w) > 1][:8]
    if not words:
        return html.escape(text[:width])
    pattern = re.compile("|".join(re.escape(w) for w in words), re.IGNORECASE)
    match = pattern.search(text)
    start = max(0, (match.start() if match else 0) - width // 3)
    excerpt = text[start : start + width]
    marked = pattern.sub(lambda m: f"{_START}{m.group(0)}{_STOP}", excerpt)
    return (
        ("…" if start else "")
        + snippet_from_markers(marked)
        + ("…" if start + width < len(text) else "")
    )


def _content_source(collection: str, kind: str) -> Callable[..., list[SearchHit]]:
    def source(query: str, *, user: Any, language: str, limit: int) -> list[SearchHit]:
        rows = ContentItem.objects.filter(
            collection=collection,
            status=Status.PUBLISHED,
            language__in={language, DEFAULT_LANGUAGE},
        )
        if connection.vendor == "postgresql":
            hits = _postgres_hits(rows, query, language, limit * 2)
        else:
            hits = _fallback_hits(rows, query, limit * 2)
        chosen: dict[str, tuple[ContentItem, float, str]] = {}
        for row, rank, snippet in hits:
            if row.key not in chosen or row.language == language:
                chosen[row.key] = (row, rank, snippet)
        return [
            SearchHit(
                kind=kind,
                title=row.title,
                url=row.url,
                snippet=snippet,
                rank=rank,
                updated=row.date_updated,
            )
            for row, rank, snippet in sorted(chosen.values(), key=lambda t: -t[1])[:limit]
        ]

    return source


def _postgres_hits(
    rows: Any, query: str, language: str, limit: int
) -> list[tuple[ContentItem, float, str]]:
    from django.contrib.postgres.search import SearchHeadline, SearchQuery, SearchRank
    from django.db.models import F

    from directus.services import SEARCH_CONFIGS

    results: list[tuple[ContentItem, float, str]] = []
    for code in dict.fromkeys([language, DEFAULT_LANGUAGE]):
        config = SEARCH_CONFIGS.get(code, "simple")
        search_query = SearchQuery(query, search_type="websearch", config=config)
        matched = (
            rows.filter(language=code, search_vector=search_query)
            .annotate(rank=SearchRank(F("search_vector"), search_query))
            .order_by("-rank", "title")
            .only("key", "language", "title", "slug", "collection", "date_updated")[:limit]
        )
        # Headlines are computed for the few hits shown only (they re-parse the text).
        found = list(matched)
        if not found:
            continue
        headlines = dict(
            ContentItem.objects.filter(pk__in=[r.pk for r in found])
            .annotate(
                headline=SearchHeadline(
                    "search_text",
                    search_query,
                    config=config,
                    start_sel=_START,
                    stop_sel=_STOP,
                    max_words=30,
                    min_words=12,
                    max_fragments=2,
                    fragment_delimiter=" … ",
                )
            )
            .values_list("pk", "headline")
        )
        results.extend(
            (r, float(getattr(r, "rank", 0.0)), snippet_from_markers(headlines.get(r.pk) or ""))
            for r in found
        )
    return results


def _fallback_hits(rows: Any, query: str, limit: int) -> list[tuple[ContentItem, float, str]]:
    from django.db.models import Q

    words = [w for w in re.split(r"\s+", query) if w][:8]
    condition = Q()
    for word in words:
        condition &= Q(title__icontains=word) | Q(search_text__icontains=word)
    results = []
    for row in rows.filter(condition)[: limit * 2]:
        title_hits = sum(word.lower() in row.title.lower() for word in words)
        rank = 1.0 + title_hits
        results.append((row, rank, snippet_plain(row.search_text, query)))
    return results


search_source_register("docs", _content_source(Collection.DOCS, "doc"))
search_source_register("pages", _content_source(Collection.PAGES, "page"))
