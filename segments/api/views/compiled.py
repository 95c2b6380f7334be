"""Reads compiled once per shape and run with each request's values.

A storefront asks every customer's list the same way (`GET /segments/items` with its
token), an integration asks for one segment after another (`GET /segments/{id}`), and
building and compiling those querysets cost a third of the request's CPU: the same work
each time for the same SQL. `compiled_rows(view, build, **values)` builds the queryset
through the view's own `get_queryset` (and for a page its `filter_queryset`), once, with
a sentinel where the request's values go (the tenant; a customer's id, legal entity and
segment ids; the `values` it is given, such as the segment id of the path), compiles it
as a `CompiledQuery`, whose slots those become, and keeps it for every request of the
same shape. Nothing else of a request may change the SQL, so the shape is all of it: the
viewset, action and builder, the query string, the languages asked for and the
tenant's, the database, and for a customer whether it acts for a legal entity and how
many segments it has. A reader's list about a customer (the view's `subject`, e.g.
`?customerId=`) is compiled the same way: the customer's segment ids are read first and
become slots, and the parameters naming the customer are left out of the shape, since
they reach the SQL only as those ids.

A reader's page of a list is compiled too, on the second request of its shape: its shape
holds the query string, `q` and all, which a reader may never send again.

Only a GET whose path holds nothing but the tenant and the given values is compiled so
(a value of the path that is not a slot would make a shape per value). A read whose
building reads the database, or whose SQL holds an instant (a "now"), is built the usual
way every time, as is anything `CompiledQuery` refuses.

With `settings.COMPILED_READS_VERIFY` (on in the test suite) every compiled read is
compared with its queryset built and compiled afresh for that request, and a difference
fails the request: a value that reaches the SQL without being part of the shape cannot
pass the test suite unseen.
"""

from __future__ import annotations

import dataclasses
import threading
from collections.abc import Callable
from typing import Any

from django.conf import settings
from django.core.exceptions import EmptyResultSet, ImproperlyConfigured
from django.db import DEFAULT_DB_ALIAS, connections, models, router

from segments.models import Customer, LegalEntity, Segment
from segmentservice.api.listing import page_slice
from segmentservice.db import CompiledQuery, TemplateRefused
from tenants.models import Tenant

# Shapes kept per process, the oldest dropped first past this many.
COMPILED_READS_MAX = 256
REFUSED = "refused"

# build(view, values) → the queryset of the read; `values` are the sentinels when it is
# compiled, the request's own when it is verified.
Build = Callable[[Any, dict[str, Any]], models.QuerySet]

_compiled: dict[tuple, CompiledQuery | str] = {}
# Shapes asked for once and not compiled yet (`eager=False`), the oldest dropped first.
SEEN_MAX = 4 * COMPILED_READS_MAX
_seen: dict[tuple, bool] = {}
_compiled_lock = threading.Lock()


class _QueryDuringBuild(Exception):
    """Building the read's queryset read the database: its shape depends on the data."""


def compiled_rows(
    view: Any, build: Build, *, eager: bool = True, **values: tuple[models.Field, Any]
) -> list | None:
    """The instances `build(view, ...)` reads, through its compiled form; None when it is
    read the usual way. `values`: name → (the value's model field, this request's value),
    each of them a path parameter of the request. Not `eager`: a shape is compiled on its
    second request (a shape that holds the request's own values, such as a reader's `q`,
    may never come again, and compiling costs two builds)."""
    if view.request.method != "GET" or set(view.kwargs) != {"tenant", *values}:
        return None
    slots = _slots(view, values)
    key = _shape(view, build)
    compiled = _compiled.get(key)
    if compiled is None:
        if not eager and _first_request(key):
            return None
        compiled = _compile(view, build, slots, set(values))
        with _compiled_lock:
            _compiled[key] = compiled
            while len(_compiled) > COMPILED_READS_MAX:
                del _compiled[next(iter(_compiled))]
    if compiled == REFUSED:
        return None
    assert isinstance(compiled, CompiledQuery)
    request_values = {name: value for name, (_, value) in slots.items()}
    if settings.COMPILED_READS_VERIFY:
        _verify(view, build, compiled, request_values, set(values))
    return compiled.instances(**request_values)


def _first_request(key: tuple) -> bool:
    """Whether this is the first request of the shape `key` (of the last few thousand)."""
    with _compiled_lock:
        if _seen.pop(key, None) is not None:
            return False
        _seen[key] = True
        while len(_seen) > SEEN_MAX:
            del _seen[next(iter(_seen))]
    return True


def page_queryset(view: Any, values: dict[str, Any]) -> models.QuerySet:
    """The requested page of a list: the declared backends' queryset, sliced."""
    return view.filter_queryset(view.get_queryset())[page_slice(view.request)]


