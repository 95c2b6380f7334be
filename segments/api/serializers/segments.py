"""Segment serializers: the wire form of a segment, and the inputs of the segment operations.

Inputs are strict: an unknown field is a 400 naming it, types are not coerced ("5" is not a
version, 5 is not a siteCode). They produce the services' internal values
(`SegmentFields`, `SegmentWrite`, `SegmentChange`); the rules a segment must satisfy are
the service's (`segment_problems`), checked once, where it writes.

A create or upsert body, with its localized fields as maps, or as plain strings in the
`Content-Language` (default: the tenant's default language):

    {"id": "gold", "name": {"en": "Gold"}, "description": {"en": "Best customers"},
     "validity": {"from": "2024-04-17T08:00:00.000Z", "to": "2025-04-17T08:00:00.000Z"},
     "status": "ACTIVE", "siteCode": "main", "mixins": {"tier": {"level": 3}},
     "metadata": {"version": 2, "mixins": {"tier": "https://example.com/tier.json"}}}
"""

from __future__ import annotations

import copy
import json
from collections.abc import Callable
from typing import Any

import jsonpatch
import jsonpointer
from django.conf import settings
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from segments.choices import SegmentStatus
from segments.documents import segment_document
from segments.models import Segment
from segments.services.segments import (
    SegmentChange,
    SegmentFields,
    SegmentWrite,
)
from segmentservice.api.errors import validation_message
from segmentservice.api.parsers import json_depth
from segmentservice.api.serializers import (
    MetadataResponseSerializer,
    ValidityRepresentationSerializer,
    elements_validate,
)
from segmentservice.api.timestamps import InstantField
from segmentservice.bulk import BulkItemResult
from segmentservice.exceptions import ValidationFailed, VersionConflict
from segmentservice.formats import localized_input

# What an input serializer is used for; see SegmentInputSerializer.
CREATE, UPSERT, BULK_CREATE, BULK_UPSERT, PATCH = (
    "create",
    "upsert",
    "bulk_create",
    "bulk_upsert",
    "patch",
)
PATCH_OPERATIONS = ("add", "remove", "replace", "test", "move", "copy")
# A match names at most this many items and segments: one query must stay one query.
MATCH_MAX_ITEMS = 1000


class SegmentSerializer(serializers.Serializer):
    """A segment as the API shows it; localized fields follow the `languages` context."""

    id = serializers.CharField(read_only=True)
    name = serializers.JSONField(
        read_only=True, help_text="Map language → text, or text (Accept-Language)."
    )
    # Optional fields are not read_only: the schema generator marks read-only fields required,
    # and a segment without a description, validity or mixins has none of these keys.
    description = serializers.JSONField(required=False)
    validity = ValidityRepresentationSerializer(required=False)
    status = serializers.ChoiceField(choices=SegmentStatus.choices, read_only=True)
    siteCode = serializers.CharField(read_only=True)
    mixins = serializers.DictField(required=False)
    metadata = MetadataResponseSerializer(read_only=True)

    def to_representation(self, instance: Segment) -> dict[str, Any]:
        """Render directly; this runs for every row of every list, so it skips field machinery."""
        languages = self.context.get("languages")
        default = self.context.get("default_language", "en")
        return segment_document(instance, languages=languages, default_language=default)


# --- strict input fields -------------------------------------------------------------------------


class StrictCharField(serializers.CharField):
    """A string, and only a string: numbers and booleans are not turned into text."""

    def to_internal_value(self, data: Any) -> str:
        """Refuse anything but a JSON string."""
        if not isinstance(data, str):
            self.fail("invalid")
        return super().to_internal_value(data)


class StrictIntegerField(serializers.IntegerField):
    """A JSON integer, not a string or a float that happens to hold one."""

    def to_internal_value(self, data: Any) -> int:
        """Refuse anything but a JSON integer."""
        if isinstance(data, bool) or not isinstance(data, int):
            self.fail("invalid")
        return super().to_internal_value(data)


@extend_schema_field(
    {
        "oneOf": [
            {"type": "object", "additionalProperties": {"type": "string"}},
            {"type": "string"},
        ],
        "description": "A map language → text, or a text in the Content-Language.",
        "example": {"en": "Golden Segment"},
    }
)
class LocalizedInputField(serializers.JSONField):
    """A localized text: a map language → text, or a plain string (see Content-Language)."""


