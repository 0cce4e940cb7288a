"""Operations pages: health probes, Prometheus metrics and the stewards' audit browser."""

from __future__ import annotations

from django import forms
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import render
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest

from portal.audit import audit_actions, audit_entries_filter, audit_verify
from portal.health import metrics_access, readiness_check
from portal.metrics import REGISTRY

AUDIT_PER_PAGE = 50


@never_cache
@require_GET
def healthz(request: HttpRequest) -> JsonResponse:
    """The process is alive (no dependency is touched)."""
    return JsonResponse({"status": "ok"})


@never_cache
@require_GET
def readyz(request: HttpRequest) -> JsonResponse:
    """Ready to serve: 200 (``ok`` or ``degraded``) or 503 naming the failing components."""
    report = readiness_check()
    return JsonResponse(report.as_dict(), status=503 if report.status == "fail" else 200)


@never_cache
@require_GET
def metrics(request: HttpRequest) -> HttpResponse:
    status = metrics_access(request)
    if status != 200:
        response = HttpResponse(
            "metrics are for stewards or holders of the metrics token\n",
            status=status,
            content_type="text/plain",
        )
        if status == 401:
            response["WWW-Authenticate"] = 'Bearer realm="metrics"'
        return response
    return HttpResponse(generate_latest(REGISTRY), content_type=CONTENT_TYPE_LATEST)


class AuditFilterForm(forms.Form):
    action = forms.ChoiceField(required=False)
    actor = forms.CharField(required=False, max_length=200, label="Actor (email or user id)")
    object_type = forms.CharField(required=False, max_length=100, label="Object type")
    object_id = forms.CharField(required=False, max_length=100, label="Object id")
    since = forms.DateField(required=False, label="From", widget=forms.DateInput({"type": "date"}))
    until = forms.DateField(required=False, label="To", widget=forms.DateInput({"type": "date"}))

    def __init__(self, *args: object, **kwargs: object) -> None:
        super().__init__(*args, **kwargs)  # type: ignore[arg-type]
        self.fields["action"].choices = [("", "All actions")] + [  # type: ignore[attr-defined]
            (a, a) for a in audit_actions()
        ]


@login_required
@require_GET
def audit_list(request: HttpRequest) -> HttpResponse:
    """Stewards browse and filter the audit log, and can verify its hash chain."""
    if not request.user.is_steward:  # type: ignore[union-attr]
        raise PermissionDenied("only stewards may read the audit log")
    form = AuditFilterForm(request.GET)
    filters = form.cleaned_data if form.is_valid() else {}
    entries = audit_entries_filter(**{k: v for k, v in filters.items() if v})
    page = Paginator(entries, AUDIT_PER_PAGE).get_page(request.GET.get("page"))
    query = request.GET.copy()
    query.pop("page", None)
    query.pop("verify", None)
    context = {
        "form": form,
        "page": page,
        "query": query.urlencode(),
        "verification": audit_verify() if request.GET.get("verify") else None,
    }
    return render(request, "portal/audit_list.html", context)
