"""One error envelope for the whole API: `{"code", "status", "message", "resourceId"?, "details"?}`.

`exception_handler` is DRF's hook; `json_error` builds the body for Django-level handlers
(404 on unknown paths, 500) and middleware (413), so every error a client sees has one shape.
A database that is unreachable or does not answer in time is a 503 in both, whose message
says nothing about where the database is.
"""

from __future__ import annotations

import logging
import sys
from http import HTTPStatus
from typing import Any

import psycopg
from django.core.exceptions import PermissionDenied
from django.core.exceptions import ValidationError as DjangoValidationError
from django.db import InterfaceError, OperationalError
from django.http import Http404, HttpRequest, HttpResponse, JsonResponse
from django.views import defaults
from rest_framework import exceptions as drf_exceptions
from rest_framework.response import Response
from rest_framework.settings import api_settings

from segmentservice.exceptions import ServiceError

logger = logging.getLogger(__name__)

INVALID_TOKEN_BODY = {
    "fault": {
        "faultstring": "Invalid access token",
        "detail": {"errorcode": "oauth.v2.InvalidAccessToken"},
    }
}


DATABASE_UNAVAILABLE = "The database is not available right now; try again shortly."

# SQLSTATE classes and codes that say the database, not the request, is the problem: the
# connection (08), resources (53: too many connections, disk full), operator intervention
# (57: statement_timeout's query_canceled, shutdown, starting up), system errors (58),
# transaction rollbacks a retry resolves (40: deadlock, serialization) and lock_not_available.
# Other OperationalErrors (54: a value over an index's size limit) stay 500s.
_OUTAGE_SQLSTATE_CLASSES = ("08", "40", "53", "57", "58")
_OUTAGE_SQLSTATES = frozenset({"55P03"})

# psycopg's own, for code that talks to the driver without Django's wrapper.
_DRIVER_ERRORS = (psycopg.OperationalError, psycopg.InterfaceError)


def is_database_outage(exc: BaseException) -> bool:
    """Whether `exc` says the database is unreachable or did not answer in time.

    Django wraps the driver's error and keeps it as `__cause__`: a failure with no SQLSTATE
    (psycopg could not connect, or lost the connection; SQLite is locked or unreadable)
    or with one of the classes above is an outage.
    """
    if not isinstance(exc, (OperationalError, InterfaceError, *_DRIVER_ERRORS)):
        return False
    driver_error = exc.__cause__ if exc.__cause__ is not None else exc
    sqlstate = getattr(driver_error, "sqlstate", None)
    return (
        sqlstate is None
        or sqlstate.startswith(_OUTAGE_SQLSTATE_CLASSES)
        or sqlstate in _OUTAGE_SQLSTATES
    )


def error_body(
    status: int, message: str, *, resource_id: str | None = None, details: Any = None
) -> dict[str, Any]:
    """The contract's error body for one status code."""
    body: dict[str, Any] = {
        "code": status,
        "status": HTTPStatus(status).phrase,
        "message": message,
    }
    if resource_id is not None:
        body["resourceId"] = resource_id
    if details:
        body["details"] = details
    return body


def json_error(status: int, message: str, **kwargs: Any) -> JsonResponse:
    """A Django response carrying the error body."""
    return JsonResponse(error_body(status, message, **kwargs), status=status)


def flatten_validation_errors(detail: Any, prefix: str = "") -> list[tuple[str, str, str]]:
    """Turn DRF's nested error detail into (field path, message, error code) triples."""
    triples: list[tuple[str, str, str]] = []
    if isinstance(detail, dict):
        for key, value in detail.items():
            if key in ("non_field_errors", api_settings.NON_FIELD_ERRORS_KEY):
                triples.extend(flatten_validation_errors(value, prefix))
            else:
                path = f"{prefix}.{key}" if prefix else str(key)
                triples.extend(flatten_validation_errors(value, path))
    elif isinstance(detail, list):
        if all(not isinstance(item, (dict, list)) for item in detail):
            triples.extend((prefix, str(item), _code(item)) for item in detail)
        else:
            for index, item in enumerate(detail):
                triples.extend(flatten_validation_errors(item, f"{prefix}[{index}]"))
    else:
        triples.append((prefix, str(detail), _code(detail)))
    return triples


def _code(item: Any) -> str:
    return str(getattr(item, "code", None) or "invalid")


