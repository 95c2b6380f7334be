"""The named query parameters of the list endpoints, declared with django-filter.

`q` covers conditions on fields; these are the parameters the contract adds on top:
`customerId` and `legalEntityId` on segment lists, `siteCode` and `onlyActive` on the
items of all segments, `siteCode` on category trees. A value that does not parse is a 400 naming the parameter.
"""

from __future__ import annotations

import functools
from typing import Any

import django_filters
from django import forms
from django.db.models import QuerySet

from segments.models import ItemAssignment, Segment
from segments.selectors.segments import effective_q
from segmentservice.exceptions import ValidationFailed
from tenants.models import Tenant
from tenants.selectors import tenant_rows


class StrictBooleanField(forms.Field):
    """`true`/`false` (or `1`/`0`) in any case; anything else is an error, not ignored."""

    def to_python(self, value: Any) -> bool | None:
        """None when absent; the boolean otherwise."""
        if value is None or value == "":
            return None
        lowered = str(value).strip().lower()
        if lowered in ("true", "1"):
            return True
        if lowered in ("false", "0"):
            return False
        raise forms.ValidationError(f"must be true or false, not {value!r}.")


class NonBlankCharField(forms.CharField):
    """A text parameter that may be absent but not sent empty."""

    def clean(self, value: Any) -> str | None:
        """None when absent; an error when present but blank."""
        if value is not None and not str(value).strip():
            raise forms.ValidationError("must not be empty.")
        return super().clean(value) or None


class StrictBooleanFilter(django_filters.Filter):
    """A boolean parameter that refuses values it does not understand."""

    field_class = StrictBooleanField


class NonBlankCharFilter(django_filters.CharFilter):
    """A text parameter that refuses an empty value."""

    field_class = NonBlankCharField


class ContractFilterSet(django_filters.FilterSet):
    """Filters one tenant's rows; raises ValidationFailed naming every bad parameter."""

    def __init__(self, data: Any, queryset: QuerySet, *, tenant: Tenant) -> None:
        super().__init__(data, queryset)
        self.tenant = tenant

    @classmethod
    def apply(cls, data: Any, queryset: QuerySet, *, tenant: Tenant) -> QuerySet:
        """`queryset`, kept to the tenant, narrowed by the parameters in `data`.

        A queryset is required: given None, django-filter would read every tenant's rows
        from the model's manager, so that is a TypeError.
        """
        queryset = tenant_rows(queryset, tenant=tenant)
        if not any(name in data for name in cls.base_filters):
            return queryset
        return cls(data, queryset, tenant=tenant).filtered()

    @classmethod
    def cleaned(cls, data: Any) -> dict[str, Any]:
        """The values of this filter set's parameters in `data`, parsed by its own form
        (None when absent); raises ValidationFailed naming every bad one. Without building
        the filter set, which copies its filters and makes a form class on every call."""
        form = _form_class(cls)(data)
        if not form.is_valid():
            raise ValidationFailed(_problems(form.errors))
        return form.cleaned_data

    def filtered(self) -> QuerySet:
        """The filtered queryset; raises ValidationFailed when a parameter is invalid."""
        if not self.is_valid():
            raise ValidationFailed(_problems(self.errors))
        return self.qs


@functools.cache
def _form_class(filterset: type[ContractFilterSet]) -> type[forms.Form]:
    """The form that parses `filterset`'s parameters, made once: django-filter's own
    (`get_form_class`) from the class's filters."""
    fields = {name: declared.field for name, declared in filterset.base_filters.items()}
    return type(f"{filterset.__name__}Form", (filterset._meta.form,), fields)


def _problems(errors: dict[str, list[str]]) -> str:
    """One message naming every parameter that does not parse, and why."""
    problems = [
        f"{name} {message.rstrip('.')}" for name, messages in errors.items() for message in messages
    ]
    return "; ".join(problems) + "."


class SegmentFilterSet(ContractFilterSet):
    """`customerId` names the customer whose segments a reader's list keeps, `legalEntityId`
    the legal entity it acts for. They are parsed here and narrow nothing themselves: the
    view reads that customer's segment ids first and keeps those (`SegmentViewSet.subject`),
    so the list's own query never depends on the data."""

    customerId = NonBlankCharFilter(method="filter_nothing")
    legalEntityId = NonBlankCharFilter(method="filter_nothing")

    class Meta:
        model = Segment
        fields: list[str] = []

    def filter_nothing(self, queryset: QuerySet, name: str, value: str) -> QuerySet:
        """The view narrows by the customer's segment ids."""
        return queryset


class ItemAssignmentFilterSet(ContractFilterSet):
    """`siteCode` keeps items of that site's segments; `onlyActive=true` those of
    effective segments."""

    siteCode = NonBlankCharFilter(field_name="segment__site_code")
    onlyActive = StrictBooleanFilter(method="filter_only_active")

    class Meta:
        model = ItemAssignment
        fields: list[str] = []

    def filter_only_active(self, queryset: QuerySet, name: str, value: bool) -> QuerySet:
        """Items of segments that are ACTIVE and inside their validity now."""
        return queryset.filter(effective_q(prefix="segment__")) if value else queryset


class SiteFilterSet(ContractFilterSet):
    """`siteCode` keeps the segments of that site (the category trees' segments)."""

    siteCode = NonBlankCharFilter(field_name="site_code")

    class Meta:
        model = Segment
        fields: list[str] = []
