"""The three shipped agenda templates (loaded by a data migration; stewards edit them)."""

from __future__ import annotations

from typing import Any

SHIPPED_TEMPLATES: list[dict[str, Any]] = [
    {
        "slug": "weekly-security-infra",
        "name": "Weekly security & infra",
        "meeting_type": "security-infra",
        "cadence": "weekly",
        "items": [
            {"title": "Ledger health result", "minutes": 5},
            {"title": "Secrets status", "minutes": 5},
            {"title": "Backup results", "minutes": 5},
            {"title": "Incident review", "minutes": 15},
            {"title": "Open vulnerabilities → action items", "minutes": 15, "action_items": True},
        ],
    },
    {
        "slug": "biweekly-product-expansion",
        "name": "Bi-weekly product & expansion",
        "meeting_type": "product",
        "cadence": "biweekly",
        "items": [
            {"title": "Dashboard status (data freshness, API health)", "minutes": 10},
            {"title": "Funnel metrics and experiments", "minutes": 15},
            {"title": "Agent performance (success/failure per profile)", "minutes": 15},
            {"title": "Roadmap adjustments", "minutes": 15, "action_items": True},
        ],
    },
    {
        "slug": "monthly-strategy",
        "name": "Monthly strategy",
        "meeting_type": "strategy",
        "cadence": "monthly",
        "items": [
            {"title": "Financial snapshot and runway", "minutes": 15},
            {"title": "Infrastructure scaling milestones", "minutes": 15},
            {"title": "Security roadmap", "minutes": 15},
            {"title": "New opportunities and research agenda", "minutes": 20},
            {"title": "Owners for next month's big rocks", "minutes": 15, "action_items": True},
        ],
    },
]
