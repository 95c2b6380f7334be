"""Errors of the segments app, on top of the shared hierarchy in `segmentservice.exceptions`."""

from segmentservice.exceptions import (
    AlreadyExists,
    NotFound,
    ServiceError,
    ValidationFailed,
    VersionConflict,
)


class SegmentNotFound(NotFound):
    """No segment with that id in this tenant."""


class AssignmentNotFound(NotFound):
    """No such customer or item assignment in the segment."""


class HasAssignments(ValidationFailed):
    """A segment with assignments was deleted without forceDelete=true."""


class UnknownReference(ValidationFailed):
    """An assignment names a customer, legal entity, product or category the tenant lacks."""


__all__ = [
    "AlreadyExists",
    "AssignmentNotFound",
    "HasAssignments",
    "NotFound",
    "SegmentNotFound",
    "ServiceError",
    "UnknownReference",
    "ValidationFailed",
    "VersionConflict",
]
