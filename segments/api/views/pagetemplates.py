"""A customer's page of a list, compiled once per shape and run with each request's values.

A storefront asks every customer's list the same way (`GET /segments/items` with its
token), and building and compiling that queryset cost a third of the request's CPU: the
same work each time for the same SQL. `page_template(view)` builds the page's queryset
through the view's own `get_queryset` and `filter_queryset`, once, with a sentinel where
the request's values go (the tenant, the customer, its legal entity and each of its
segment ids: `CompiledQuery` makes those the slots), and keeps it for every request of
the same shape. Nothing else of a request may change the SQL, so the shape is all of it:
the viewset and action, the query string, the languages asked for and the tenant's, the
database, whether the customer acts for a legal entity, and how many segments it has.

Only a customer's GET of a list directly under the tenant is compiled so: a reader's
`customerId` or a parent segment in the path would make a shape per customer or per
segment. A page whose building reads the database, or whose SQL holds an instant (a
"now"), or that needs its total counted, is built the usual way every time, as is
anything `CompiledQuery` refuses.

With `settings.PAGE_TEMPLATES_VERIFY` (on in the test suite) every compiled page is
compared with the queryset compiled afresh for that request, and a difference fails
the request: a value that reaches the SQL without being part of the shape cannot pass
the test suite unseen.
"""

from __future__ import annotations

import dataclasses
import threading
from typing import Any

from django.conf import settings
from django.core.exceptions import EmptyResultSet, ImproperlyConfigured
from django.db import DEFAULT_DB_ALIAS, connections, router

from segments.models import Customer, LegalEntity, Segment
from segmentservice.api.listing import page_parameters
from segmentservice.db import CompiledQuery, TemplateRefused
from tenants.models import Tenant

# Shapes kept per process, the oldest dropped first past this many.
PAGE_TEMPLATES_MAX = 256
REFUSED = "refused"

_templates: dict[tuple, CompiledQuery | str] = {}
_templates_lock = threading.Lock()


class _QueryDuringBuild(Exception):
    """Building the page's queryset read the database: its shape depends on the data."""


def page_template(view: Any) -> CompiledQuery | None:
    """The compiled page for this request, or None when it is built the usual way."""
    request = view.request
    if (
        view.customer is None
        or request.method != "GET"
        or set(view.kwargs) != {"tenant"}
        or request.headers.get("X-Total-Count", "").strip().lower() == "true"
    ):
        return None
    key = _shape(view)
    page = _templates.get(key)
    if page is None:
        page = _compile(view)
        with _templates_lock:
            _templates[key] = page
            while len(_templates) > PAGE_TEMPLATES_MAX:
                del _templates[next(iter(_templates))]
    if page == REFUSED:
        return None
    assert isinstance(page, CompiledQuery)
    if settings.PAGE_TEMPLATES_VERIFY:
        _verify(view, page)
    return page


def page_values(view: Any) -> dict[str, Any]:
    """This request's value for each slot of its page."""
    values: dict[str, Any] = {
        "tenant": view.tenant.pk,
        "customer_id": view.customer.customer_id,
        "legal_entity_id": view.customer.legal_entity_id or "",
    }
    values.update((f"segment{i}", pk) for i, pk in enumerate(view.own_segment_ids))
    return values


def _shape(view: Any) -> tuple:
    request, tenant = view.request, view.tenant
    return (
        type(view),
        view.action,
        request.META.get("QUERY_STRING", ""),
        request.headers.get("Accept-Language"),
        tenant.default_language,
        tuple(tenant.languages or ()),
        _using(view),
        view.customer.legal_entity_id is not None,
        len(view.own_segment_ids),
    )


def _using(view: Any) -> str:
    return router.db_for_read(view.queryset.model) or DEFAULT_DB_ALIAS


def _slots(count: int) -> dict[str, Any]:
    slots = {
        "tenant": Segment._meta.get_field("tenant"),
        "customer_id": Customer._meta.get_field("external_id"),
        "legal_entity_id": LegalEntity._meta.get_field("external_id"),
    }
    slots.update((f"segment{i}", Segment._meta.pk) for i in range(count))
    return slots


def _page_queryset(view: Any) -> Any:
    page_number, page_size = page_parameters(view.request)
    offset = (page_number - 1) * page_size
    return view.filter_queryset(view.get_queryset())[offset : offset + page_size]


def _compile(view: Any) -> CompiledQuery | str:
    """The page built with sentinels in the view's place, compiled; or REFUSED."""
    count = len(view.own_segment_ids)
    real = (view.tenant, view.customer, view.own_segment_ids)
    using = _using(view)

    def build(sentinels: dict[str, Any]) -> Any:
        tenant, customer = real[0], real[1]
        view.tenant = Tenant(
            name=sentinels["tenant"],
            default_language=tenant.default_language,
            languages=tenant.languages,
            created_at=tenant.created_at,
        )
        view.customer = dataclasses.replace(
            customer,
            customer_id=sentinels["customer_id"],
            legal_entity_id=sentinels["legal_entity_id"] if customer.legal_entity_id else None,
        )
        view.own_segment_ids = [sentinels[f"segment{i}"] for i in range(count)]
        return _page_queryset(view)

    try:
        with connections[using].execute_wrapper(_refuse_queries):
            return CompiledQuery(build, using, _slots(count))
    except (_QueryDuringBuild, TemplateRefused, EmptyResultSet):
        return REFUSED
    finally:
        view.tenant, view.customer, view.own_segment_ids = real


def _refuse_queries(execute, sql, params, many, context):
    raise _QueryDuringBuild(sql)


def _verify(view: Any, page: CompiledQuery) -> None:
    """Fail unless the compiled page sends what the queryset compiled now would."""
    queryset = _page_queryset(view)
    sql, params = queryset.query.get_compiler(using=page.using).as_sql()
    sent = page.values(page_values(view))
    if (sql, list(params)) != (page.sql, sent):
        raise ImproperlyConfigured(
            f"The compiled page of {type(view).__name__}.{view.action} is not this request's: "
            f"{page.sql} {sent} against {sql} {list(params)}."
        )
