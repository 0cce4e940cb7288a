"""One JSON error shape for every API 4xx: ``{"error": {"code", "message", "fields"?}}``."""

from __future__ import annotations

from typing import Any

from django.core.exceptions import PermissionDenied
from django.core.exceptions import ValidationError as DjangoValidationError
from django.http import Http404
from rest_framework import exceptions, status
from rest_framework.response import Response


class DomainError(Exception):
    """A business rule refused the request. Services raise it; the API maps it to 4xx."""

    status_code: int = status.HTTP_400_BAD_REQUEST
    code: str = "invalid"

    def __init__(
        self,
        message: str,
        *,
        code: str | None = None,
        status_code: int | None = None,
        fields: dict[str, list[str]] | None = None,
        headers: dict[str, str] | None = None,
    ):
        super().__init__(message)
        self.message = message
        if code:
            self.code = code
        if status_code:
            self.status_code = status_code
        self.fields = fields
        self.headers = headers or {}


def error_body(code: str, message: str, fields: dict[str, Any] | None = None) -> dict[str, Any]:
    body: dict[str, Any] = {"code": code, "message": message}
    if fields:
        body["fields"] = fields
    return {"error": body}


def _flatten(detail: Any) -> Any:
    if isinstance(detail, dict):
        return {str(k): _flatten(v) for k, v in detail.items()}
    if isinstance(detail, list):
        flat: list[Any] = []
        for item in detail:
            value = _flatten(item)
            if isinstance(value, list):
                flat.extend(value)
            else:
                flat.append(value)
        return flat
    return [str(detail)]


def _first_message(fields: dict[str, Any]) -> str:
    for name, messages in fields.items():
        if isinstance(messages, dict):
            return f"{name}: {_first_message(messages)}"
        if messages:
            text = messages[0] if isinstance(messages, list) else str(messages)
            return text if name == "non_field_errors" else f"{name}: {text}"
    return "invalid input"


def exception_handler(exc: Exception, context: dict[str, Any]) -> Response | None:
    if isinstance(exc, DomainError):
        return Response(
            error_body(exc.code, exc.message, exc.fields),
            status=exc.status_code,
            headers=exc.headers,
        )
    if isinstance(exc, DjangoValidationError):
        exc = exceptions.ValidationError(
            exc.message_dict if hasattr(exc, "error_dict") else exc.messages
        )
    elif isinstance(exc, Http404):
        exc = exceptions.NotFound()
    elif isinstance(exc, PermissionDenied):
        exc = exceptions.PermissionDenied()

    # Imported here: services import DomainError while DRF is still loading its settings
    # (BearerTokenAuthentication), and rest_framework.views must not load that early.
    from rest_framework.views import exception_handler as drf_exception_handler

    response = drf_exception_handler(exc, context)
    if response is None:
        return None
    if isinstance(exc, exceptions.ValidationError):
        detail: Any = exc.detail
        fields = _flatten(detail if isinstance(detail, dict) else {"non_field_errors": detail})
        response.data = error_body("invalid", _first_message(fields), fields)
    elif isinstance(exc, exceptions.APIException):
        detail = exc.detail
        if isinstance(detail, dict):
            message = _first_message(_flatten(detail))
        elif isinstance(detail, list):
            message = "; ".join(_flatten(detail)) or str(exc.default_detail)
        else:
            message = str(detail)
        codes = exc.get_codes()
        code = codes if isinstance(codes, str) else exc.default_code
        response.data = error_body(str(code), message)
    return response


def _is_api(request: Any) -> bool:
    return str(getattr(request, "path", "")).startswith("/api/")


def page_not_found(request: Any, exception: Exception) -> Any:
    """``handler404``: unknown API URLs answer in the error shape, pages as usual."""
    from django.http import JsonResponse
    from django.views import defaults

    if _is_api(request):
        body = error_body("not_found", f"no API endpoint at {request.path}")
        return JsonResponse(body, status=404)
    return defaults.page_not_found(request, exception)


def server_error(request: Any) -> Any:
    """``handler500``: API clients get JSON with the request id to report."""
    from django.http import JsonResponse
    from django.views import defaults

    if _is_api(request):
        request_id = getattr(request, "request_id", "")
        message = "internal error" + (f"; request id {request_id}" if request_id else "")
        return JsonResponse(error_body("server_error", message), status=500)
    return defaults.server_error(request)