class StrictSerializer(serializers.Serializer):
    """Refuses fields it does not know, naming them; `ignored_fields` are accepted and dropped."""

    ignored_fields: tuple[str, ...] = ()

    def to_internal_value(self, data: Any) -> dict[str, Any]:
        """Validate the known fields and report unknown ones in the same error."""
        errors: dict[str, Any] = {}
        try:
            value = super().to_internal_value(data)
        except serializers.ValidationError as exc:
            errors = dict(exc.detail) if isinstance(exc.detail, dict) else {"": exc.detail}
            value = {}
        if isinstance(data, dict):
            for key in data:
                if key not in self.fields and key not in self.ignored_fields:
                    errors[str(key)] = ["Unknown field."]
        if errors:
            raise serializers.ValidationError(errors)
        return value


class ValidityInputSerializer(StrictSerializer):
    """`{"from", "to"}`: ISO 8601 instants, either optional; `from` before `to`."""

    # The order of the ends is a rule of the service's (segment_problems), checked there.

    # `from` is a Python keyword, hence the rename in get_fields.
    from_ = InstantField(required=False, allow_null=True)
    to = InstantField(required=False, allow_null=True)

    def get_fields(self) -> dict[str, serializers.Field]:
        """Expose `from_` as `from` on the wire."""
        fields = super().get_fields()
        fields["from"] = fields.pop("from_")
        return fields


class MetadataInputSerializer(StrictSerializer):
    """`metadata` a client may send: the version it last saw, and mixin schema links.

    `createdAt` and `modifiedAt` are accepted and ignored, so that a client may send back
    what it read.
    """

    ignored_fields = ("createdAt", "modifiedAt")

    version = StrictIntegerField(
        required=False, allow_null=True, min_value=1, help_text="The version last read."
    )
    mixins = serializers.DictField(
        child=StrictCharField(),
        required=False,
        allow_null=True,
        help_text="Mixin name → URL of its JSON schema; stored as given.",
    )


class SegmentInputSerializer(StrictSerializer):
    """The body of a segment create, upsert or bulk element; `to_write()` gives the service input.

    Context: `tenant`, `content_language` (None for maps / the default language), `mode`
    (create, upsert, bulk_create, bulk_upsert, patch) and, for upsert and patch, `path_id`.
    """

    id = StrictCharField(
        required=False,
        max_length=64,
        help_text="Custom id, up to 64 characters; 24 hex characters are generated when absent.",
    )
    name = LocalizedInputField(help_text="Localized name (required).")
    description = LocalizedInputField(required=False, allow_null=True)
    validity = ValidityInputSerializer(required=False, allow_null=True)
    status = serializers.ChoiceField(
        choices=SegmentStatus.choices, required=False, help_text="Default INACTIVE."
    )
    siteCode = StrictCharField(max_length=64)
    mixins = serializers.DictField(required=False, allow_null=True)
    metadata = MetadataInputSerializer(required=False, allow_null=True)

    def validate_id(self, value: str) -> str:
        """In a PUT or PATCH, the id of the path (the service checks the id's rules)."""
        path_id = self.context.get("path_id")
        if path_id is not None and value != path_id:
            raise serializers.ValidationError(f"must be the id in the path ({path_id}).")
        return value

    def validate_name(self, value: Any) -> Any:
        """A localized text in the tenant's languages."""
        return self._localized(value, "name")

    def validate_description(self, value: Any) -> Any:
        """A localized text in the tenant's languages, or nothing."""
        return None if value is None else self._localized(value, "description")

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        """A bulk upsert element names its segment."""
        if self.context.get("mode") == BULK_UPSERT and not attrs.get("id"):
            raise serializers.ValidationError({"id": "This field is required."})
        return attrs

    def _localized(self, value: Any, field: str):
        tenant = self.context["tenant"]
        try:
            return localized_input(
                value,
                field=field,
                language=self.context.get("content_language"),
                allowed=tenant.languages,
                default=tenant.default_language,
            )
        except ValidationFailed as exc:
            raise serializers.ValidationError(exc.message.removeprefix(f"{field}: ")) from None

    def to_write(self, data: dict[str, Any], index: int = 1) -> SegmentWrite:
        """A validated body (`validated_data`, or a bulk element's) as the services take it."""
        validity = data.get("validity") or {}
        metadata = data.get("metadata") or {}
        name, description = data["name"], data.get("description")
        merge = {"name"} if name.single_language else set()
        if description is not None and description.single_language:
            merge.add("description")
        fields = SegmentFields(
            name=name.values,
            description=description.values if description is not None else {},
            site_code=data["siteCode"],
            status=data.get("status", SegmentStatus.INACTIVE),
            valid_from=validity.get("from"),
            valid_to=validity.get("to"),
            mixins=data.get("mixins") or {},
            metadata_mixins=metadata.get("mixins") or {},
            merge_languages=frozenset(merge),
        )
        # A create has no version to check (MetadataCreate); ignore one sent along.
        checks_version = self.context.get("mode") in (UPSERT, BULK_UPSERT, PATCH)
        return SegmentWrite(
            index=index,
            segment_id=data.get("id") or self.context.get("path_id"),
            fields=fields,
            expected_version=metadata.get("version") if checks_version else None,
        )


