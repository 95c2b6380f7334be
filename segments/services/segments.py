"""Writes of segments: create, upsert, patch, delete, their bulk forms, and the admin's actions.

Every service takes validated internal values, so the API, the admin and the commands
call the same code. A segment's content is one frozen `SegmentFields`:

    fields = SegmentFields(name={"en": "Gold"}, site_code="main", status="ACTIVE",
                           valid_from=None, valid_to=None, description={}, mixins={},
                           metadata_mixins={}, merge_languages=frozenset())

    segment_create(tenant=t, fields=fields, segment_id=None)            -> Segment
    segment_upsert(tenant=t, segment_id="gold", fields=fields,
                   expected_version=None)                                 -> UpsertResult
    segment_patch(tenant=t, segment_id="gold", change=fn)                 -> Segment
        `fn(segment) -> SegmentChange(fields, expected_version)` runs with the row locked.
    segment_delete(tenant=t, segment_id="gold", force=False)              -> None
    segments_bulk_create(tenant=t, writes=[SegmentWrite(...)])            -> [BulkItemResult]
    segments_bulk_upsert(tenant=t, writes=[SegmentWrite(...)])            -> [BulkItemResult]
    segments_bulk_delete(tenant=t, segment_ids=[(1, "a"), (2, "b")],
                         force=False)                                     -> [BulkItemResult]
    segments_set_status(tenant=t, segment_ids=["a"], status="ACTIVE")     -> int (changed)
    segments_force_delete(tenant=t, segment_ids=["a"])                    -> int (deleted)

Ids are the API's ids (`Segment.external_id`). Each service is one transaction; every write
sets `version` to one more than before and `modifiedAt` to now, and records one event
per segment (SPEC §10); a delete also records one per assignment it removes. Errors are the domain exceptions of `segments.exceptions`; bulk
services turn them into per-element results instead, and one bad element never blocks the
others. Optimistic locking: an `expected_version` that is not the stored version is a
`VersionConflict` and nothing is written. Upserts and patches lock the row
(`SELECT ... FOR UPDATE`) and write with `UPDATE ... WHERE version = <read version>`, so two
racing writers carrying the same version get exactly one success and one conflict.

Lock order: a service that writes several segments locks them in the order of their ids
(bulk upserts and creates insert or lock them in one statement in that order, deletes and
the admin's actions `SELECT ... ORDER BY external_id FOR UPDATE`), and assignment writes
lock their one segment first, so concurrent writers of overlapping sets wait for each other
instead of deadlocking. Each service is `atomic_with_retry`: a transaction the database
aborts anyway (a deadlock victim, a serialization failure) runs once more, and a second
abort is a `ConcurrentWriteConflict` (503).
"""

from __future__ import annotations

import secrets
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from django.db import IntegrityError, transaction
from django.db.models import Exists, OuterRef
from django.utils import timezone

from segments.choices import EventType, SegmentStatus
from segments.documents import segment_document
from segments.exceptions import (
    AlreadyExists,
    HasAssignments,
    SegmentNotFound,
    ServiceError,
    ValidationFailed,
    VersionConflict,
)
from segments.models import (
    EXTERNAL_ID_MAX,
    CustomerAssignment,
    GroupAssignment,
    ItemAssignment,
    RuleExclusion,
    Segment,
    SegmentRule,
)
from segments.services.assignment_events import assignment_deletions_record
from segments.services.events import events_record
from segments.services.rules import rules_after_segments_deleted
from segmentservice.bulk import BulkItemResult
from segmentservice.db import atomic_with_retry, rows_insert_or_lock, rows_update
from tenants.models import Tenant

# What identifies a segment; writers of several segments lock them in this order.
SEGMENT_KEY = ("tenant", "external_id")
# Literal paths under /segments: a segment with one of these ids could not be addressed.
RESERVED_IDS = frozenset({"search", "bulk", "match", "items", "me"})
LOCALIZED = ("name", "description")
# The columns a write sets; created_at and the id never change.
WRITTEN_COLUMNS = (
    "name",
    "description",
    "valid_from",
    "valid_to",
    "status",
    "site_code",
    "mixins",
    "metadata_mixins",
    "version",
    "modified_at",
)


