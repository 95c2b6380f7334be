"""The allow-list of fields each resource can be filtered and sorted by.

A field map is keyed by the name the API speaks (`metadata.createdAt`) and says what
kind of value sits there and in which ORM column (`created_at`, relative to the model
being queried; `__` joins are allowed, e.g. `customer__email`). The kind decides how a
value in `q` is read and which operators make sense:

    Text       a string column                      siteCode:main, customer.email:~@acme
    Enum       a string column with fixed choices   status:ACTIVE
    Integer    an integer column                    metadata.version:>2
    DateTime   a timestamp column                   metadata.createdAt:>="2024-05-18T07:00:00Z"
    Boolean    a boolean column                     published:true
    Localized  a JSON map language → text           name.en:Gold, or bare name: the default
    Json       arbitrary JSON, any dotted path      mixins.loyalty.tier:3

Nothing here imports Django: the compiler turns these into lookups.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from segments.query.ast import QuerySyntaxError
from segments.query.limits import shorten


@dataclass(frozen=True, slots=True)
class Text:
    """A string column."""

    column: str


@dataclass(frozen=True, slots=True)
class Enum:
    """A string column that holds one of `choices`."""

    column: str
    choices: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class Integer:
    """An integer column."""

    column: str


@dataclass(frozen=True, slots=True)
class DateTime:
    """A timezone-aware timestamp column."""

    column: str


@dataclass(frozen=True, slots=True)
class Boolean:
    """A boolean column."""

    column: str


@dataclass(frozen=True, slots=True)
class Localized:
    """A JSON object mapping language codes to text; `name.en` addresses one language."""

    column: str


@dataclass(frozen=True, slots=True)
class Json:
    """A JSON column; any dotted path below it (`mixins.a.b`) addresses a nested value."""

    column: str


Field = Text | Enum | Integer | DateTime | Boolean | Localized | Json
FieldMap = Mapping[str, Field]


def resolve(
    field_map: FieldMap,
    dotted_name: str,
    *,
    position: int = 0,
    max_segments: int | None = None,
) -> tuple[Field, tuple[str, ...]]:
    """Find the field for `dotted_name` by its longest known prefix, plus the path below it.

    `mixins.a.b` → (Json("mixins"), ("a", "b")); `name.en` → (Localized("name"), ("en",));
    `metadata.mixins.x` → (Json("metadata_mixins"), ("x",)) when `metadata.mixins` is known.
    A name of more than `max_segments` segments is refused before it is looked up.
    """
    segments = dotted_name.count(".") + 1
    if max_segments is not None and segments > max_segments:
        raise QuerySyntaxError(
            f"Field path '{shorten(dotted_name)}' has {segments} segments, more than "
            f"{max_segments} (FIELD_PATH_MAX_SEGMENTS)",
            position,
        )
    parts = dotted_name.split(".")
    for cut in range(len(parts), 0, -1):
        field = field_map.get(".".join(parts[:cut]))
        if field is None:
            continue
        path = tuple(parts[cut:])
        if not path:
            return field, path
        if isinstance(field, Localized) and len(path) == 1 and _is_key(path[0]):
            return field, path
        if isinstance(field, Json) and all(_is_key(key) for key in path):
            return field, path
        break
    raise QuerySyntaxError(f"Unknown field '{dotted_name}'", position)


def _is_key(key: str) -> bool:
    # `__` would be read by Django as a lookup separator, so such keys cannot be addressed.
    return bool(key) and "__" not in key


def _versioned(**extra: Any) -> dict[str, Field]:
    """The mixins and metadata every resource shares, plus `extra`."""
    return {
        **extra,
        "mixins": Json("mixins"),
        "metadata.mixins": Json("metadata_mixins"),
        "metadata.version": Integer("version"),
        "metadata.createdAt": DateTime("created_at"),
        "metadata.modifiedAt": DateTime("modified_at"),
    }


SEGMENT_FIELDS: FieldMap = _versioned(
    **{
        "id": Text("external_id"),
        "name": Localized("name"),
        "description": Localized("description"),
        "status": Enum("status", ("ACTIVE", "INACTIVE")),
        "siteCode": Text("site_code"),
        "validity.from": DateTime("valid_from"),
        "validity.to": DateTime("valid_to"),
    }
)

CUSTOMER_ASSIGNMENT_FIELDS: FieldMap = _versioned(
    **{
        "customer.id": Text("customer__external_id"),
        "customer.firstName": Text("customer__first_name"),
        "customer.lastName": Text("customer__last_name"),
        "customer.email": Text("customer__email"),
        "legalEntity.id": Text("legal_entity__external_id"),
        "legalEntity.name": Text("legal_entity__name"),
        "assignmentType": Enum("assignment_type", ("MANUAL", "AUTOMATIC")),
        "segmentId": Text("segment__external_id"),
    }
)

# `item_external_id`, `item_code` and `item_name` are annotated on the queryset by the
# selector, since an item is a product or a category.
ITEM_ASSIGNMENT_FIELDS: FieldMap = _versioned(
    **{
        "segmentId": Text("segment__external_id"),
        "type": Enum("type", ("PRODUCT", "CATEGORY")),
        "item.id": Text("item_external_id"),
        "item.code": Text("item_code"),
        "item.name": Localized("item_name"),
    }
)

GROUP_ASSIGNMENT_FIELDS: FieldMap = _versioned(
    **{
        "segmentId": Text("segment__external_id"),
        "group.id": Text("group__external_id"),
        "group.name": Localized("group__name"),
    }
)

# --- Rules (SPEC §12): the customer, its legal entities, its other segments ------------------
# A rule's condition is on the customer itself, on one of its legal entities (any one, or for
# B2B the legal entity of the pair), or on its membership of another segment. Each map's
# columns are relative to the model its conditions are compiled over (the rule compiler,
# `segments.selectors.rules`, says which).


def rule_customer_fields(prefix: str = "") -> FieldMap:
    """The customer's own fields, with columns under `prefix` (e.g. `customer__`)."""
    return {
        "id": Text(f"{prefix}external_id"),
        "email": Text(f"{prefix}email"),
        "firstName": Text(f"{prefix}first_name"),
        "lastName": Text(f"{prefix}last_name"),
        "attributes": Json(f"{prefix}attributes"),
    }


# Over the customer-legal entity pairs (CustomerLegalEntity).
RULE_LEGAL_ENTITY_FIELDS: FieldMap = {
    "legalEntities.id": Text("legal_entity__external_id"),
    "legalEntities.name": Text("legal_entity__name"),
}

# Over the customer's assignments (CustomerAssignment): equality and lists only.
RULE_SEGMENT_FIELDS: FieldMap = {
    "segments.id": Text("segment__external_id"),
}

# Over the customer's group memberships (GroupMember): equality and lists only.
RULE_GROUP_FIELDS: FieldMap = {
    "groups.id": Text("group__external_id"),
}
