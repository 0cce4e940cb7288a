"""Content benchmarks (`make bench`): freshness, page latency vs Directus, search at scale.

Each prints its figures; baselines are measured in the same run.
"""

from __future__ import annotations

import os
import random
import statistics
import time
import uuid
from collections.abc import Callable
from contextlib import AbstractContextManager
from typing import Any

import httpx
import pytest
from django.db import connection
from django.test import Client

from directus.client import DirectusClient
from directus.models import ContentItem
from directus.services import SEARCH_CONFIGS, content_item_sync
from tests.browser.conftest import live_server_env, live_url, mail_dir  # noqa: F401 (fixtures)
from tests.directus.conftest import directus_live, live_portal  # noqa: F401 (fixtures)
from tests.directus.live import page_text, unique_slug, wait_for

pytestmark = pytest.mark.django_db(transaction=True)


def pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


def summary(name: str, values_ms: list[float]) -> str:
    return (
        f"{name}: n={len(values_ms)} p50={statistics.median(values_ms):.1f} ms "
        f"p95={pct(values_ms, 0.95):.1f} ms max={max(values_ms):.1f} ms"
    )


def test_freshness_from_directus_patch_to_served_page(
    directus_live: DirectusClient,  # noqa: F811
    live_portal: str,  # noqa: F811
) -> None:
    slug = unique_slug("fresh")
    key = directus_live.item_create(
        "docs", {"title": "Freshness", "slug": slug, "status": "published", "body": "start"}
    )["id"]
    url = f"{live_portal}/docs/{slug}/"
    wait_for(lambda: page_text(url)[0] == 200, timeout=60)
    delays: list[float] = []
    with httpx.Client(timeout=10) as http:
        for n in range(50):
            marker = f"edit-{n}-{uuid.uuid4().hex[:8]}"
            started = time.perf_counter()
            directus_live.item_update("docs", key, {"body": f"Now: {marker}"})
            wait_for(lambda m=marker: m in http.get(url).text, timeout=10, interval=0.02)
            delays.append((time.perf_counter() - started) * 1000)
    directus_live.item_delete("docs", key)
    print("\n" + summary("freshness PATCH→served (50 edits)", delays))
    assert pct(delays, 0.95) < 2000


def test_doc_page_from_the_mirror_vs_directus_rest(
    directus_live: DirectusClient,  # noqa: F811
    prod_like_server: Callable[..., AbstractContextManager[Any]],
) -> None:
    slug = unique_slug("speed")
    body = "\n\n".join(
        f"## Part {i}\n\n" + "Some reasonably long paragraph text. " * 20 for i in range(12)
    )
    key = directus_live.item_create(
        "docs",
        {"title": "Speed", "slug": slug, "status": "published", "section": "Bench", "body": body},
    )["id"]
    content_item_sync(collection="docs", key=str(key))
    directus_url = f"{os.environ['DIRECTUS_URL']}/items/docs/{key}"
    token = {"Authorization": f"Bearer {os.environ['DIRECTUS_TOKEN']}"}
    rounds = 300

    def measure(http: httpx.Client, target: str, **kwargs: Any) -> list[float]:
        for _ in range(30):  # warm up
            http.get(target, **kwargs)
        times = []
        for _ in range(rounds):
            started = time.perf_counter()
            response = http.get(target, **kwargs)
            times.append((time.perf_counter() - started) * 1000)
            assert response.status_code == 200
        return times

    # DEBUG off (cached templates); AGORA_TESTING keeps plain static storage (no manifest).
    with prod_like_server(AGORA_TESTING="1") as server, httpx.Client(timeout=10) as http:
        page = f"{server.url}/docs/{slug}/"
        assert "Part 11" in http.get(page).text
        portal = measure(http, page)
        directus = measure(http, directus_url, params={"fields": "*,translations.*"}, headers=token)
    directus_live.item_delete("docs", key)
    print("\n" + summary("portal /docs/<slug>/ (mirror, DEBUG off)", portal))
    print(summary("Directus GET /items/docs/<id> (same item)", directus))
    print(f"speed-up at p95: {pct(directus, 0.95) / pct(portal, 0.95):.1f}x")
    assert pct(portal, 0.95) < 30
    assert pct(portal, 0.95) * 3 <= pct(directus, 0.95)


SYLLABLES = [
    "ka",
    "lo",
    "mi",
    "ne",
    "ru",
    "sa",
    "ti",
    "vo",
    "ze",
    "pa",
    "qu",
    "dri",
    "bel",
    "tor",
    "fen",
    "gra",
    "hu",
    "jo",
    "wix",
    "yel",
]


def vocabulary(rng: random.Random, size: int) -> list[str]:
    words: set[str] = set()
    while len(words) < size:
        words.add("".join(rng.choice(SYLLABLES) for _ in range(rng.randint(2, 5))))
    return sorted(words)


def test_search_over_ten_thousand_docs() -> None:
    if connection.vendor != "postgresql":
        pytest.skip("the search benchmark measures PostgreSQL full-text search (`make bench`)")
    rng = random.Random(7)
    # A docs-like corpus: 20,000 distinct words with a Zipf distribution, 200 words a doc.
    vocab = vocabulary(rng, 20_000)
    weights = [1 / rank for rank in range(1, len(vocab) + 1)]
    rows = []
    for n in range(10_000):
        words = rng.choices(vocab, weights=weights, k=200)
        text = " ".join(words)
        rows.append(
            ContentItem(
                collection="docs",
                key=str(n),
                language="en",
                slug=f"bench-{n}",
                status="published",
                title=f"{words[0].title()} {words[1]} guide {n}",
                section="Bench",
                sort=n,
                fields={"body": text},
                html=f"<p>{text}</p>",
                search_text=text,
                content_hash=str(n),
            )
        )
    ContentItem.objects.bulk_create(rows, batch_size=1000)
    from django.contrib.postgres.search import SearchVector

    config = SEARCH_CONFIGS["en"]
    ContentItem.objects.filter(collection="docs").update(
        search_vector=SearchVector("title", weight="A", config=config)
        + SearchVector("section", weight="B", config=config)
        + SearchVector("search_text", weight="C", config=config)
    )
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE directus_contentitem")
    client = Client()
    # What readers search for: terms of ranks 50-5,000 (the most common match ~20% of the
    # docs, the rarest a handful), one to three words.
    queries = [" ".join(rng.sample(vocab[50:5000], 1)) for _ in range(60)]
    queries += [" ".join(rng.sample(vocab[50:1000], k)) for k in (2, 3) for _ in range(30)]
    for q in queries[:10]:
        client.get("/api/v1/search/", {"q": q})
    times, hits = [], 0
    for q in queries:
        started = time.perf_counter()
        response = client.get("/api/v1/search/", {"q": q})
        times.append((time.perf_counter() - started) * 1000)
        assert response.status_code == 200
        hits += bool(response.json()["results"])
    print("\n" + summary("search /api/v1/search/ over 10,000 docs", times) + f" ({hits} with hits)")
    assert hits >= len(queries) // 2
    assert pct(times, 0.95) < 100
