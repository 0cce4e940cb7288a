"""A small typed client for the Directus REST API (the only way the portal talks to it).

Explicit timeouts, retries with backoff for idempotent reads, and one error type. It must
never be called inside a database transaction: a slow Directus would hold row locks.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Any

import httpx
from django.conf import settings
from django.db import connection

Item = dict[str, Any]

_RETRY_STATUSES = {429, 502, 503, 504}


class DirectusError(Exception):
    """Directus could not be reached, refused the request, or answered nonsense."""

    def __init__(self, message: str, *, status: int | None = None):
        super().__init__(message)
        self.status = status

    @property
    def not_found(self) -> bool:
        # Directus answers 403 for items that do not exist (to not leak existence).
        return self.status in {403, 404}


@dataclass(frozen=True)
class DirectusClient:
    """Talks to one Directus instance with one static token."""

    base_url: str
    token: str
    timeout: float = 5.0
    read_attempts: int = 3
    backoff: float = 0.2

    @classmethod
    def from_settings(cls) -> DirectusClient:
        if not settings.DIRECTUS_URL:
            raise DirectusError("Directus is not configured (DIRECTUS_URL is empty)")
        return cls(
            base_url=settings.DIRECTUS_URL.rstrip("/"),
            token=settings.DIRECTUS_TOKEN,
            timeout=settings.DIRECTUS_TIMEOUT,
        )

    # --- reads (idempotent: retried) -------------------------------------------------
    def server_ping(self) -> bool:
        try:
            response = self._send("GET", "/server/ping", attempts=1, auth=False)
        except DirectusError:
            return False
        return response.text.strip() == "pong"

    def item_get(self, collection: str, key: str | int, *, fields: str = "*") -> Item:
        data = self._json("GET", f"/items/{collection}/{key}", params={"fields": fields})
        if not isinstance(data, dict):
            raise DirectusError(f"unexpected item payload for {collection}/{key}")
        return data

    def items_list(
        self,
        collection: str,
        *,
        fields: str = "*",
        filter_json: str | None = None,
        page_size: int = 200,
        limit: int | None = None,
    ) -> list[Item]:
        """Every item of ``collection`` (paged), optionally filtered."""
        items: list[Item] = []
        page = 1
        while True:
            params: dict[str, Any] = {
                "fields": fields,
                "limit": page_size,
                "page": page,
                "sort": "id",
            }
            if filter_json:
                params["filter"] = filter_json
            data = self._json("GET", f"/items/{collection}", params=params)
            if not isinstance(data, list):
                raise DirectusError(f"unexpected list payload for {collection}")
            items.extend(data)
            if len(data) < page_size or (limit is not None and len(items) >= limit):
                return items[:limit] if limit is not None else items
            page += 1

    # --- writes (not retried: a timeout may have applied them) -----------------------
    def item_create(self, collection: str, data: Item) -> Item:
        result = self._json("POST", f"/items/{collection}", json=data, attempts=1)
        return result if isinstance(result, dict) else {}

    def item_update(self, collection: str, key: str | int, data: Item) -> Item:
        result = self._json("PATCH", f"/items/{collection}/{key}", json=data, attempts=1)
        return result if isinstance(result, dict) else {}

    def item_delete(self, collection: str, key: str | int) -> None:
        self._send("DELETE", f"/items/{collection}/{key}", attempts=1)

    # --- plumbing --------------------------------------------------------------------
    def _json(self, method: str, path: str, *, attempts: int | None = None, **kwargs: Any) -> Any:
        response = self._send(method, path, attempts=attempts, **kwargs)
        if response.status_code == 204 or not response.content:
            return None
        try:
            body = response.json()
        except ValueError as exc:
            raise DirectusError(f"{method} {path}: response is not JSON") from exc
        if not isinstance(body, dict) or "data" not in body:
            raise DirectusError(f"{method} {path}: response has no data")
        return body["data"]

    def _send(
        self,
        method: str,
        path: str,
        *,
        attempts: int | None = None,
        auth: bool = True,
        **kwargs: Any,
    ) -> httpx.Response:
        _ensure_outside_transaction()
        tries = attempts or (self.read_attempts if method == "GET" else 1)
        headers = {"Authorization": f"Bearer {self.token}"} if auth and self.token else {}
        last: DirectusError | None = None
        for attempt in range(tries):
            if attempt:
                time.sleep(self.backoff * (2 ** (attempt - 1)))
            try:
                response = httpx.request(
                    method, self.base_url + path, headers=headers, timeout=self.timeout, **kwargs
                )
            except httpx.HTTPError as exc:
                last = DirectusError(f"{method} {path}: {type(exc).__name__}: {exc}")
                continue
            if response.status_code in _RETRY_STATUSES:
                last = DirectusError(
                    f"{method} {path}: HTTP {response.status_code}", status=response.status_code
                )
                continue
            if response.status_code >= 400:
                raise DirectusError(
                    f"{method} {path}: HTTP {response.status_code}: {_error_text(response)}",
                    status=response.status_code,
                )
            return response
        assert last is not None
        raise last


def _error_text(response: httpx.Response) -> str:
    try:
        errors = response.json().get("errors") or []
        return "; ".join(str(e.get("message", "")) for e in errors)[:300]
    except (ValueError, AttributeError):
        return response.text[:300]


def _ensure_outside_transaction() -> None:
    # Test cases wrap each test in an atomic block of their own; those do not count.
    blocks = [b for b in connection.atomic_blocks if not getattr(b, "_from_testcase", False)]
    if blocks:
        raise RuntimeError("the Directus client must not be called inside a DB transaction")
