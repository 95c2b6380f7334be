"""The segment admin: the list merchandisers find segments in, and the form they edit them with.

The list shows each segment's name in its tenant's default language, whether it is in
effect now, its validity and how many customers and items it holds, all from one query
(counts are annotated). Actions activate, deactivate, force-delete (after a page saying
how many assignments go with them) and export the selection as JSON or CSV.

The form edits name and description per allowed language and saves through
`segment_create` / `segment_upsert`, exactly as `POST` and `PUT` do. Assignments are
reached through links with counts, never rendered inline.
"""

from __future__ import annotations

import copy
import csv
from collections import defaultdict
from typing import Any

from django import forms
from django.contrib import admin, messages
from django.contrib.admin import helpers
from django.contrib.admin.widgets import AdminSplitDateTime
from django.db import transaction
from django.db.models import Count, Q
from django.http import HttpRequest, HttpResponse, StreamingHttpResponse
from django.template.response import TemplateResponse
from django.urls import reverse
from django.utils import timezone
from django.utils.html import format_html
from django.utils.safestring import mark_safe
from django.utils.text import smart_split, unescape_string_literal

from segments.admin.base import LOCALIZED, TenantOwnedAdmin
from segments.admin.common import (
    JSONObjectField,
    LocalizedFormMixin,
    localized_name,
    tenant_languages,
    text_in,
)
from segments.admin.forms import ServiceForm, ServiceFormAdminMixin
from segments.admin.rules import SegmentRuleEditorMixin
from segments.admin.workspace import SegmentWorkspaceMixin, segment_label, segment_workspace_links
from segments.choices import ItemType, SegmentStatus
from segments.models import CustomerAssignment, ItemAssignment, Segment
from segments.selectors.admin import segments_annotated, segments_sortable_by_name
from segments.selectors.segments import effective_q
from segments.services.segments import (
    SegmentFields,
    segment_create,
    segment_problems,
    segment_upsert,
    segments_force_delete,
    segments_set_status,
)
from segments.services.transfer import export_json_chunks
from segmentservice.formats import format_instant, localized_input
from tenants.admin_scoping import visible_tenant_list
from tenants.models import Tenant

# --- list filters --------------------------------------------------------------------------------


class EffectiveFilter(admin.SimpleListFilter):
    """Whether the segment is in effect now: ACTIVE and inside its validity."""

    title = "effective now"
    parameter_name = "effective"

    def lookups(self, request: HttpRequest, model_admin: Any) -> list[tuple[str, str]]:
        return [("yes", "Yes"), ("no", "No")]

    def queryset(self, request: HttpRequest, queryset):
        if self.value() == "yes":
            return queryset.filter(effective_q())
        if self.value() == "no":
            return queryset.exclude(effective_q())
        return queryset


class SiteFilter(admin.SimpleListFilter):
    """The segment's site (the site codes in use, in one query)."""

    title = "site"
    parameter_name = "site"

    def lookups(self, request: HttpRequest, model_admin: Any) -> list[tuple[str, str]]:
        sites = (
            model_admin.scoped_related(request, Segment)
            .order_by("site_code")
            .values_list("site_code", flat=True)
            .distinct()
        )
        return [(site, site) for site in sites]

    def queryset(self, request: HttpRequest, queryset):
        return queryset.filter(site_code=self.value()) if self.value() else queryset


# --- the form ------------------------------------------------------------------------------------


