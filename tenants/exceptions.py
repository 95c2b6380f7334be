"""Errors of the tenants app."""

from segmentservice.exceptions import Forbidden, NotFound, ServiceError, ValidationFailed


class InvalidTenantName(ValidationFailed):
    """A tenant name breaks the naming rule."""


class UnknownTenant(NotFound):
    """No tenant of that name exists."""


class TenantMismatch(Forbidden):
    """The token belongs to another tenant."""


class MissingScope(Forbidden):
    """The token lacks every scope an operation accepts; `details` names each one."""


class InvalidToken(ServiceError):
    """A bearer token is missing, malformed, expired or badly signed."""

    status_code = 401
    default_message = "Invalid access token"


class InvalidClient(ServiceError):
    """Client credentials are wrong, or the client is revoked."""

    status_code = 401
    default_message = "invalid_client"


class InvalidScope(ValidationFailed):
    """A requested scope is unknown or not granted to the client."""
