"""Per-element results of bulk operations, shared by every bulk service.

A bulk service returns one `BulkItemResult` per input element, in input order; the API
renders them as the 207 body. One element's failure never stops or undoes the others.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from segmentservice.exceptions import ServiceError


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


def bulk_merge(*parts: Iterable[BulkItemResult]) -> list[BulkItemResult]:
    """The results of one request in element order: those of the elements that failed
    validation and those the service returned for the valid ones."""
    return sorted((result for part in parts for result in part), key=lambda r: r.index)
