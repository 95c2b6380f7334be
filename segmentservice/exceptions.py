"""The domain error hierarchy shared by every app.

Services raise these; they never raise DRF exceptions. The one exception handler in
`segmentservice.api.errors` turns each into the contract's error body, using the class's
`status_code`. Bulk operations turn them into 207 entries the same way.
"""

from __future__ import annotations

from typing import Any


class ServiceError(Exception):
    """A business rule was broken; `status_code` says how the API answers it."""

    status_code = 400
    default_message = "Bad request."

    def __init__(
        self,
        message: str | None = None,
        *,
        resource_id: str | None = None,
        details: Any = None,
    ) -> None:
        self.message = message or self.default_message
        self.resource_id = resource_id
        self.details = details
        super().__init__(self.message)


class ValidationFailed(ServiceError):
    """The input does not satisfy the resource's rules."""

    status_code = 400
    default_message = "Validation problem with request body."


class NotFound(ServiceError):
    """The addressed resource does not exist in this tenant."""

    status_code = 404
    default_message = "The resource has not been found."


class AlreadyExists(ServiceError):
    """A create names an id that is taken."""

    status_code = 409
    default_message = "The resource already exists."


class VersionConflict(ServiceError):
    """A write carried a `metadata.version` that is not the stored one."""

    status_code = 409
    default_message = "The resource you are attempting to access has changed."


class Forbidden(ServiceError):
    """The caller may not touch this resource."""

    status_code = 403
    default_message = "The access to the requested resource has been forbidden by the server."


class ConcurrentWriteConflict(ServiceError):
    """The database rolled a write back twice to let concurrent writes of the same rows go on."""

    status_code = 503
    default_message = (
        "The write collided with concurrent writes of the same resources and was rolled back; "
        "nothing was written. Retry the request."
    )
