"""GitHub webhooks: signature verification and turning events into contributions."""

from __future__ import annotations

import hashlib
import hmac
from dataclasses import dataclass
from typing import Any

from django.db import IntegrityError, transaction

from community.defaults import defaults_ensure
from community.models import Contribution, ContributionType, Contributor, GithubDelivery
from community.models.contributions import ContributionSource
from portal.api.errors import DomainError
from portal.audit import audit_record


def github_signature(secret: str, body: bytes) -> str:
    """The ``X-Hub-Signature-256`` value GitHub sends for ``body``."""
    return "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


def github_signature_verify(*, secret: str, body: bytes, header: str | None) -> None:
    """Refuse (401) a delivery that is unsigned or whose HMAC does not match the raw body."""
    if not secret:
        raise DomainError(
            "GitHub webhooks are not configured on this server",
            code="webhook_not_configured",
            status_code=503,
        )
    if not header:
        raise DomainError("missing X-Hub-Signature-256", code="unsigned", status_code=401)
    if not hmac.compare_digest(github_signature(secret, body).encode(), header.strip().encode()):
        raise DomainError(
            "signature does not match the body", code="bad_signature", status_code=401
        )


@dataclass(frozen=True)
class WebhookResult:
    status: str
    contribution_id: int | None = None


def _login(obj: dict[str, Any] | None) -> str:
    return str((obj or {}).get("login") or "")[:39]


def _candidate(event: str, payload: dict[str, Any]) -> dict[str, Any] | None:
    """What contribution (if any) an event describes."""
    action = payload.get("action")
    repo = str((payload.get("repository") or {}).get("full_name") or "")
    if event == "pull_request" and action == "closed":
        pr = payload.get("pull_request") or {}
        if not pr.get("merged"):
            return None
        return {
            "type": "code",
            "login": _login(pr.get("user")),
            "external_id": f"github:pr:{repo}#{pr.get('number')}",
            "title": f"{repo}#{pr.get('number')}: {pr.get('title') or 'pull request'}",
            "link": str(pr.get("html_url") or ""),
            "description": str(pr.get("body") or "")[:5000],
        }
    if event == "pull_request_review" and action == "submitted":
        review = payload.get("review") or {}
        pr = payload.get("pull_request") or {}
        return {
            "type": "review",
            "login": _login(review.get("user")),
            "external_id": f"github:review:{review.get('id')}",
            "title": f"Review of {repo}#{pr.get('number')}: {pr.get('title') or ''}".strip(),
            "link": str(review.get("html_url") or ""),
            "description": "",
        }
    if event == "issues" and action == "closed":
        issue = payload.get("issue") or {}
        if issue.get("state_reason") not in (None, "completed"):
            return None
        return {
            "type": "bug",
            "login": _login(issue.get("user")),
            "external_id": f"github:issue:{repo}#{issue.get('number')}",
            "title": f"{repo}#{issue.get('number')}: {issue.get('title') or 'issue'}",
            "link": str(issue.get("html_url") or ""),
            "description": "",
        }
    return None


@transaction.atomic
def github_delivery_process(
    *, delivery_id: str, event: str, payload: dict[str, Any]
) -> WebhookResult:
    """Record the delivery once (409 on replay) and create the contribution it describes."""
    if not delivery_id:
        raise DomainError("missing X-GitHub-Delivery", code="missing_delivery_id")
    try:
        with transaction.atomic():
            GithubDelivery.objects.create(delivery_id=delivery_id[:64], event=event[:40])
    except IntegrityError:
        raise DomainError(
            f"delivery {delivery_id} was already processed",
            code="duplicate_delivery",
            status_code=409,
        ) from None
    if event == "ping":
        return WebhookResult("pong")
    candidate = _candidate(event, payload)
    if candidate is None or not candidate["login"]:
        return WebhookResult("ignored")
    if Contribution.objects.filter(external_id=candidate["external_id"]).exists():
        return WebhookResult("already_recorded")
    defaults_ensure()
    kind = ContributionType.objects.get(slug=candidate["type"])
    contributor = Contributor.objects.filter(github_handle__iexact=candidate["login"]).first()
    contribution = Contribution.objects.create(
        contributor=contributor,
        github_login=candidate["login"],
        type=kind,
        title=candidate["title"][:200],
        description=candidate["description"],
        link=candidate["link"][:500],
        source=ContributionSource.GITHUB,
        external_id=candidate["external_id"],
    )
    audit_record(
        action="contribution.github",
        obj=contribution,
        detail={
            "delivery": delivery_id,
            "event": event,
            "login": candidate["login"],
            "claimed": contributor is not None,
        },
    )
    return WebhookResult("created", contribution.pk)