@dataclass(frozen=True)
class SegmentFields:
    """The content of a segment, as a create or a full replacement (PUT) gives it.

    `merge_languages` names the localized fields ("name", "description") whose value was
    given in one language only (a plain string with `Content-Language`): on an update that
    language is set and the stored translations of the others are kept.
    """

    name: Mapping[str, str]
    site_code: str
    description: Mapping[str, str] = field(default_factory=dict)
    valid_from: datetime | None = None
    valid_to: datetime | None = None
    status: str = SegmentStatus.INACTIVE
    mixins: Mapping[str, Any] = field(default_factory=dict)
    metadata_mixins: Mapping[str, str] = field(default_factory=dict)
    merge_languages: frozenset[str] = frozenset()


@dataclass(frozen=True)
class SegmentChange:
    """What a patch makes of a segment: its new content and the version the client expects."""

    fields: SegmentFields
    expected_version: int | None = None


@dataclass(frozen=True)
class SegmentWrite:
    """One element of a bulk create or upsert; `index` counts from 1 in the request."""

    index: int
    segment_id: str | None
    fields: SegmentFields
    expected_version: int | None = None


@dataclass(frozen=True)
class UpsertResult:
    """The segment an upsert wrote, and whether it was created."""

    segment: Segment
    created: bool


def segment_id_generate() -> str:
    """A new segment id: 24 lowercase hexadecimal characters."""
    return secrets.token_hex(12)


def segment_id_problem(segment_id: Any) -> str | None:
    """What is wrong with `segment_id` as a segment's id, or None when it can be one."""
    if not isinstance(segment_id, str) or not segment_id:
        return "must be a non-empty string."
    if len(segment_id) > EXTERNAL_ID_MAX:
        return f"must be at most {EXTERNAL_ID_MAX} characters long."
    if any(c.isspace() or not c.isprintable() or c in "/?#%\\" for c in segment_id):
        return f"{segment_id!r} must not contain whitespace, control characters, /, ?, #, % or \\."
    if segment_id in RESERVED_IDS:
        return f"{segment_id!r} is reserved: /segments/{segment_id} is another operation."
    return None


def segment_problems(fields: SegmentFields, segment_id: Any = None) -> list[tuple[str, str]]:
    """The rules a segment must satisfy whoever writes it (API, admin, commands): each broken
    one as (the field as the API names it, what is wrong), in the order of the API's fields.

    `segment_id` None means there is no id to check (a generated one, or an unchanged one).
    """
    problems = []
    if segment_id is not None and (problem := segment_id_problem(segment_id)):
        problems.append(("id", problem))
    if not fields.name:
        problems.append(("name", "give the name in at least one language."))
    if fields.valid_from and fields.valid_to and fields.valid_from >= fields.valid_to:
        problems.append(("validity.from", "must be before validity.to."))
    if fields.status not in SegmentStatus.values:
        problems.append(("status", f"must be one of {', '.join(SegmentStatus.values)}."))
    if not fields.site_code or not fields.site_code.strip():
        problems.append(("siteCode", "This field may not be blank."))
    return problems


def segment_check(fields: SegmentFields, segment_id: Any = None) -> None:
    """Raise ValidationFailed naming every broken rule of `segment_problems`, as the API
    reports an invalid body (`field: message; ...`, `details` for a single problem)."""
    problems = segment_problems(fields, segment_id)
    if not problems:
        return
    details = None
    if len(problems) == 1:
        field, text = problems[0]
        details = {"field": field, "type": "invalid", "message": text}
    raise ValidationFailed(
        "; ".join(f"{field}: {text}" for field, text in problems), details=details
    )


# --- single segments ---------------------------------------------------------------------------