def validation_message(detail: Any) -> tuple[str, dict[str, str] | None]:
    """A one-line message naming every problem, and `details` for a single field problem.

    The contract's `details` is one object (`field`, `type`, `message`), so it is given
    when exactly one field is at fault; with several, the message names them all.
    """
    triples = flatten_validation_errors(detail)
    message = "; ".join(f"{field}: {text}" if field else text for field, text, _ in triples)
    details = None
    if len(triples) == 1 and triples[0][0]:
        field, text, code = triples[0]
        details = {"field": field, "type": code, "message": text}
    return message or "Validation problem with request body.", details


def exception_handler(exc: Exception, context: dict[str, Any]) -> Response | None:
    """DRF's exception hook: every failure becomes the contract's JSON error body."""
    if is_database_outage(exc):
        request = context.get("request")
        logger.warning(
            "Database unavailable for %s %s: %s",
            getattr(request, "method", "?"),
            getattr(request, "path", "?"),
            exc,
        )
        return Response(error_body(503, DATABASE_UNAVAILABLE), status=503)
    if isinstance(exc, drf_exceptions.NotAuthenticated | drf_exceptions.AuthenticationFailed):
        return Response(INVALID_TOKEN_BODY, status=401, headers={"WWW-Authenticate": "Bearer"})
    if isinstance(exc, ServiceError):
        return Response(
            error_body(
                exc.status_code, exc.message, resource_id=exc.resource_id, details=exc.details
            ),
            status=exc.status_code,
        )
    if isinstance(exc, Http404):
        message = str(exc) if str(exc) else "The resource has not been found."
        return Response(error_body(404, message), status=404)
    if isinstance(exc, PermissionDenied):
        exc = drf_exceptions.PermissionDenied()
    if isinstance(exc, DjangoValidationError):
        exc = drf_exceptions.ValidationError(exc.messages)
    if isinstance(exc, drf_exceptions.ValidationError):
        message, details = validation_message(exc.detail)
        return Response(error_body(400, message, details=details), status=400)
    if isinstance(exc, drf_exceptions.PermissionDenied):
        message = (
            "The access to the requested resource has been forbidden by the server."
            if exc.detail == drf_exceptions.PermissionDenied.default_detail
            else str(exc.detail)
        )
        return Response(error_body(403, message), status=403)
    if isinstance(exc, drf_exceptions.APIException):
        headers = {}
        if isinstance(exc, drf_exceptions.MethodNotAllowed):
            view = context.get("view")
            if view is not None:
                headers["Allow"] = ", ".join(view.allowed_methods)
        if getattr(exc, "wait", None):
            headers["Retry-After"] = str(int(exc.wait))
        return Response(
            error_body(exc.status_code, str(exc.detail)), status=exc.status_code, headers=headers
        )
    return None


def _is_admin(request: HttpRequest) -> bool:
    # The admin is a browser application: its error pages stay HTML.
    return request.path.startswith("/admin/")


def handler404(request: HttpRequest, exception: Exception | None = None) -> HttpResponse:
    """Unknown paths answer JSON, not Django's HTML page."""
    if _is_admin(request):
        return defaults.page_not_found(request, exception)
    return json_error(404, f"No resource at {request.path}.")


def handler500(request: HttpRequest) -> HttpResponse:
    """An unexpected failure still answers the JSON error body; a database outage is a 503.

    Django calls it while handling the exception (its log line carries the details), so
    `sys.exc_info()` names the failure, wherever it was raised: a view, a middleware.
    """
    exc = sys.exc_info()[1]
    if exc is not None and is_database_outage(exc):
        if _is_admin(request):
            return HttpResponse(
                "<h1>Service Unavailable</h1><p>The database is not available right now; "
                "try again shortly.</p>",
                status=503,
            )
        return json_error(503, DATABASE_UNAVAILABLE)
    if _is_admin(request):
        return defaults.server_error(request)
    return json_error(500, "Internal server error.")


def handler400(request: HttpRequest, exception: Exception | None = None) -> HttpResponse:
    """A request Django itself rejects (bad host, too many fields) answers JSON."""
    if _is_admin(request):
        return defaults.bad_request(request, exception)
    return json_error(400, "Bad request.")


def handler403(request: HttpRequest, exception: Exception | None = None) -> HttpResponse:
    """A request Django itself forbids answers JSON outside the admin."""
    if _is_admin(request):
        return defaults.permission_denied(request, exception)
    return json_error(403, "The access to the requested resource has been forbidden by the server.")
