"""Bulk request checks and the 207 Multi-Status body.

Input: a JSON array of at most `BULK_MAX_ITEMS` elements, else 400 for the whole request.
Output, one entry per element in order (`index` counts from 1):

    [{"index": 1, "id": "seg1", "code": 201, "status": "Created"},
     {"index": 2, "code": 400, "status": "Bad Request", "message": "name: This field is required."}]
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from django.conf import settings
from rest_framework.response import Response

from segmentservice.bulk import BulkItemResult
from segmentservice.exceptions import ValidationFailed

STATUS_TEXT = {
    200: "OK",
    201: "Created",
    204: "OK",
    400: "Bad Request",
    403: "Forbidden",
    404: "Not Found",
    409: "Conflict",
}


def bulk_elements(data: Any) -> list[Any]:
    """The request's elements; raises ValidationFailed unless it is a non-empty, small array."""
    if not isinstance(data, list):
        raise ValidationFailed("The request body must be a JSON array.")
    if not data:
        raise ValidationFailed(
            f"The request body is an empty array; send 1 to {settings.BULK_MAX_ITEMS} elements."
        )
    if len(data) > settings.BULK_MAX_ITEMS:
        raise ValidationFailed(
            f"The request has {len(data)} elements; at most {settings.BULK_MAX_ITEMS} are allowed."
        )
    return data


def bulk_result_body(result: BulkItemResult, *, with_id: bool = True) -> dict[str, Any]:
    """One 207 entry."""
    body: dict[str, Any] = {"index": result.index}
    if with_id and result.id is not None:
        body["id"] = result.id
    body["code"] = result.code
    body["status"] = STATUS_TEXT.get(result.code, "Error")
    if result.message:
        body["message"] = result.message
    return body


def bulk_response(results: Iterable[BulkItemResult], *, with_id: bool = True) -> Response:
    """The 207 response for a bulk operation."""
    return Response([bulk_result_body(r, with_id=with_id) for r in results], status=207)
