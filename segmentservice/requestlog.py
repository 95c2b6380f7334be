"""One JSON log line and the metrics of every request, under a request id.

`RequestLogMiddleware` runs first: it takes the caller's `X-Request-ID` when it is sane
(1 to 128 characters of letters, digits and `._~:@+=/-`) or makes one, answers it in the
response's `X-Request-ID`, and keeps it in a context variable for the request's duration.
`RequestIdFilter` (on the log handlers, see LOGGING in settings) copies it into every log
record emitted meanwhile, so each line a request causes carries its id. When the response
is ready, the middleware logs one line on `segmentservice.request`:

    {"time": "2025-01-31T09:30:00.123456+00:00", "level": "INFO",
     "logger": "segmentservice.request",
     "message": "GET customer-segment/<str:tenant>/segments 200",
     "request_id": "6f1c2f0e...", "method": "GET",
     "route": "customer-segment/<str:tenant>/segments", "status": 200,
     "duration_ms": 12.345, "db_queries": 3, "tenant": "acme", "client_id": "k3J..."}

`route` is the URL pattern that answered (null when none did), never the raw path, so the
lines group by endpoint and carry no ids from the path.
"""

from __future__ import annotations

import logging
import re
import time
import uuid
from collections.abc import Callable
from contextvars import ContextVar
from typing import Any

from django.db import connection
from django.http import HttpRequest, HttpResponse
from django.utils.log import log_response

from segmentservice import metrics

logger = logging.getLogger("segmentservice.request")

REQUEST_ID: ContextVar[str | None] = ContextVar("request_id", default=None)
REQUEST_ID_HEADER = "X-Request-ID"
_SANE_REQUEST_ID = re.compile(r"[A-Za-z0-9._~:@+=/-]{1,128}")


def request_id_accept(value: str | None) -> str:
    """The caller's request id when it is sane, otherwise a new one (32 hex digits)."""
    if value and _SANE_REQUEST_ID.fullmatch(value):
        return value
    return uuid.uuid4().hex


def request_id_current() -> str | None:
    """The id of the request being answered in this context, if any."""
    return REQUEST_ID.get()


class RequestIdFilter(logging.Filter):
    """Adds `request_id` to every record logged while a request is being answered."""

    def filter(self, record: logging.LogRecord) -> bool:
        request_id = REQUEST_ID.get()
        if request_id is not None and not hasattr(record, "request_id"):
            record.request_id = request_id
        return True


class RequestLogMiddleware:
    """Request id in and out, one log line and the request metrics per request."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        request_id = request_id_accept(request.headers.get(REQUEST_ID_HEADER))
        token = REQUEST_ID.set(request_id)
        queries = 0

        def count(execute, sql, params, many, context) -> Any:
            nonlocal queries
            queries += 1
            return execute(sql, params, many, context)

        started = time.perf_counter()
        try:
            with connection.execute_wrapper(count):
                response = self.get_response(request)
            seconds = time.perf_counter() - started
            response[REQUEST_ID_HEADER] = request_id
            if response.status_code >= 400:
                # Django logs "Not Found: /path" and the like after the last middleware has
                # returned, outside this request's context; logging it here (Django then
                # skips it) gives that line the request id as well.
                log_response(
                    "%s: %s",
                    response.reason_phrase,
                    request.path,
                    response=response,
                    request=request,
                )
            route = _route(request)
            metrics.request_observe(
                method=request.method or "",
                route=route,
                status=response.status_code,
                seconds=seconds,
                queries=queries,
            )
            if logger.isEnabledFor(logging.INFO):
                tenant, client_id = _caller(request)
                logger.info(
                    "%s %s %s",
                    request.method,
                    route or "-",
                    response.status_code,
                    extra={
                        "request_id": request_id,
                        "method": request.method,
                        "route": route,
                        "status": response.status_code,
                        "duration_ms": round(seconds * 1000, 3),
                        "db_queries": queries,
                        "tenant": tenant,
                        "client_id": client_id,
                    },
                )
            return response
        finally:
            REQUEST_ID.reset(token)


def _route(request: HttpRequest) -> str | None:
    """The URL pattern that answered, e.g. `customer-segment/<str:tenant>/segments`."""
    match = getattr(request, "resolver_match", None)
    return match.route if match is not None else None


def _caller(request: HttpRequest) -> tuple[str | None, str | None]:
    """The tenant (path or token) and the token's subject: the API client's id."""
    claims = getattr(request, "auth", None)  # DRF copies the accepted token's claims here
    match = getattr(request, "resolver_match", None)
    tenant = match.kwargs.get("tenant") if match is not None else None
    if claims is None:
        return tenant, None
    return tenant or getattr(claims, "tenant", None), getattr(claims, "subject", None) or None
