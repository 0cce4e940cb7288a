"""HTML pages for mirrored content, the Directus webhook and Directus' preview links."""

from __future__ import annotations

import json
import logging
from typing import Any

from django.conf import settings
from django.core.cache import cache
from django.http import Http404, HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import render
from django.template.loader import render_to_string
from django.utils.translation import get_language_from_request
from django.views.decorators.cache import never_cache
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_GET, require_POST

from directus import selectors
from directus.client import DirectusClient, DirectusError
from directus.constants import CONTENT_LANGUAGES, DEFAULT_LANGUAGE, Collection
from directus.models import ContentItem
from directus.preview import preview_token_valid, webhook_secret_valid
from directus.rendering import markdown_render
from directus.search import search_run
from directus.services import WebhookPayloadError, webhook_accept

log = logging.getLogger(__name__)

WEBHOOK_SECRET_HEADER = "X-Agora-Webhook-Secret"  # noqa: S105 - a header name
MAX_WEBHOOK_BYTES = 1_000_000


def _language(request: HttpRequest) -> str:
    chosen = request.GET.get("lang") or request.COOKIES.get("content_lang")
    if chosen:
        return selectors.language_normalize(chosen)
    return selectors.language_normalize(get_language_from_request(request))


def _remember_language(request: HttpRequest, response: HttpResponse, language: str) -> HttpResponse:
    if "lang" in request.GET:
        response.set_cookie("content_lang", language, max_age=365 * 86400, samesite="Lax")
    return response


def _page_cacheable(request: HttpRequest) -> bool:
    """Anonymous readers with nothing personal pending all see the same page."""
    cookies = request.COOKIES
    return (
        not request.user.is_authenticated
        and settings.SESSION_COOKIE_NAME not in cookies
        and "messages" not in cookies
    )


def _item_page(request: HttpRequest, collection: str, slug: str, template: str) -> HttpResponse:
    language = _language(request)
    version = str(selectors.content_version())
    cacheable = _page_cacheable(request)
    page_key = selectors.cache_key("page", version, collection, slug, language)
    if cacheable:
        cached = cache.get(page_key)
        if cached is not None:
            return _remember_language(request, HttpResponse(cached), language)
    item = selectors.content_item_get(collection=collection, slug=slug, language=language)
    if item is None:
        raise Http404("No such page")
    # The article and sidebar are the same for every reader until the mirror changes:
    # render them once per content version and language.
    fragment_key = selectors.cache_key("fragment", version, collection, slug, language)
    fragment = cache.get(fragment_key)
    if fragment is None:
        fragment = render_to_string(template, _item_context(item, collection, language))
        cache.set(fragment_key, fragment, selectors.CACHE_TIMEOUT)
    context: dict[str, Any] = {"item": item, "fragment": fragment}
    if cacheable:
        # Nothing on these pages posts for anonymous readers; a shared copy must not
        # carry one visitor's CSRF token to the next.
        context["csrf_token"] = ""
    response = render(request, "directus/item_page.html", context)
    if cacheable:
        cache.set(page_key, response.content, selectors.CACHE_TIMEOUT)
    return _remember_language(request, response, language)


def _item_context(item: ContentItem, collection: str, language: str) -> dict[str, Any]:
    return {
        "item": item,
        "language": item.language,
        "requested_language": language,
        "languages": [
            (code, CONTENT_LANGUAGES[code])
            for code in selectors.content_languages(collection=collection, key=item.key)
        ],
        "fallback": item.language != language,
        "sidebar": selectors.docs_sidebar(language=language)
        if collection == Collection.DOCS
        else [],
    }


@require_GET
def docs_index(request: HttpRequest) -> HttpResponse:
    language = _language(request)
    context = {"sidebar": selectors.docs_sidebar(language=language), "language": language}
    return _remember_language(
        request, render(request, "directus/docs_index.html", context), language
    )


@require_GET
def doc_detail(request: HttpRequest, slug: str) -> HttpResponse:
    return _item_page(request, Collection.DOCS, slug, "directus/_doc_fragment.html")


@require_GET
def page_detail(request: HttpRequest, slug: str) -> HttpResponse:
    return _item_page(request, Collection.PAGES, slug, "directus/_page_fragment.html")


@require_GET
def search_page(request: HttpRequest) -> HttpResponse:
    query = request.GET.get("q", "").strip()
    language = _language(request)
    hits = search_run(query, user=request.user, language=language) if query else []
    return render(request, "directus/search.html", {"query": query, "hits": hits})


@never_cache
@require_GET
def preview(request: HttpRequest, collection: str, key: str) -> HttpResponse:
    """Directus' "preview" button: the draft rendered exactly as it will publish.

    Needs the preview token (from the link Directus builds) or a logged-in steward; the
    draft is fetched live and never written to the mirror, so nobody else can see it.
    """
    user = request.user
    allowed = preview_token_valid(request.GET.get("token")) or (
        user.is_authenticated and getattr(user, "is_steward", False)
    )
    if not allowed:
        return HttpResponse(
            "Preview link is invalid or expired.", status=403, content_type="text/plain"
        )
    if collection not in (Collection.DOCS, Collection.PAGES, Collection.ANNOUNCEMENTS):
        raise Http404("Nothing to preview in this collection")
    language = selectors.language_normalize(request.GET.get("lang"))
    try:
        client = DirectusClient.from_settings()
        fields = "*,translations.*" if collection != Collection.ANNOUNCEMENTS else "*"
        item = client.item_get(collection, key, fields=fields)
    except DirectusError as exc:
        if exc.not_found:
            raise Http404("This item does not exist in Directus") from exc
        return HttpResponse(
            f"Directus is unreachable: {exc}", status=503, content_type="text/plain"
        )
    fields_for_language = dict(item)
    for translation in item.get("translations") or []:
        if (
            isinstance(translation, dict)
            and translation.get("languages_code") == language != DEFAULT_LANGUAGE
        ):
            fields_for_language.update(
                {
                    k: v
                    for k, v in translation.items()
                    if k not in {"id", "languages_code"} and v not in (None, "")
                }
            )
    rendered = markdown_render(str(fields_for_language.get("body") or ""))
    response = render(
        request,
        "directus/preview.html",
        {
            "title": fields_for_language.get("title") or "(untitled)",
            "status": item.get("status") or "draft",
            "html": rendered.html,
            "toc": rendered.toc,
            "collection": collection,
        },
    )
    response["X-Robots-Tag"] = "noindex, nofollow"
    response["Cache-Control"] = "private, no-store"
    return response


@csrf_exempt
@require_POST
def webhook(request: HttpRequest) -> HttpResponse:
    """Receives the Directus Flow's POST: checks the secret, enqueues sync jobs, 202."""
    if not webhook_secret_valid(request.headers.get(WEBHOOK_SECRET_HEADER)):
        return _error(401, "unauthorized", "missing or wrong webhook secret")
    if len(request.body) > MAX_WEBHOOK_BYTES:
        return _error(413, "too_large", "webhook body is too large")
    try:
        payload = json.loads(request.body)
    except (ValueError, UnicodeDecodeError):
        return _error(400, "malformed", "webhook body is not valid JSON")
    try:
        keys = webhook_accept(payload=payload)
    except WebhookPayloadError as exc:
        return _error(422, "unprocessable", str(exc))
    return JsonResponse({"accepted": keys}, status=202)


def _error(status: int, code: str, message: str) -> JsonResponse:
    return JsonResponse({"error": {"code": code, "message": message}}, status=status)