def parse_segment_input(data: Any, *, context: dict[str, Any]) -> SegmentWrite:
    """Validate one segment body; raises ValidationFailed naming every problem."""
    serializer = SegmentInputSerializer(data=data, context=context)
    if not serializer.is_valid():
        message, details = validation_message(serializer.errors)
        raise ValidationFailed(message, details=details)
    return serializer.to_write(serializer.validated_data)


def segment_writes(
    elements: list[Any], *, context: dict[str, Any]
) -> tuple[list[SegmentWrite], list[BulkItemResult]]:
    """Validate bulk elements: the valid ones as writes, the others as 400 results."""
    writes: list[SegmentWrite] = []
    failures: list[BulkItemResult] = []
    for index, element, serializer, data, errors in elements_validate(
        SegmentInputSerializer, elements, context=context
    ):
        if errors is None:
            writes.append(serializer.to_write(data, index))
            continue
        element_id = element.get("id") if isinstance(element, dict) else None
        message, _ = validation_message(errors)
        failures.append(
            BulkItemResult(
                index=index,
                code=400,
                id=element_id if isinstance(element_id, str) else None,
                message=message,
            )
        )
    return writes, failures


def segment_ids_input(elements: list[Any]) -> tuple[list[tuple[int, str]], list[BulkItemResult]]:
    """Bulk delete elements: the segment ids as `(index, id)` pairs, the others as 400 results."""
    segment_ids: list[tuple[int, str]] = []
    failures: list[BulkItemResult] = []
    for index, element in enumerate(elements, start=1):
        if isinstance(element, str) and element:
            segment_ids.append((index, element))
            continue
        error = ValidationFailed("Each element must be a segment id (a non-empty string).")
        failures.append(BulkItemResult.failed(index=index, error=error))
    return segment_ids, failures


# --- PATCH -------------------------------------------------------------------------------------


class PatchOperationSerializer(serializers.Serializer):
    """One RFC 6902 operation, e.g. `{"op": "replace", "path": "/status", "value": "ACTIVE"}`."""

    op = serializers.ChoiceField(choices=PATCH_OPERATIONS)
    path = serializers.CharField(help_text="A JSON pointer such as /name/en or /mixins/a/b.")
    value = serializers.JSONField(required=False, help_text="For add, replace and test.")
    from_ = serializers.CharField(required=False, help_text="For move and copy.")

    def get_fields(self) -> dict[str, serializers.Field]:
        """Expose `from_` as `from` on the wire."""
        fields = super().get_fields()
        fields["from"] = fields.pop("from_")
        return fields


@extend_schema_field(
    {
        "oneOf": [
            {
                "type": "object",
                "additionalProperties": {"type": "string", "nullable": True},
            },
            {"type": "string"},
        ],
        "description": "A map language → text (`null` removes a language), or a text in the "
        "Content-Language.",
        "example": {"en": "Golden Segment", "de": None},
    }
)
class LocalizedMergePatchField(serializers.JSONField):
    """A localized text in a merge patch: as LocalizedInputField, and `null` removes a language."""


class MetadataMergePatchSerializer(serializers.Serializer):
    """`metadata` in a merge patch: the version you expect, mixin links (`null` removes one)."""

    version = serializers.IntegerField(required=False, allow_null=True, min_value=1)
    mixins = serializers.DictField(
        child=serializers.CharField(allow_null=True), required=False, allow_null=True
    )


