"""The Django admin of the segments app: one module per concern, registered on import.

Every class here is scoped to the staff user's tenants by `TenantOwnedAdmin`.
"""

from segments.admin import assignments, directory, events, rules, segments  # noqa: F401