@atomic_with_retry
def segment_create(
    *, tenant: Tenant, fields: SegmentFields, segment_id: str | None = None
) -> Segment:
    """Create a segment; raises AlreadyExists when the id is taken."""
    segment_check(fields, segment_id or None)
    segment_id = segment_id or segment_id_generate()
    segment = _new_segment(tenant, segment_id, fields, timezone.now())
    try:
        with transaction.atomic():
            segment.save(force_insert=True)
    except IntegrityError:
        # Another request created the same id between the check and the insert.
        raise _exists(segment_id) from None
    _record(tenant, [(EventType.SEGMENT_CREATED, segment)])
    return segment


@atomic_with_retry
def segment_upsert(
    *,
    tenant: Tenant,
    segment_id: str,
    fields: SegmentFields,
    expected_version: int | None = None,
) -> UpsertResult:
    """Replace the segment's content, or create it when there is none (PUT).

    `expected_version` (the client's `metadata.version`) must be the stored version of an
    existing segment, else VersionConflict; it is ignored when the segment is created.
    """
    segment_check(fields, segment_id)
    segment = _locked(tenant, segment_id)
    if segment is None:
        new = _new_segment(tenant, segment_id, fields, timezone.now())
        if rows_insert_or_lock([new], unique=SEGMENT_KEY):
            _record(tenant, [(EventType.SEGMENT_CREATED, new)])
            return UpsertResult(segment=new, created=True)
        # Created concurrently: the row is locked now, this request becomes an update of it.
        segment = _locked(tenant, segment_id)
    _update(tenant, segment, fields, expected_version)
    return UpsertResult(segment=segment, created=False)


@atomic_with_retry
def segment_patch(
    *, tenant: Tenant, segment_id: str, change: Callable[[Segment], SegmentChange]
) -> Segment:
    """Apply `change` to the locked segment and write the result (PATCH).

    `change` receives the current segment and returns its new content; it may raise
    ValidationFailed. Raises SegmentNotFound and VersionConflict.
    """
    segment = _locked(tenant, segment_id)
    if segment is None:
        raise _not_found(segment_id)
    result = change(segment)
    segment_check(result.fields)
    _update(tenant, segment, result.fields, result.expected_version)
    return segment


@atomic_with_retry
def segment_delete(*, tenant: Tenant, segment_id: str, force: bool = False) -> None:
    """Delete a segment; with assignments only when `force`, and then them too."""
    segment = _with_assignment_flags(Segment.objects.filter(tenant=tenant)).filter(
        external_id=segment_id
    )
    segment = segment.select_for_update(of=("self",)).first()
    if segment is None:
        raise _not_found(segment_id)
    if not force:
        _refuse_if_assigned(segment)
    _delete(tenant, [segment])


# --- bulk ----------------------------------------------------------------------------------------


@atomic_with_retry
def segments_bulk_create(*, tenant: Tenant, writes: Sequence[SegmentWrite]) -> list[BulkItemResult]:
    """Create many segments with a fixed number of queries; one result per write, in order.

    A taken id is a 409 for its element, as is an id that an earlier element of the same
    request already uses.
    """
    now = timezone.now()
    results: dict[int, BulkItemResult] = {}
    candidates: list[tuple[SegmentWrite, str]] = []
    seen: set[str] = set()
    for write in writes:
        segment_id = write.segment_id or segment_id_generate()
        try:
            segment_check(write.fields, write.segment_id or None)
            _check_unique_in_request(segment_id, seen)
        except ServiceError as error:
            results[write.index] = BulkItemResult.failed(
                index=write.index, error=error, id=write.segment_id
            )
            continue
        candidates.append((write, segment_id))
    rows = [_new_segment(tenant, segment_id, write.fields, now) for write, segment_id in candidates]
    created = rows_insert_or_lock(rows, unique=SEGMENT_KEY)
    inserted = {segment.external_id for segment in created}
    for write, segment_id in candidates:
        if segment_id in inserted:
            results[write.index] = BulkItemResult(index=write.index, code=201, id=segment_id)
        else:
            results[write.index] = BulkItemResult.failed(
                index=write.index, error=_exists(segment_id), id=segment_id
            )
    _record(tenant, [(EventType.SEGMENT_CREATED, s) for s in created])
    return [results[i] for i in sorted(results)]


