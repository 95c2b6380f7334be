"""Bulk request checks and the 207 Multi-Status body.

Input: a JSON array of at most `BULK_MAX_ITEMS` elements, else 400 for the whole request;
a bulk delete also takes `{"ids": [...]}`, as the platform's SDK sends it.
Output, one entry per element in order (`index` counts from 1):

    [{"index": 1, "id": "seg1", "code": 201, "status": "Created"},
     {"index": 2, "code": 400, "status": "Bad Request", "message": "name: This field is required."}]
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
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


def bulk_elements(data: Any, *, what: str = "The request body") -> list[Any]:
    """The request's elements; raises ValidationFailed unless it is a non-empty, small array."""
    if not isinstance(data, list):
        raise ValidationFailed(f"{what} must be a JSON array.")
    if not data:
        raise ValidationFailed(
            f"{what} is an empty array; send 1 to {settings.BULK_MAX_ITEMS} elements."
        )
    if len(data) > settings.BULK_MAX_ITEMS:
        has = "The request has" if what == "The request body" else f"{what} has"
        raise ValidationFailed(
            f"{has} {len(data)} elements; at most {settings.BULK_MAX_ITEMS} are allowed."
        )
    return data


SDK_FORM = 'The request body must be a JSON array or {"ids": [...]}'


def bulk_delete_elements(data: Any, *, id_element: Callable[[str], Any] | None = None) -> list[Any]:
    """The elements of a bulk delete: the YAML's JSON array, or `{"ids": [...]}`.

    The platform's public TypeScript SDK sends the object form, `{"ids": ["a", "b"]}`, whose
    `ids` hold what the array would. `id_element` turns a string of `ids` into the array's
    element where that is not a string (customer assignments: a customer id is its B2C
    assignment, `{"customerId": id}`); other elements of `ids` stay as they are.
    """
    if isinstance(data, list):
        return bulk_elements(data)
    if not isinstance(data, dict):
        raise ValidationFailed(f"{SDK_FORM}.")
    unknown = sorted(set(data) - {"ids"})
    if unknown:
        raise ValidationFailed(f"{SDK_FORM}; unknown member(s): {', '.join(unknown)}.")
    if "ids" not in data:
        raise ValidationFailed(f"{SDK_FORM}; ids is missing.")
    elements = bulk_elements(data["ids"], what="ids")
    if id_element is None:
        return elements
    return [id_element(e) if isinstance(e, str) else e for e in elements]


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