def _shape(view: Any, build: Build) -> tuple:
    request, tenant, customer, subject = view.request, view.tenant, view.customer, view.subject
    query: Any = request.META.get("QUERY_STRING", "")
    if subject is not None:  # its parameters reach the SQL only as its segment ids
        query = tuple(
            (name, "" if name in view.subject_parameters else value)
            for name, values in sorted(request.query_params.lists())
            for value in values
        )
    return (
        type(view),
        view.action,
        build,
        query,
        request.headers.get("Accept-Language"),
        tenant.default_language,
        tuple(tenant.languages or ()),
        _using(view),
        None if customer is None else (customer.legal_entity_id is not None),
        None if customer is None else len(view.own_segment_ids),
        None if subject is None else len(view.subject_segment_ids),
    )


def _using(view: Any) -> str:
    return router.db_for_read(view.queryset.model) or DEFAULT_DB_ALIAS


def _slots(view: Any, values: dict[str, tuple[models.Field, Any]]) -> dict[str, tuple]:
    """Each slot of this request's read: name → (the value's model field, its value)."""
    slots: dict[str, tuple] = {"tenant": (_TENANT, view.tenant.pk), **values}
    customer = view.customer
    if customer is not None:
        slots["customer_id"] = (_CUSTOMER_ID, customer.customer_id)
        slots["legal_entity_id"] = (_LEGAL_ENTITY_ID, customer.legal_entity_id or "")
        slots.update(
            (f"segment{i}", (Segment._meta.pk, pk)) for i, pk in enumerate(view.own_segment_ids)
        )
    if view.subject is not None:
        slots.update(
            (f"subject{i}", (Segment._meta.pk, pk)) for i, pk in enumerate(view.subject_segment_ids)
        )
    return slots


_TENANT = Segment._meta.get_field("tenant")
_CUSTOMER_ID = Customer._meta.get_field("external_id")
_LEGAL_ENTITY_ID = LegalEntity._meta.get_field("external_id")


def _compile(
    view: Any, build: Build, slots: dict[str, tuple], given: set[str]
) -> CompiledQuery | str:
    """The read built with sentinels in the view's place (and for the `given` values),
    compiled; or REFUSED."""
    customer, subject = view.customer, view.subject
    count = 0 if customer is None else len(view.own_segment_ids)
    subject_count = 0 if subject is None else len(view.subject_segment_ids)
    real = (
        view.tenant,
        customer,
        view.__dict__.get("own_segment_ids"),
        view.__dict__.get("subject_segment_ids"),
    )
    using = _using(view)

    def build_with(sentinels: dict[str, Any]) -> models.QuerySet:
        tenant = real[0]
        view.tenant = Tenant(
            name=sentinels["tenant"],
            default_language=tenant.default_language,
            languages=tenant.languages,
            created_at=tenant.created_at,
        )
        if customer is not None:
            view.customer = dataclasses.replace(
                customer,
                customer_id=sentinels["customer_id"],
                legal_entity_id=sentinels["legal_entity_id"] if customer.legal_entity_id else None,
            )
            view.own_segment_ids = [sentinels[f"segment{i}"] for i in range(count)]
        if subject is not None:
            view.subject_segment_ids = [sentinels[f"subject{i}"] for i in range(subject_count)]
        return build(view, {name: sentinels[name] for name in given})

    fields = {name: field for name, (field, _) in slots.items()}
    try:
        with connections[using].execute_wrapper(_refuse_queries):
            return CompiledQuery(build_with, using, fields)
    except (_QueryDuringBuild, TemplateRefused, EmptyResultSet):
        return REFUSED
    finally:
        view.tenant, view.customer = real[0], real[1]
        if real[2] is not None:
            view.own_segment_ids = real[2]
        if real[3] is not None:
            view.subject_segment_ids = real[3]


def _refuse_queries(execute, sql, params, many, context):
    raise _QueryDuringBuild(sql)


def _verify(
    view: Any, build: Build, compiled: CompiledQuery, values: dict[str, Any], given: set[str]
) -> None:
    """Fail unless the compiled read sends, for these slot `values`, what its queryset
    built and compiled now would."""
    queryset = build(view, {name: values[name] for name in given})
    sql, params = queryset.query.get_compiler(using=compiled.using).as_sql()
    sent = compiled.values(values)
    if (sql, list(params)) != (compiled.sql, sent):
        raise ImproperlyConfigured(
            f"The compiled read of {type(view).__name__}.{view.action} is not this request's: "
            f"{compiled.sql} {sent} against {sql} {list(params)}."
        )
