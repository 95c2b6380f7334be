"""Bulk operations, from the request's array to the 207 Multi-Status body.

Input: a JSON array of at most `BULK_MAX_ITEMS` elements (`bulk_elements`), else 400 for the
whole request. A bulk service returns one `BulkItemResult` per valid element; `bulk_merge`
puts them in element order with the results of the elements that failed validation, and
`bulk_body` renders them, one entry per element in order (`index` counts from 1):

    [{"index": 1, "id": "seg1", "code": 201, "status": "Created"},
     {"index": 2, "code": 400, "status": "Bad Request", "message": "name: This field is required."}]

One element's failure never stops or undoes the others. Layer-neutral (no DRF): the services
return the results, the API answers `Response(bulk_body(results), status=207)`.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from django.conf import settings

from segmentservice.exceptions import ServiceError, ValidationFailed

STATUS_TEXT = {
    200: "OK",
    201: "Created",
    204: "OK",
    400: "Bad Request",
    403: "Forbidden",
    404: "Not Found",
    409: "Conflict",
}


@dataclass(frozen=True)
class BulkItemResult:
    """The outcome of one bulk element: `code` is an HTTP status (201, 204, 400, 404, 409)."""

    index: int
    code: int
    id: str | None = None
    message: str | None = None

    @classmethod
    def failed(cls, *, index: int, error: ServiceError, id: str | None = None) -> BulkItemResult:
        """The result for an element that raised a domain error."""
        return cls(index=index, code=error.status_code, id=id, message=error.message)


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


def bulk_merge(*parts: Iterable[BulkItemResult]) -> list[BulkItemResult]:
    """The results of one request in element order: those of the elements that failed
    validation and those the service returned for the valid ones."""
    return sorted((result for part in parts for result in part), key=lambda r: r.index)


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


def bulk_body(results: Iterable[BulkItemResult], *, with_id: bool = True) -> list[dict[str, Any]]:
    """The 207 body of a bulk operation."""
    return [bulk_result_body(result, with_id=with_id) for result in results]