class SegmentMergePatchSerializer(serializers.Serializer):
    """An RFC 7396 merge patch: the fields to change; `null` removes one, at any depth.

    It documents the body only: the patched segment is validated as a PUT body is.
    """

    name = LocalizedMergePatchField(required=False)
    description = LocalizedMergePatchField(required=False, allow_null=True)
    validity = ValidityInputSerializer(required=False, allow_null=True)
    status = serializers.ChoiceField(
        choices=SegmentStatus.choices,
        required=False,
        allow_null=True,
        help_text="`null` sets the default, INACTIVE.",
    )
    siteCode = serializers.CharField(required=False)
    mixins = serializers.DictField(required=False, allow_null=True)
    metadata = MetadataMergePatchSerializer(required=False, allow_null=True)


def segment_patch_change(
    body: Any, *, context: dict[str, Any]
) -> Callable[[Segment], SegmentChange]:
    """The change a PATCH body makes, for `segment_patch`.

    An array is an RFC 6902 JSON Patch, an object an RFC 7396 JSON Merge Patch; either is
    applied to the segment's JSON form (localized fields as maps) and the result is
    validated like a PUT. `id` and the metadata timestamps cannot be changed. Setting
    `/metadata/version` states the version the client expects; a failed `test` is a 409.
    """
    media_type = context.get("media_type", "application/json")
    if isinstance(body, list) and "merge-patch" not in media_type:
        _check_operations(body)
        apply = _json_patch(body)
    elif isinstance(body, dict) and "json-patch" not in media_type:

        def apply(document: dict[str, Any]) -> Any:
            return _merge_patch(document, body)

    elif "json-patch" in media_type:
        raise ValidationFailed("A JSON Patch body must be an array of operations.")
    else:
        raise ValidationFailed(
            "The body must be a JSON Patch array of operations or a JSON Merge Patch object."
        )

    def change(segment: Segment) -> SegmentChange:
        before = segment_document(segment, languages=None, default_language="")
        # A segment the admin or a command stored deeper than a body may be would make
        # the copy and the patch recurse past Python's limit.
        max_depth = settings.JSON_MAX_DEPTH
        if json_depth(before, stop_after=max_depth) > max_depth:
            raise ValidationFailed(
                f"The stored segment nests deeper than {max_depth} levels (JSON_MAX_DEPTH), "
                "so it cannot be patched; replace it with PUT."
            )
        after = apply(copy.deepcopy(before))
        if not isinstance(after, dict):
            raise ValidationFailed("The patched segment must be a JSON object.")
        if json_depth(after, stop_after=max_depth) > max_depth:
            raise ValidationFailed(
                f"The patched segment would nest deeper than {max_depth} levels (JSON_MAX_DEPTH)."
            )
        _check_unchanged(before, after)
        write = parse_segment_input(after, context={**context, "mode": PATCH})
        return SegmentChange(fields=write.fields, expected_version=write.expected_version)

    return change


def _check_operations(operations: list[Any]) -> None:
    if not operations:
        raise ValidationFailed("The JSON Patch is empty; send at least one operation.")
    problems = []
    for number, operation in enumerate(operations):
        where = f"[{number}]"
        if not isinstance(operation, dict):
            problems.append(f"{where}: an operation must be an object.")
            continue
        op = operation.get("op")
        if op not in PATCH_OPERATIONS:
            problems.append(f"{where}.op: must be one of {', '.join(PATCH_OPERATIONS)}.")
        if not isinstance(operation.get("path"), str):
            problems.append(f"{where}.path: a JSON pointer string is required.")
        if op in ("add", "replace", "test") and "value" not in operation:
            problems.append(f"{where}.value: required for {op}.")
        if op in ("move", "copy") and not isinstance(operation.get("from"), str):
            problems.append(f"{where}.from: required for {op}.")
    if problems:
        raise ValidationFailed(" ".join(problems))


# `add` creates the objects missing on its way under these, and only these, paths.
MIXIN_MAPS = (("mixins",), ("metadata", "mixins"))


