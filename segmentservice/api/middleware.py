"""Middleware that protects the API before a view runs (Django's, and one at the WSGI level)."""

from __future__ import annotations

import io
import json
from collections.abc import Callable, Iterable
from http import HTTPStatus
from typing import Any

from django.conf import settings
from django.http import HttpRequest, HttpResponse

from segmentservice.api.errors import error_body, json_error

WSGIApp = Callable[[dict[str, Any], Callable[..., Any]], Iterable[bytes]]


class RequestSizeLimitMiddleware:
    """Refuses a body larger than `MAX_REQUEST_BODY_BYTES` with 413, before reading it.

    DRF reads the request stream directly and so bypasses Django's own
    `DATA_UPLOAD_MAX_MEMORY_SIZE` check; this closes that gap for declared lengths.
    Chunked bodies get their length from `ChunkedBodyMiddleware` first.
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


class ChunkedBodyMiddleware:
    """WSGI middleware: reads a `Transfer-Encoding: chunked` body, up to the body limit.

    For a chunked request gunicorn puts no CONTENT_LENGTH in the environ and hands over the
    de-chunked body as a `wsgi.input` that ends where the body ends (it says so with
    `wsgi.input_terminated`). Django reads CONTENT_LENGTH bytes and so would see an empty
    body. This reads at most `MAX_REQUEST_BODY_BYTES` + 1 bytes: over the limit is a 413,
    otherwise the app gets the body with its length, as if it had been declared. A server
    that does not end the input (no `wsgi.input_terminated`) is left alone, since reading
    to the end of its stream could block. A body that breaks the chunked framing (gunicorn
    raises an `OSError` for it) is a 400 rather than a connection closed without an answer.
    """

    def __init__(self, app: WSGIApp) -> None:
        self.app = app

    def __call__(self, environ: dict[str, Any], start_response: Callable[..., Any]) -> Any:
        if (
            environ.get("wsgi.input_terminated")
            and not environ.get("CONTENT_LENGTH")
            and "chunked" in environ.get("HTTP_TRANSFER_ENCODING", "").lower()
        ):
            limit = settings.MAX_REQUEST_BODY_BYTES
            try:
                body = environ["wsgi.input"].read(limit + 1)
            except OSError as exc:
                message = f"The chunked request body is malformed: {str(exc)[:120]}."
                return _answer(400, message, start_response)
            if len(body) > limit:
                message = (
                    f"The request body is over {limit} bytes; at most {limit} bytes are accepted."
                )
                return _answer(413, message, start_response)
            environ["wsgi.input"] = io.BytesIO(body)
            environ["CONTENT_LENGTH"] = str(len(body))
        return self.app(environ, start_response)


def _answer(status: int, message: str, start_response: Callable[..., Any]) -> list[bytes]:
    """The contract's error body, answered at the WSGI level."""
    body = json.dumps(error_body(status, message)).encode()
    start_response(
        f"{status} {HTTPStatus(status).phrase}",
        [("Content-Type", "application/json"), ("Content-Length", str(len(body)))],
    )
    return [body]
