"""Proposals in the site search (``/search/`` and ``/api/v1/search/``)."""

from __future__ import annotations

from django.urls import reverse


def register_search_source() -> None:
    from directus.search import queryset_source, search_source_register
    from governance.selectors import proposals_visible

    search_source_register(
        "proposals",
        queryset_source(
            kind="proposal",
            queryset=lambda user: proposals_visible(user=user),
            fields=("title", "body"),
            url=lambda row: reverse("governance:proposal", kwargs={"pk": row.pk}),
        ),
    )
