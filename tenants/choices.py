"""Fixed vocabularies of the tenants app."""

from django.db import models


class Scope(models.TextChoices):
    """The OAuth scopes the service knows."""

    SEGMENT_MANAGE = "customersegment.segment_manage", "Manage segments and assignments"
    SEGMENT_READ = "customersegment.segment_read", "Read segments and assignments"
    SEGMENT_READ_OWN = "customersegment.segment_read_own", "Read own segments (customer token)"


ALL_SCOPES = frozenset(Scope.values)
