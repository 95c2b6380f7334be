"""Middleware that protects the API before a view runs."""

from __future__ import annotations

from collections.abc import Callable

from django.conf import settings
from django.http import HttpRequest, HttpResponse

from segmentservice.api.errors import json_error


class RequestSizeLimitMiddleware:
    """Refuses a body larger than `MAX_REQUEST_BODY_BYTES` with 413, before reading it.

    DRF reads the request stream directly and so bypasses Django's own
    `DATA_UPLOAD_MAX_MEMORY_SIZE` check; this closes that gap for declared lengths.
    Bodies without a declared length are capped by `StrictJSONParser`.
    """

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        length = request.META.get("CONTENT_LENGTH") or "0"
        try:
            declared = int(length)
        except ValueError:
            return json_error(400, f"Content-Length {length!r} is not a number.")
        if declared > settings.MAX_REQUEST_BODY_BYTES:
            return json_error(
                413,
                f"The request body is {declared} bytes; at most "
                f"{settings.MAX_REQUEST_BODY_BYTES} bytes are accepted.",
            )
        return self.get_response(request)
