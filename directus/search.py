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
    limit: int = 10,
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
        postgres = connection.vendor == "postgresql"
        ranked = (
            _postgres_ranked(rows, query, language, limit * 2)
            if postgres
            else (_fallback_ranked(rows, query, limit * 2))
        )
        chosen: dict[str, tuple[ContentItem, float]] = {}
        for row, rank in ranked:
            if row.key not in chosen or row.language == language:
                chosen[row.key] = (row, rank)
        best = sorted(chosen.values(), key=lambda t: -t[1])[:limit]
        # Snippets only for the hits shown: a headline re-parses the whole text.
        snippets = (
            _postgres_snippets([row for row, _ in best], query)
            if postgres
            else {row.pk: snippet_plain(row.search_text, query) for row, _ in best}
        )
        return [
            SearchHit(
                kind=kind,
                title=row.title,
                url=row.url,
                snippet=snippets.get(row.pk, ""),
                rank=rank,
                updated=row.date_updated,
            )
            for row, rank in best
        ]

    return source


def _search_query(query: str, language: str) -> Any:
    from django.contrib.postgres.search import SearchQuery

    from directus.services import SEARCH_CONFIGS

    config = SEARCH_CONFIGS.get(language, "simple")
    return SearchQuery(query, search_type="websearch", config=config), config


def _postgres_ranked(
    rows: Any, query: str, language: str, limit: int
) -> list[tuple[ContentItem, float]]:
    from django.contrib.postgres.search import SearchRank
    from django.db.models import F

    results: list[tuple[ContentItem, float]] = []
    for code in dict.fromkeys([language, DEFAULT_LANGUAGE]):
        search_query, _ = _search_query(query, code)
        matched = (
            rows.filter(language=code, search_vector=search_query)
            .annotate(rank=SearchRank(F("search_vector"), search_query))
            .order_by("-rank", "pk")
            .only("key", "language", "title", "slug", "collection", "date_updated")[:limit]
        )
        results.extend((row, float(getattr(row, "rank", 0.0))) for row in matched)
    return results


def _postgres_snippets(rows: list[ContentItem], query: str) -> dict[int, str]:
    from django.contrib.postgres.search import SearchHeadline

    snippets: dict[int, str] = {}
    by_language: dict[str, list[int]] = {}
    for row in rows:
        by_language.setdefault(row.language, []).append(row.pk)
    for language, pks in by_language.items():
        search_query, config = _search_query(query, language)
        headlines = ContentItem.objects.filter(pk__in=pks).annotate(
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
        for pk, headline in headlines.values_list("pk", "headline"):
            snippets[pk] = snippet_from_markers(headline or "")
    return snippets


def _fallback_ranked(rows: Any, query: str, limit: int) -> list[tuple[ContentItem, float]]:
    from django.db.models import Q

    words = [w for w in re.split(r"\s+", query) if w][:8]
    condition = Q()
    for word in words:
        condition &= Q(title__icontains=word) | Q(search_text__icontains=word)
    results = []
    for row in rows.filter(condition)[: limit * 2]:
        title_hits = sum(word.lower() in row.title.lower() for word in words)
        rank = 1.0 + title_hits
        results.append((row, rank))
    return results


def queryset_source(
    *,
    kind: str,
    queryset: Callable[[Any], Any],
    fields: tuple[str, str],
    url: Callable[[Any], str],
    updated_field: str = "updated_at",
) -> Callable[..., list[SearchHit]]:
    """A search source over a model: ``queryset(user)`` gives the rows the user may see,
    ``fields`` names the (title, body) columns, ``url(row)`` links to a hit.

    PostgreSQL ranks with full-text search over both columns (title weighted higher);
    SQLite falls back to substring matching like the content sources.
    """
    title_field, body_field = fields

    def source(query: str, *, user: Any, language: str, limit: int) -> list[SearchHit]:
        rows = queryset(user)
        if connection.vendor == "postgresql":
            from django.contrib.postgres.search import SearchRank, SearchVector

            search_query, config = _search_query(query, language)
            vector = SearchVector(title_field, weight="A", config=config) + SearchVector(
                body_field, weight="B", config=config
            )
            matched = list(
                rows.annotate(rank=SearchRank(vector, search_query))
                .filter(rank__gt=0)
                .order_by("-rank", "pk")[:limit]
            )
            ranked = [(row, float(row.rank)) for row in matched]
        else:
            from django.db.models import Q

            words = [w for w in re.split(r"\s+", query) if w][:8]
            condition = Q()
            for word in words:
                condition &= Q(**{f"{title_field}__icontains": word}) | Q(
                    **{f"{body_field}__icontains": word}
                )
            ranked = [
                (row, 1.0 + sum(w.lower() in getattr(row, title_field).lower() for w in words))
                for row in rows.filter(condition).order_by("pk")[:limit]
            ]
        return [
            SearchHit(
                kind=kind,
                title=getattr(row, title_field),
                url=url(row),
                snippet=snippet_plain(
                    f"{getattr(row, title_field)} — {getattr(row, body_field)}", query
                ),
                rank=rank,
                updated=getattr(row, updated_field, None),
            )
            for row, rank in ranked
        ]

    return source


search_source_register("docs", _content_source(Collection.DOCS, "doc"))
search_source_register("pages", _content_source(Collection.PAGES, "page"))
