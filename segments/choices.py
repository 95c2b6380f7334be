"""Fixed vocabularies of the segments app."""

from django.db import models


class SegmentStatus(models.TextChoices):
    """Whether a segment is switched on."""

    ACTIVE = "ACTIVE", "Active"
    INACTIVE = "INACTIVE", "Inactive"


class AssignmentType(models.TextChoices):
    """How a customer came into a segment."""

    MANUAL = "MANUAL", "Manual"
    AUTOMATIC = "AUTOMATIC", "Automatic"


class ItemType(models.TextChoices):
    """What kind of item is assigned to a segment."""

    PRODUCT = "PRODUCT", "Product"
    CATEGORY = "CATEGORY", "Category"


class GroupUserType(models.TextChoices):
    """Who a directory group holds: only CUSTOMER groups can be assigned to segments."""

    CUSTOMER = "CUSTOMER", "Customer"
    EMPLOYEE = "EMPLOYEE", "Employee"


class EventType(models.TextChoices):
    """Change events, named as in the hosted service's webhook catalogue."""

    SEGMENT_CREATED = "customer-segment.segment-created"
    SEGMENT_UPDATED = "customer-segment.segment-updated"
    SEGMENT_DELETED = "customer-segment.segment-deleted"
    CUSTOMER_ASSIGNMENT_CREATED = "customer-segment.customer-assignment-created"
    CUSTOMER_ASSIGNMENT_UPDATED = "customer-segment.customer-assignment-updated"
    CUSTOMER_ASSIGNMENT_DELETED = "customer-segment.customer-assignment-deleted"
    ITEM_ASSIGNMENT_CREATED = "customer-segment.item-assignment-created"
    ITEM_ASSIGNMENT_UPDATED = "customer-segment.item-assignment-updated"
    ITEM_ASSIGNMENT_DELETED = "customer-segment.item-assignment-deleted"
    GROUP_ASSIGNMENT_CREATED = "customer-segment.segment-group-assignment-created"
    GROUP_ASSIGNMENT_UPDATED = "customer-segment.segment-group-assignment-updated"
    GROUP_ASSIGNMENT_DELETED = "customer-segment.segment-group-assignment-deleted"