class SegmentForm(LocalizedFormMixin, ServiceForm):
    """A segment as the API's `SegmentUpsert`: texts per language, validity, mixins.

    The form checks types (Django's fields); the rules of a segment are the service's
    (`segment_problems`), run in `clean` on the same `SegmentFields` the save writes, and
    shown next to the field they concern.
    """

    localized = {
        "name": ("Name", forms.TextInput),
        "description": ("Description", forms.Textarea),
    }
    # No `required_localized`: that a name is given is a rule of the service's (PROBLEM_FIELDS).

    # The form field showing each of the service's rules (by the name the API gives its
    # field), and the admin's wording of it; None: the service's own words.
    PROBLEM_FIELDS: dict[str, tuple[str, str | None]] = {
        "id": ("external_id", None),
        "name": ("name", "Name is required in at least one language."),
        "validity.from": ("valid_to", "The end of validity must come after its start."),
        "status": ("status", None),
        "siteCode": ("site_code", None),
    }

    external_id = forms.CharField(
        label="ID",
        required=False,
        max_length=64,
        help_text="Up to 64 characters, case-sensitive; leave empty to generate one.",
    )
    valid_from = forms.SplitDateTimeField(
        label="Valid from", required=False, widget=AdminSplitDateTime, help_text="UTC; optional."
    )
    valid_to = forms.SplitDateTimeField(
        label="Valid to", required=False, widget=AdminSplitDateTime, help_text="UTC; optional."
    )
    mixins = JSONObjectField(
        help_text='A JSON object, e.g. {"segmentAttributes": {"membershipStatus": "GOLD"}}.'
    )
    metadata_mixins = JSONObjectField(
        label="Mixin schemas", help_text="Mixin name → schema URL, stored as given."
    )

    class Meta:
        model = Segment
        fields = ["tenant", "external_id", "site_code", "status", "valid_from", "valid_to"]

    def clean(self) -> dict[str, Any]:
        """The service's rules on the segment this form describes, each on its field.

        A field Django already refused (a missing site code, an unknown status) shows that
        error only.
        """
        cleaned = super().clean()
        segment_id = None if self.instance.pk else cleaned.get("external_id") or None
        for problem_field, text in segment_problems(self.segment_fields(), segment_id):
            field, wording = self.PROBLEM_FIELDS.get(problem_field, (None, None))
            if field in self.localized:
                field = localized_name(field, self.languages[0])
            if field not in self.fields:
                field, wording = None, f"{problem_field}: {text}"
            elif field in self.errors:
                continue
            self.add_error(field, wording or text)
        return cleaned

    def segment_fields(self, tenant: Tenant | None = None) -> SegmentFields:
        """The segment content this form describes; with `tenant`, its texts in languages
        the tenant allows (else a ValidationFailed, as the API gives it)."""
        data = self.cleaned_data
        name, description = self.localized_map("name"), self.localized_map("description")
        if tenant is not None:
            name = self._allowed(tenant, "name", name)
            description = self._allowed(tenant, "description", description) if description else {}
        return SegmentFields(
            name=name,
            description=description,
            site_code=data.get("site_code") or "",
            status=data.get("status") or "",
            valid_from=data.get("valid_from"),
            valid_to=data.get("valid_to"),
            mixins=data.get("mixins") or {},
            metadata_mixins=data.get("metadata_mixins") or {},
        )

    @staticmethod
    def _allowed(tenant: Tenant, field: str, values: dict[str, str]) -> dict[str, str]:
        # The languages rule of a write, as the API applies it to a map.
        return localized_input(
            values,
            field=field,
            language=None,
            allowed=tenant.languages,
            default=tenant.default_language,
        ).values

    def save_through_service(self) -> Segment:
        """`segment_create` or `segment_upsert` (with the version), as `POST`/`PUT` do."""
        if self.instance.pk:
            tenant = self.instance.tenant
            return segment_upsert(
                tenant=tenant,
                segment_id=self.instance.external_id,
                fields=self.segment_fields(tenant),
                expected_version=self.cleaned_data.get("version"),
            ).segment
        tenant = self.cleaned_data["tenant"]
        return segment_create(
            tenant=tenant,
            fields=self.segment_fields(tenant),
            segment_id=self.cleaned_data.get("external_id") or None,
        )


# --- the admin -----------------------------------------------------------------------------------


