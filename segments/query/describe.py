"""The `q` language described for people, from the field allow-lists themselves.

The OpenAPI `q` parameter and docs/query-language.md list the fields each resource filters
and sorts on; both come from (or are checked against) the maps in `segments.query.fields`,
so the documentation cannot drift from what the compiler accepts.
"""

from __future__ import annotations

from segments.query.fields import (
    CUSTOMER_ASSIGNMENT_FIELDS,
    GROUP_ASSIGNMENT_FIELDS,
    ITEM_ASSIGNMENT_FIELDS,
    SEGMENT_FIELDS,
    Boolean,
    DateTime,
    Enum,
    FieldMap,
    Integer,
    Json,
    Localized,
    Text,
)

# Each resource whose lists and searches take `q` and `sort`, with the routes that do.
RESOURCES: tuple[tuple[str, str, FieldMap], ...] = (
    ("Segments", "GET /segments, POST /segments/search, GET /segments/me", SEGMENT_FIELDS),
    (
        "Customer assignments",
        "GET /segments/{segmentId}/customers, POST /segments/{segmentId}/customers/search",
        CUSTOMER_ASSIGNMENT_FIELDS,
    ),
    (
        "Item assignments",
        "GET /segments/{segmentId}/items, POST /segments/{segmentId}/items/search, "
        "GET /segments/items",
        ITEM_ASSIGNMENT_FIELDS,
    ),
    (
        "Group assignments",
        "GET /segments/{segmentId}/groups, POST /segments/{segmentId}/groups/search",
        GROUP_ASSIGNMENT_FIELDS,
    ),
)

OPERATORS = """\
Space-separated `field:value` conditions, all of which must hold:
`field:value` equals (quoted `"a b"` with spaces); `field:>v`, `field:<v`, `field:>=v`,
`field:<=v`; a range `field:(>=10 AND <=20)`; one of several values `field:(a,b,c)`;
a regular expression `field:~AB12` (with spaces `field:~(Golden Seg)`); `field:null` or
`field:missing` (null or absent), `field:exists` (set and not null). Dates in double quotes:
`metadata.createdAt:>="2024-05-18T07:00:00Z"`. Localized fields take a language
(`name.en:Gold`; bare `name` means the tenant's default language); JSON fields any dotted
path below them (`mixins.loyalty.tier:3`). An unknown field or a malformed condition is a
400 naming it and its position. `sort` takes the same fields: `name.en:ASC,metadata.version:DESC`."""


def field_kind(field: object) -> str:
    """How a field's values are written, in a word or two."""
    if isinstance(field, Enum):
        return "one of " + "|".join(field.choices)
    if isinstance(field, Localized):
        return "localized, `.<language>`"
    if isinstance(field, Json):
        return "JSON, any `.path` below"
    kinds = {Text: "text", Integer: "integer", DateTime: "date-time", Boolean: "boolean"}
    return kinds[type(field)]


def describe_fields(field_map: FieldMap) -> str:
    """`name` (kind), ... for every field of one resource, in the allow-list's order."""
    return ", ".join(f"`{name}` ({field_kind(field)})" for name, field in field_map.items())


def q_description() -> str:
    """The `q` parameter's description: the operators, then each resource's fields."""
    lines = [OPERATORS, "", "Fields each resource filters and sorts on:", ""]
    lines += [
        f"- **{title}** ({routes}): {describe_fields(fields)}."
        for title, routes, fields in RESOURCES
    ]
    return "\n".join(lines)