@atomic_with_retry
def segments_bulk_upsert(*, tenant: Tenant, writes: Sequence[SegmentWrite]) -> list[BulkItemResult]:
    """Create or replace many segments with a fixed number of queries; one result per write.

    201 for a created segment, 204 for an updated one, 409 for a stale `expected_version`
    or an id that an earlier element of the request already uses.
    """
    now = timezone.now()
    results: dict[int, BulkItemResult] = {}
    candidates: list[SegmentWrite] = []
    seen: set[str] = set()
    for write in writes:
        try:
            if write.segment_id is None:
                raise ValidationFailed("id: This field is required.")
            segment_check(write.fields, write.segment_id)
            _check_unique_in_request(write.segment_id, seen)
        except ServiceError as error:
            results[write.index] = BulkItemResult.failed(
                index=write.index, error=error, id=write.segment_id
            )
            continue
        candidates.append(write)
    # Every element's row as it would be created: one statement inserts the free ids and
    # locks the taken ones, in id order (see rows_insert_or_lock).
    created = rows_insert_or_lock(
        [_new_segment(tenant, w.segment_id, w.fields, now) for w in candidates],
        unique=SEGMENT_KEY,
    )
    inserted = {segment.external_id for segment in created}
    taken = [w.segment_id for w in candidates if w.segment_id not in inserted]
    stored = (
        {s.external_id: s for s in Segment.objects.filter(tenant=tenant, external_id__in=taken)}
        if taken
        else {}
    )
    updated: list[Segment] = []
    for write in candidates:
        if write.segment_id in inserted:
            results[write.index] = BulkItemResult(index=write.index, code=201, id=write.segment_id)
            continue
        segment = stored[write.segment_id]
        if write.expected_version is not None and write.expected_version != segment.version:
            results[write.index] = BulkItemResult.failed(
                index=write.index, error=_changed(write.segment_id), id=write.segment_id
            )
            continue
        _assign(segment, write.fields, now)
        segment.version += 1
        updated.append(segment)
        results[write.index] = BulkItemResult(index=write.index, code=204, id=write.segment_id)
    if updated:
        rows_update(updated, WRITTEN_COLUMNS)
    _record(
        tenant,
        [(EventType.SEGMENT_CREATED, s) for s in created]
        + [(EventType.SEGMENT_UPDATED, s) for s in updated],
    )
    return [results[i] for i in sorted(results)]


@atomic_with_retry
def segments_bulk_delete(
    *, tenant: Tenant, segment_ids: Sequence[tuple[int, str]], force: bool = False
) -> list[BulkItemResult]:
    """Delete many segments with a fixed number of queries; one result per (index, id), in order.

    404 for an unknown id, 400 for a segment with assignments unless `force`, 409 for an id
    an earlier element already named.
    """
    results: dict[int, BulkItemResult] = {}
    wanted: list[tuple[int, str]] = []
    seen: set[str] = set()
    for index, segment_id in segment_ids:
        try:
            _check_unique_in_request(segment_id, seen)
        except ServiceError as error:
            results[index] = BulkItemResult.failed(index=index, error=error, id=segment_id)
            continue
        wanted.append((index, segment_id))
    stored = {
        s.external_id: s
        for s in _with_assignment_flags(Segment.objects.filter(tenant=tenant))
        .filter(external_id__in=[segment_id for _, segment_id in wanted])
        .order_by("external_id")
        .select_for_update(of=("self",))
    }
    doomed: list[Segment] = []
    for index, segment_id in wanted:
        segment = stored.get(segment_id)
        try:
            if segment is None:
                raise _not_found(segment_id)
            if not force:
                _refuse_if_assigned(segment)
        except ServiceError as error:
            results[index] = BulkItemResult.failed(index=index, error=error, id=segment_id)
            continue
        doomed.append(segment)
        results[index] = BulkItemResult(index=index, code=204, id=segment_id)
    _delete(tenant, doomed)
    return [results[i] for i in sorted(results)]