@admin.register(Segment)
class SegmentAdmin(
    SegmentRuleEditorMixin, SegmentWorkspaceMixin, ServiceFormAdminMixin, TenantOwnedAdmin
):
    """Segments: find, curate and retire them."""

    form = SegmentForm
    save_as = False
    change_form_template = "admin/segments/segment/change_form.html"
    list_display = [
        "segment_id",
        "segment_name",
        "site_code",
        "status",
        "effective",
        "validity",
        "customer_total",
        "item_total",
        "modified",
        "tenant_name",
    ]
    list_display_links = ["segment_id", "segment_name"]
    list_filter = ["status", SiteFilter, EffectiveFilter]
    list_select_related = ["tenant"]
    search_fields = ["external_id"]  # and the name in each language; see get_search_results
    search_help_text = "Search by id or by name (any language)."
    ordering = ["tenant_id", "external_id"]
    date_hierarchy = None
    actions = [
        "activate",
        "deactivate",
        "compare_overlap",
        "force_delete",
        "export_json",
        "export_csv",
    ]
    readonly_fields = ["workspace", "assignments", "created_at", "modified_at", "current_version"]

    def base_fieldsets(self, request: HttpRequest, obj=None):
        """Identity, texts per language, validity, mixins; on change also assignments."""
        fieldsets = [
            (None, {"fields": ["tenant", "external_id", "site_code", "status"]}),
            ("Name and description", {"fields": [LOCALIZED]}),
            ("Validity", {"fields": ["valid_from", "valid_to"]}),
            ("Mixins", {"classes": ["collapse"], "fields": ["mixins", "metadata_mixins"]}),
        ]
        if obj is not None:
            fieldsets.insert(1, ("Assignments", {"fields": ["workspace", "assignments"]}))
            fieldsets.append(
                (
                    "Metadata",
                    {"fields": ["created_at", "modified_at", "current_version", "version"]},
                )
            )
        else:
            fieldsets[-1][1]["fields"].append("version")
        return fieldsets

    def get_form(self, request: HttpRequest, obj=None, change=False, **kwargs):
        """The id is fixed once created."""
        form = super().get_form(request, obj, change, **kwargs)
        if obj is not None and "external_id" in form.base_fields:
            # A copy: declared fields are shared by every form class made from SegmentForm.
            field = copy.deepcopy(form.base_fields["external_id"])
            field.disabled = True
            field.help_text = "The segment's id cannot change."
            form.base_fields["external_id"] = field
        return form

    def get_queryset(self, request: HttpRequest):
        """Segments with their counts, whether they are effective and a name to sort by."""
        languages = sorted({t.default_language for t in visible_tenant_list(request)}) or ["en"]
        return segments_sortable_by_name(
            segments_annotated(super().get_queryset(request)), languages
        )

    def get_search_results(self, request: HttpRequest, queryset, search_term: str):
        """Each word must match the id, the site or the name in one of the tenants' languages."""
        queryset, may_have_duplicates = super().get_search_results(request, queryset, "")
        languages = sorted({lang for t in visible_tenant_list(request) for lang in t.languages})
        for bit in smart_split(search_term):
            if bit.startswith(('"', "'")) and bit[0] == bit[-1]:
                bit = unescape_string_literal(bit)
            match = Q(external_id__icontains=bit) | Q(site_code__iexact=bit)
            for language in languages:
                match |= Q(**{f"name__{language}__icontains": bit})
            queryset = queryset.filter(match)
        return queryset, may_have_duplicates

    # --- columns -----------------------------------------------------------------------------

    @admin.display(description="id", ordering="external_id")
    def segment_id(self, segment: Segment) -> str:
        """The segment's API id."""
        return segment.external_id

    @admin.display(description="workspace")
    def workspace(self, segment: Segment) -> str:
        """Links to the segment's members, items, history and duplication."""
        return segment_workspace_links(segment)

    @admin.display(description="name", ordering="sort_name")
    def segment_name(self, segment: Segment) -> str:
        """The name in the tenant's default language."""
        return text_in(segment.name, segment.tenant.default_language)

    @admin.display(description="effective now", boolean=True, ordering="effective_now")
    def effective(self, segment: Segment) -> bool:
        """ACTIVE and inside its validity now."""
        return getattr(segment, "effective_now", segment.is_effective())

    @admin.display(description="validity", ordering="valid_from")
    def validity(self, segment: Segment) -> str:
        """`from - to`, open ends shown as such."""
        if segment.valid_from is None and segment.valid_to is None:
            return "always"
        start = segment.valid_from.strftime("%Y-%m-%d") if segment.valid_from else "…"
        end = segment.valid_to.strftime("%Y-%m-%d") if segment.valid_to else "…"
        return f"{start} \u2013 {end}"

    @admin.display(description="customers", ordering="customer_count")
    def customer_total(self, segment: Segment) -> str:
        """How many customers, linking to them."""
        url = reverse("admin:segments_segment_members", args=[segment.pk])
        return format_html('<a href="{}">{}</a>', url, f"{segment.customer_count:,}")

    @admin.display(description="items", ordering="item_count")
    def item_total(self, segment: Segment) -> str:
        """How many products and categories, linking to them."""
        url = reverse("admin:segments_segment_items", args=[segment.pk])
        return format_html('<a href="{}">{}</a>', url, f"{segment.item_count:,}")

    @admin.display(description="modified (UTC)", ordering="modified_at")
    def modified(self, segment: Segment) -> str:
        """When it last changed."""
        return segment.modified_at.strftime("%Y-%m-%d %H:%M")

    @admin.display(description="version")
    def current_version(self, segment: Segment) -> int:
        """The stored version (each save counts one)."""
        return segment.version

    @admin.display(description="assignments")
    def assignments(self, segment: Segment) -> str:
        """Counts with links to the filtered lists and to add more (two count queries)."""
        if segment is None or segment.pk is None:
            return "—"
        items = ItemAssignment.objects.filter(
            tenant_id=segment.tenant_id, segment=segment
        ).aggregate(
            products=Count("pk", filter=Q(type=ItemType.PRODUCT)),
            categories=Count("pk", filter=Q(type=ItemType.CATEGORY)),
        )
        customers = getattr(segment, "customer_count", None)
        if customers is None:
            customers = CustomerAssignment.objects.filter(
                tenant_id=segment.tenant_id, segment=segment
            ).count()
        rows = [
            ("customer", "customers", customers, "customerassignment", {}),
            ("product", "products", items["products"], "itemassignment", {"type": "PRODUCT"}),
            ("category", "categories", items["categories"], "itemassignment", {"type": "CATEGORY"}),
        ]
        members = reverse("admin:segments_segment_members", args=[segment.pk])
        item_list = reverse("admin:segments_segment_items", args=[segment.pk])
        parts = []
        for singular, plural, count, model, extra in rows:
            view = (
                f"{members}"
                if model == "customerassignment"
                else f"{item_list}?type={extra['type']}"
            )
            parts.append(
                format_html(
                    '<li class="assignment-{}"><strong>{}</strong> {} &middot; '
                    '<a href="{}">view</a> &middot; {}</li>',
                    plural,
                    f"{count:,}",
                    singular if count == 1 else plural,
                    view,
                    _link(model, f"add {singular}", add=True, segment=segment.pk, **extra),
                )
            )
        # Each part is already escaped by format_html.
        return format_html('<ul class="segment-assignments">{}</ul>', mark_safe("".join(parts)))

    # --- actions ---------------------------------------------------------------------------

    def get_actions(self, request: HttpRequest):
        """No plain delete: it would skip the services and list every assignment."""
        actions = super().get_actions(request)
        actions.pop("delete_selected", None)
        return actions

    @admin.action(description="Activate selected segments", permissions=["change"])
    def activate(self, request: HttpRequest, queryset) -> None:
        """Status ACTIVE, through `segments_set_status`."""
        self._set_status(request, queryset, SegmentStatus.ACTIVE)

    @admin.action(description="Deactivate selected segments", permissions=["change"])
    def deactivate(self, request: HttpRequest, queryset) -> None:
        """Status INACTIVE, through `segments_set_status`."""
        self._set_status(request, queryset, SegmentStatus.INACTIVE)

    def _set_status(self, request: HttpRequest, queryset, status: SegmentStatus) -> None:
        changed = 0
        selected = list(queryset.select_related("tenant").order_by("external_id")[:6])
        with transaction.atomic():
            for tenant, ids in _ids_by_tenant(queryset).items():
                changed += segments_set_status(tenant=tenant, segment_ids=ids, status=status)
        names = ", ".join(segment_label(s) for s in selected[:5])
        more = " and more" if len(selected) > 5 else ""
        self.message_user(
            request,
            f"{changed} segment(s) set to {status.label.lower()} (of {names}{more}).",
            messages.SUCCESS,
        )

    @admin.action(
        description="Delete selected segments and their assignments", permissions=["delete"]
    )
    def force_delete(self, request: HttpRequest, queryset):
        """After a confirmation naming how many assignments go, `segments_force_delete`."""
        counts = _deletion_counts(queryset)
        if request.POST.get("post") == "yes":
            deleted = 0
            with transaction.atomic():
                for tenant, ids in _ids_by_tenant(queryset).items():
                    deleted += segments_force_delete(tenant=tenant, segment_ids=ids)
            self.message_user(
                request,
                f"Deleted {deleted} segment(s) with {counts['customers']:,} customer and "
                f"{counts['items']:,} item assignment(s).",
                messages.SUCCESS,
            )
            return None
        context = {
            **self.admin_site.each_context(request),
            "title": "Delete segments and their assignments?",
            "opts": self.model._meta,
            "counts": counts,
            "segments": list(queryset.values_list("tenant_id", "external_id")[:50]),
            "selected": request.POST.getlist(helpers.ACTION_CHECKBOX_NAME),
            "select_across": request.POST.get("select_across", "0"),
            "action_checkbox_name": helpers.ACTION_CHECKBOX_NAME,
            "action": "force_delete",
            "media": self.media,
        }
        return TemplateResponse(
            request, "admin/segments/segment/force_delete_confirmation.html", context
        )

    @admin.action(description="Export selected segments as JSON (with assignments)")
    def export_json(self, request: HttpRequest, queryset):
        """The export_segments document for the selection (one tenant at a time)."""
        tenant = _single_tenant(self, request, queryset)
        if tenant is None:
            return None
        response = StreamingHttpResponse(
            export_json_chunks(
                tenant=tenant, queryset=Segment.objects.filter(pk__in=queryset.values("pk"))
            ),
            content_type="application/json; charset=utf-8",
        )
        response["Content-Disposition"] = f'attachment; filename="{_file_name(tenant, "json")}"'
        return response

    @admin.action(description="Export selected segments as CSV")
    def export_csv(self, request: HttpRequest, queryset):
        """One row per segment: id, texts per language, status, site, validity, counts."""
        tenants = {t.name: t for t in visible_tenant_list(request)}
        rows = list(queryset.order_by("tenant_id", "external_id"))
        languages: list[str] = []
        for name in dict.fromkeys(row.tenant_id for row in rows):
            for language in tenant_languages(tenants.get(name)):
                if language not in languages:
                    languages.append(language)
        response = HttpResponse(content_type="text/csv; charset=utf-8")
        response["Content-Disposition"] = f'attachment; filename="{_file_name(None, "csv")}"'
        writer = csv.writer(response)
        writer.writerow(
            [
                "tenant",
                "id",
                *(f"name.{lang}" for lang in languages),
                *(f"description.{lang}" for lang in languages),
                "status",
                "siteCode",
                "validity.from",
                "validity.to",
                "effectiveNow",
                "customers",
                "items",
                "createdAt",
                "modifiedAt",
                "version",
            ]
        )
        for row in rows:
            writer.writerow(
                [
                    row.tenant_id,
                    row.external_id,
                    *(row.name.get(lang, "") for lang in languages),
                    *((row.description or {}).get(lang, "") for lang in languages),
                    row.status,
                    row.site_code,
                    format_instant(row.valid_from) if row.valid_from else "",
                    format_instant(row.valid_to) if row.valid_to else "",
                    "true" if row.effective_now else "false",
                    row.customer_count,
                    row.item_count,
                    format_instant(row.created_at),
                    format_instant(row.modified_at),
                    row.version,
                ]
            )
        return response

    # --- single deletion -------------------------------------------------------------------

    def get_deleted_objects(self, objs, request: HttpRequest):
        """A summary with counts instead of one line per assignment (there may be 100,000)."""
        segments = list(objs)
        counts = _deletion_counts(Segment.objects.filter(pk__in=[s.pk for s in segments]))
        listed = [f"Segment: {s.external_id}" for s in segments]
        summary = {
            "segments": len(segments),
            "customer assignments": counts["customers"],
            "item assignments": counts["items"],
        }
        return listed, summary, set(), []

    def delete_model(self, request: HttpRequest, obj: Segment) -> None:
        """`segments_force_delete`: the segment and its assignments, with their events."""
        segments_force_delete(tenant=obj.tenant, segment_ids=[obj.external_id])