def _json_patch(operations: list[dict[str, Any]]) -> Callable[[dict[str, Any]], Any]:
    """Apply `operations` one after the other; a failure names its operation and path.

    RFC 6902 as `jsonpatch` implements it, with one addition: an `add` whose path lies in
    a mixin map (`/mixins/...` or `/metadata/mixins/...`) first creates every object
    missing on its way there, the map itself included, so that a segment without mixins
    takes `add /mixins/productCustomAttributes/pricingMeasurePrice`. Only absent members
    are created: a value on the way that is not an object (a string, an array) stays and
    the operation fails. Other operations, and paths elsewhere, are RFC 6902's.
    """
    patches = []
    for operation in operations:
        try:
            patches.append(jsonpatch.JsonPatch([operation]))
        except (jsonpatch.JsonPatchException, jsonpointer.JsonPointerException) as exc:
            raise ValidationFailed(f"{_malformed(operation, exc)}.") from None

    def apply(document: dict[str, Any]) -> Any:
        for operation, patch in zip(operations, patches, strict=True):
            if operation["op"] == "add":
                _create_mixin_parents(document, operation["path"])
            try:
                document = patch.apply(document, in_place=True)
            except jsonpatch.JsonPatchTestFailed:
                raise VersionConflict(
                    "The resource you are attempting to access has changed "
                    f"({_test_failure(document, operation)})."
                ) from None
            except (
                jsonpatch.JsonPatchException,
                jsonpointer.JsonPointerException,
                KeyError,
                IndexError,
                TypeError,
                ValueError,
            ) as exc:
                raise ValidationFailed(f"{_inapplicable(document, operation, exc)}.") from None
        return document

    return apply


def _malformed(operation: dict[str, Any], exc: Exception) -> str:
    op = operation["op"]
    for member, word in (("path", "at"), ("from", "from")):
        pointer = operation.get(member)
        if isinstance(pointer, str) and _pointer_parts(pointer) is None:
            return f'"{op}" {word} {pointer}: a path is a JSON pointer, empty or starting with "/"'
    return f"The JSON Patch is malformed: {exc}"


def _pointer_parts(path: str) -> list[str] | None:
    try:
        return jsonpointer.JsonPointer(path).parts
    except jsonpointer.JsonPointerException:
        return None


def _create_mixin_parents(document: dict[str, Any], path: str) -> None:
    """Create the objects missing on the way to `path` when it lies in a mixin map."""
    parts = _pointer_parts(path)
    if parts is None:
        return
    for prefix in MIXIN_MAPS:
        if tuple(parts[: len(prefix)]) != prefix or len(parts) <= len(prefix):
            continue
        node: Any = document
        for part in parts[:-1]:
            if not isinstance(node, dict):
                return
            node = node.setdefault(part, {})
        return


def _where(parts: list[str]) -> str:
    return "".join("/" + part.replace("~", "~0").replace("/", "~1") for part in parts)


def _kind(value: Any) -> str:
    if isinstance(value, str):
        return "a string"
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, int | float):
        return "a number"
    return "null"


def _missing(parts: list[str], key: str, rest: list[str]) -> str:
    """Why a pointer fails at `key`, absent from the object at `parts`."""
    if not parts and key == "mixins":
        return f'the segment has no mixin "{rest[0]}"' if rest else "the segment has no mixins"
    if parts == ["mixins"]:
        return f'the segment has no mixin "{key}"'
    if not parts:
        return f'the segment has no "{key}"'
    return f'{_where(parts)} has no "{key}"'


def _pointer_problem(document: Any, path: str, *, adding: bool) -> str | None:
    """What keeps `path` from resolving in `document`, in words (None if nothing does).

    With `adding`, the last member may be absent (and `-` or the length may index an array).
    """
    parts = _pointer_parts(path)
    if parts is None:
        return 'a path is a JSON pointer, empty or starting with "/"'
    node = document
    for depth, part in enumerate(parts):
        last = depth == len(parts) - 1
        walked = parts[:depth]
        if isinstance(node, dict):
            if part not in node:
                return None if last and adding else _missing(walked, part, parts[depth + 1 :])
            node = node[part]
        elif isinstance(node, list):
            if last and adding and part == "-":
                return None
            if not part.isdigit() or (part != "0" and part.startswith("0")):
                return f'{_where(walked)} is an array, "{part}" is no index'
            index, size = int(part), len(node)
            if index > size or (index == size and not (last and adding)):
                elements = "element" if size == 1 else "elements"
                return f"{_where(walked)} has {size} {elements}, no index {index}"
            if index == size:
                return None
            node = node[index]
        else:
            where = _where(walked) or "the segment"
            return f"{where} is {_kind(node)}, not an object or an array"
    return None


def _inapplicable(document: Any, operation: dict[str, Any], exc: Exception) -> str:
    """`"<op>" at <path>: <why>`, or `"<op>" from <from>: <why>` for the source of a move."""
    op, path = operation["op"], operation["path"]
    source = operation.get("from")
    if op in ("move", "copy") and isinstance(source, str):
        problem = _pointer_problem(document, source, adding=False)
        if problem is not None:
            return f'"{op}" from {source}: {problem}'
    problem = _pointer_problem(document, path, adding=op in ("add", "move", "copy"))
    return f'"{op}" at {path}: {problem or exc}'


