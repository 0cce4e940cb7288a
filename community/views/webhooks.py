"""``/community/github/webhook/``: signed GitHub deliveries become contributions."""

from __future__ import annotations

import json

from django.conf import settings
from django.http import HttpRequest, JsonResponse
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_POST

from community.services.github import github_delivery_process, github_signature_verify
from portal.api.errors import DomainError, error_body


@csrf_exempt  # authenticated by the HMAC signature, not a session
@require_POST
def github_webhook(request: HttpRequest) -> JsonResponse:
    body = request.body  # the raw bytes GitHub signed
    try:
        github_signature_verify(
            secret=getattr(settings, "GITHUB_WEBHOOK_SECRET", "") or "",
            body=body,
            header=request.headers.get("X-Hub-Signature-256"),
        )
        try:
            payload = json.loads(body)
        except ValueError:
            raise DomainError("the body is not JSON", code="invalid_json") from None
        if not isinstance(payload, dict):
            raise DomainError("the body must be a JSON object", code="invalid_json")
        result = github_delivery_process(
            delivery_id=request.headers.get("X-GitHub-Delivery", ""),
            event=request.headers.get("X-GitHub-Event", ""),
            payload=payload,
        )
    except DomainError as exc:
        return JsonResponse(error_body(exc.code, exc.message), status=exc.status_code)
    status = 201 if result.status == "created" else 200
    return JsonResponse(
        {"status": result.status, "contribution": result.contribution_id}, status=status
    )