def _link(model_name: str, text: Any, add: bool = False, **params: Any) -> str:
    view = "add" if add else "changelist"
    url = reverse(f"admin:segments_{model_name}_{view}")
    query = "&".join(f"{key}={value}" for key, value in params.items())
    return format_html('<a href="{}?{}">{}</a>', url, query, text)


def _ids_by_tenant(queryset) -> dict[Tenant, list[str]]:
    ids: dict[str, list[str]] = defaultdict(list)
    for tenant_id, external_id in queryset.order_by().values_list("tenant_id", "external_id"):
        ids[tenant_id].append(external_id)
    tenants = Tenant.objects.in_bulk(list(ids))
    return {tenants[name]: segment_ids for name, segment_ids in ids.items()}


def _deletion_counts(queryset) -> dict[str, int]:
    pks = queryset.order_by().values("pk")
    return {
        "segments": queryset.count(),
        "customers": CustomerAssignment.objects.filter(segment__in=pks).count(),
        "items": ItemAssignment.objects.filter(segment__in=pks).count(),
    }


def _single_tenant(model_admin: SegmentAdmin, request: HttpRequest, queryset) -> Tenant | None:
    names = list(queryset.order_by().values_list("tenant_id", flat=True).distinct()[:2])
    if len(names) != 1:
        model_admin.message_user(
            request,
            "Export one tenant at a time: filter the list by tenant first.",
            messages.WARNING,
        )
        return None
    return Tenant.objects.get(name=names[0])


def _file_name(tenant: Tenant | None, extension: str) -> str:
    stamp = timezone.now().strftime("%Y%m%dT%H%M%SZ")
    return f"segments-{tenant.name + '-' if tenant else ''}{stamp}.{extension}"