def _test_failure(document: Any, operation: dict[str, Any]) -> str:
    path = operation["path"]
    problem = _pointer_problem(document, path, adding=False)
    if problem is not None:
        return f'"test" at {path}: {problem}'
    value = jsonpointer.resolve_pointer(document, path)
    expected = json.dumps(operation.get("value"))[:100]
    return f'"test" at {path}: the value is {json.dumps(value)[:100]}, not {expected}'


def _merge_patch(target: Any, patch: Any) -> Any:
    """RFC 7396: objects merge recursively, `null` removes a member, anything else replaces."""
    if not isinstance(patch, dict):
        return patch
    result = dict(target) if isinstance(target, dict) else {}
    for key, value in patch.items():
        if value is None:
            result.pop(key, None)
        else:
            result[key] = _merge_patch(result.get(key), value)
    return result


def _check_unchanged(before: dict[str, Any], after: dict[str, Any]) -> None:
    problems = []
    if after.get("id") != before["id"]:
        problems.append("id cannot be patched.")
    old_meta, new_meta = before["metadata"], after.get("metadata")
    new_meta = new_meta if isinstance(new_meta, dict) else {}
    for stamp in ("createdAt", "modifiedAt"):
        if new_meta.get(stamp) != old_meta[stamp]:
            problems.append(f"metadata.{stamp} cannot be patched.")
    if problems:
        raise ValidationFailed(" ".join(problems))


# --- match -------------------------------------------------------------------------------------


class MatchItemSerializer(serializers.Serializer):
    """An item to check: a product id. Other members are ignored."""

    id = StrictCharField(max_length=64)


@extend_schema_field(MatchItemSerializer)
class MatchItemField(serializers.Field):
    """An item of a match body, `{"id": "p1"}`, read with `MatchItemSerializer`'s `id`
    field and answering the errors a nested `MatchItemSerializer` would. A field, not that
    serializer: 200 items went through a serializer's machinery each, 45% of the CPU of
    a match."""

    default_error_messages = {"invalid": "Invalid data. Expected a dictionary, but got {datatype}."}

    def to_internal_value(self, data: Any) -> dict[str, str]:
        """The item's id; the other members are ignored."""
        if not isinstance(data, dict):
            self.fail("invalid", datatype=type(data).__name__)
        try:
            return {"id": _MATCH_ITEM_ID.run_validation(data.get("id", serializers.empty))}
        except serializers.ValidationError as exc:
            raise serializers.ValidationError({"id": exc.detail}) from None


_MATCH_ITEM_ID = MatchItemSerializer().fields["id"]


class MatchInputSerializer(StrictSerializer):
    """The body of `/segments/match`.

    `{"siteCode": "main", "items": [{"id": "p1"}, {"id": "p2"}], "segmentIds": ["s1", "s2"]}`
    (`site` is accepted for `siteCode`, as the hosted service's schema names it).
    """

    siteCode = StrictCharField(required=False, max_length=64)
    site = StrictCharField(required=False, max_length=64, help_text="Same as siteCode.")
    items = serializers.ListField(child=MatchItemField(), max_length=MATCH_MAX_ITEMS)
    segmentIds = serializers.ListField(
        child=StrictCharField(max_length=64), max_length=MATCH_MAX_ITEMS
    )

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        """One site, named siteCode or site."""
        site_code, site = attrs.get("siteCode"), attrs.get("site")
        if site_code is None and site is None:
            raise serializers.ValidationError({"siteCode": "This field is required."})
        if site_code is not None and site is not None and site_code != site:
            raise serializers.ValidationError(
                {"site": "siteCode and site name different sites; send one."}
            )
        attrs["site_code"] = site_code if site_code is not None else site
        return attrs


def parse_match_input(data: Any) -> tuple[str, list[str], list[str]]:
    """Validate a match body; returns (site code, product ids, segment ids)."""
    serializer = MatchInputSerializer(data=data)
    if not serializer.is_valid():
        message, details = validation_message(serializer.errors)
        raise ValidationFailed(message, details=details)
    data = serializer.validated_data
    return data["site_code"], [item["id"] for item in data["items"]], data["segmentIds"]