# --- admin actions -------------------------------------------------------------------------------


@atomic_with_retry
def segments_set_status(*, tenant: Tenant, segment_ids: Sequence[str], status: str) -> int:
    """Switch segments ACTIVE or INACTIVE; returns how many changed (others already were)."""
    if status not in SegmentStatus.values:
        raise ValidationFailed(f"status must be one of {', '.join(SegmentStatus.values)}.")
    now = timezone.now()
    changed = list(
        Segment.objects.select_for_update()
        .filter(tenant=tenant, external_id__in=list(segment_ids))
        .exclude(status=status)
        .order_by("external_id")
    )
    for segment in changed:
        segment.status = status
        segment.version += 1
        segment.modified_at = now
    if changed:
        rows_update(changed, ["status", "version", "modified_at"])
    _record(tenant, [(EventType.SEGMENT_UPDATED, s) for s in changed])
    return len(changed)


@atomic_with_retry
def segments_force_delete(*, tenant: Tenant, segment_ids: Sequence[str]) -> int:
    """Delete segments together with all their assignments; returns how many were deleted."""
    doomed = list(
        Segment.objects.select_for_update()
        .filter(tenant=tenant, external_id__in=list(segment_ids))
        .order_by("external_id")
    )
    _delete(tenant, doomed)
    return len(doomed)


# --- helpers -------------------------------------------------------------------------------------


def _exists(segment_id: str) -> AlreadyExists:
    return AlreadyExists("The resource already exists.", resource_id=segment_id)


def _changed(segment_id: str) -> VersionConflict:
    return VersionConflict(
        "The resource you are attempting to access has changed.", resource_id=segment_id
    )


def _not_found(segment_id: str) -> SegmentNotFound:
    return SegmentNotFound(
        f"The segment with id {segment_id} has not been found.", resource_id=segment_id
    )


def _check_unique_in_request(segment_id: str, seen: set[str]) -> None:
    if segment_id in seen:
        raise AlreadyExists(
            f"The id {segment_id} appears more than once in this request; "
            "only its first element is processed.",
            resource_id=segment_id,
        )
    seen.add(segment_id)


def _locked(tenant: Tenant, segment_id: str) -> Segment | None:
    return Segment.objects.select_for_update().filter(tenant=tenant, external_id=segment_id).first()


def _with_assignment_flags(queryset):
    return queryset.annotate(
        has_customers=Exists(CustomerAssignment.objects.filter(segment_id=OuterRef("pk"))),
        has_items=Exists(ItemAssignment.objects.filter(segment_id=OuterRef("pk"))),
        has_groups=Exists(GroupAssignment.objects.filter(segment_id=OuterRef("pk"))),
        has_rule=Exists(SegmentRule.objects.filter(segment_id=OuterRef("pk"))),
        has_exclusions=Exists(RuleExclusion.objects.filter(segment_id=OuterRef("pk"))),
        # A rule of another segment, which might read this one (`segments.id`).
        has_readers=Exists(
            SegmentRule.objects.filter(tenant_id=OuterRef("tenant_id")).exclude(
                segment_id=OuterRef("pk")
            )
        ),
    )


def _refuse_if_assigned(segment: Segment) -> None:
    kinds = [
        kind
        for kind, present in (
            ("customers", segment.has_customers),
            ("items", segment.has_items),
            ("groups", segment.has_groups),
        )
        if present
    ]
    if kinds:
        raise HasAssignments(
            f"The segment {segment.external_id} has {' and '.join(kinds)} assigned; "
            "delete it with forceDelete=true to remove them too.",
            resource_id=segment.external_id,
        )


