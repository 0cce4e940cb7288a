"""Structured logging: JSON lines with the request id of the request being served."""

from __future__ import annotations

import contextvars
import json
import logging
import time
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

from django.http import HttpRequest, HttpResponse
from django.utils.functional import empty

request_id_var: contextvars.ContextVar[str] = contextvars.ContextVar("request_id", default="-")

# Attributes every record has, plus Django's attached request object (not JSON material).
_STANDARD = set(vars(logging.makeLogRecord({}))) | {"message", "asctime", "request_id", "request"}


def _request_id_of(record: logging.LogRecord) -> str:
    request_id = request_id_var.get()
    if request_id == "-":
        # Django logs 4xx/5xx responses ("django.request") after the middleware has
        # returned, so take the id from the request attached to the record.
        request_id = getattr(getattr(record, "request", None), "request_id", request_id)
    return request_id


class RequestIdFilter(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        if getattr(record, "request_id", "-") == "-":
            record.request_id = _request_id_of(record)
        return True


class JsonFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        payload = {
            "ts": datetime.fromtimestamp(record.created, UTC).isoformat(),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
            "request_id": getattr(record, "request_id", None) or _request_id_of(record),
        }
        for key, value in vars(record).items():
            if key not in _STANDARD and not key.startswith("_"):
                payload[key] = value
        if record.exc_info:
            payload["exc"] = self.formatException(record.exc_info)
        return json.dumps(payload, default=str)


access_logger = logging.getLogger("agora.access")


def _user_id(request: HttpRequest) -> int | None:
    # Only report a user that authentication already resolved: looking it up here would
    # cost a session query on requests that never needed one.
    user: Any = request.__dict__.get("user")
    if user is None:
        return None
    if getattr(user, "_wrapped", None) is empty:
        return None
    return user.pk if getattr(user, "is_authenticated", False) else None


class AccessLogMiddleware:
    """One ``agora.access`` line per request: method, path, status, duration, user id.

    Sits right after ``RequestIdMiddleware`` so the line carries the request id.
    """

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]):
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        started = time.perf_counter()
        response = self.get_response(request)
        duration_ms = round((time.perf_counter() - started) * 1000, 1)
        status = response.status_code
        level = logging.ERROR if status >= 500 else logging.INFO
        access_logger.log(
            level,
            "%s %s %s %.1fms",
            request.method,
            request.path,
            status,
            duration_ms,
            extra={
                "method": request.method,
                "path": request.path,
                "status": status,
                "duration_ms": duration_ms,
                "user_id": _user_id(request),
                "request_id": getattr(request, "request_id", request_id_var.get()),
            },
        )
        return response
