"""Bulk operations, from the request's array to the 207 Multi-Status body.

Input: a JSON array of at most `BULK_MAX_ITEMS` elements (`bulk_elements`), else 400 for the
whole request; a bulk delete also takes `{"ids": [...]}`, as the platform's SDK sends it
(`bulk_delete_elements`). A bulk service returns one `BulkItemResult` per valid element; `bulk_merge`
puts them in element order with the results of the elements that failed validation, and
`bulk_body` renders them, one entry per element in order (`index` counts from 1):

    [{"index": 1, "id": "seg1", "code": 201, "status": "Created"},
     {"index": 2, "code": 400, "status": "Bad Request", "message": "name: This field is required."}]

One element's failure never stops or undoes the others. Layer-neutral (no DRF): the services
return the results, the API answers `Response(bulk_body(results), status=207)`.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
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