def _new_segment(tenant: Tenant, segment_id: str, fields: SegmentFields, now: datetime) -> Segment:
    segment = Segment(
        tenant=tenant, external_id=segment_id, name={}, description={}, created_at=now, version=1
    )
    _assign(segment, fields, now)
    return segment


def _assign(segment: Segment, fields: SegmentFields, now: datetime) -> None:
    """Copy `fields` onto the segment, merging single-language values into stored maps."""
    for name in LOCALIZED:
        given = dict(getattr(fields, name))
        if name in fields.merge_languages:
            given = {**(getattr(segment, name) or {}), **given}
        setattr(segment, name, given)
    segment.valid_from = fields.valid_from
    segment.valid_to = fields.valid_to
    segment.status = fields.status
    segment.site_code = fields.site_code
    segment.mixins = dict(fields.mixins)
    segment.metadata_mixins = dict(fields.metadata_mixins)
    segment.modified_at = now


def _update(
    tenant: Tenant,
    segment: Segment,
    fields: SegmentFields,
    expected_version: int | None,
) -> None:
    """Write new content over a locked row, guarded by its version."""
    if expected_version is not None and expected_version != segment.version:
        raise _changed(segment.external_id)
    read_version = segment.version
    _assign(segment, fields, timezone.now())
    segment.version = read_version + 1
    written = Segment.objects.filter(pk=segment.pk, version=read_version).update(
        **{column: getattr(segment, column) for column in WRITTEN_COLUMNS}
    )
    if not written:
        # Only reachable where the database has no row locks: someone wrote in between.
        raise _changed(segment.external_id)
    _record(tenant, [(EventType.SEGMENT_UPDATED, segment)])


def _delete(tenant: Tenant, segments: list[Segment]) -> None:
    """Delete segments and their assignments, recording one event per assignment and segment."""
    if not segments:
        return
    pks = [s.pk for s in segments]
    # Without the flags (`_with_assignment_flags`), assume there may be assignments.
    if any(getattr(s, "has_customers", True) for s in segments):
        assignment_deletions_record(tenant=tenant, segments=segments, model=CustomerAssignment)
        CustomerAssignment.objects.filter(tenant=tenant, segment_id__in=pks).delete()
    if any(getattr(s, "has_items", True) for s in segments):
        assignment_deletions_record(tenant=tenant, segments=segments, model=ItemAssignment)
        ItemAssignment.objects.filter(tenant=tenant, segment_id__in=pks).delete()
    if any(getattr(s, "has_groups", True) for s in segments):
        assignment_deletions_record(tenant=tenant, segments=segments, model=GroupAssignment)
        GroupAssignment.objects.filter(tenant=tenant, segment_id__in=pks).delete()
    # A segment's rule and its exclusions go with it.
    if any(getattr(s, "has_exclusions", True) for s in segments):
        RuleExclusion.objects.filter(tenant=tenant, segment_id__in=pks).delete()
    if any(getattr(s, "has_rule", True) for s in segments):
        SegmentRule.objects.filter(tenant=tenant, segment_id__in=pks).delete()
    _record(tenant, [(EventType.SEGMENT_DELETED, s) for s in segments])
    # The assignments are gone already; Django's cascade collector would look for them
    # again without the tenant condition, which no index serves. One plain DELETE instead
    # (`_raw_delete` is private Django API: tests/test_private_apis.py pins it).
    Segment.objects.filter(tenant=tenant, pk__in=pks)._raw_delete(Segment.objects.db)
    if any(getattr(s, "has_readers", True) for s in segments):
        rules_after_segments_deleted(tenant=tenant, segment_ids=[s.external_id for s in segments])


def _record(tenant: Tenant, changes: list[tuple[EventType, Segment]]) -> None:
    events_record(
        tenant=tenant,
        events=[
            (
                type_,
                segment.external_id,
                segment_document(segment, languages=None, default_language=tenant.default_language),
            )
            for type_, segment in changes
        ],
    )
