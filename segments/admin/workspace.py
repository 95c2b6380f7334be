"""The segment workspace: a segment's members and items, many at once, its history, its copies.

Pages hung under a segment's change form (`.../segment/<pk>/members/` and so on) and one
under the list (`.../segment/overlap/`):

- members: search by name, e-mail or id prefix, a page at a time; remove the ticked ones;
  export them all as CSV (streamed);
- add or remove many members (or items) by pasting ids or e-mails or uploading a CSV: a
  preview names the records found and lists the ids that name none before anything is
  written; the write goes through the bulk pipeline (`segments.services.segment_workspace`);
- items: the products and categories, the same way;
- history: every change event of the segment and its assignments, whoever made it (API,
  admin, command, rule), with before/after of the fields that changed;
- overlap of two to five segments (one query), a table and bars;
- duplicate, with or without the assignments.

Every page costs the same number of queries whatever the number of rows (one page of rows).
"""

from __future__ import annotations

import copy
import csv
from typing import Any
from urllib.parse import urlencode

from django import forms
from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.http import Http404, HttpRequest, HttpResponseRedirect, StreamingHttpResponse
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils import timezone
from django.utils.html import format_html, format_html_join

from segments.admin.common import tenant_languages, text_in
from segments.choices import EventType, ItemType
from segments.models import Segment
from segments.selectors import workspace as reads
from segments.services.segment_workspace import (
    segment_customers_add,
    segment_customers_remove,
    segment_duplicate,
    segment_items_add,
    segment_items_remove,
)
from segmentservice.exceptions import ServiceError
from tenants.admin_scoping import form_tenant

PAGE_SIZE = 50
PREVIEW_NAMED = 100  # records named in a preview; the rest are counted
UNKNOWN_LISTED = 500  # unknown ids listed in a preview; the rest are counted
PASTE_MAX = 100_000  # ids per paste: one request, one transaction (50,000: about 2 s)


def _csv_download(rows, *, name: str, segment: Segment) -> StreamingHttpResponse:
    """`rows` as a streamed CSV attachment named for the segment and the moment."""
    writer = csv.writer(_Echo())
    response = StreamingHttpResponse(
        (writer.writerow(row) for row in rows), content_type="text/csv; charset=utf-8"
    )
    stamp = timezone.now().strftime("%Y%m%dT%H%M%SZ")
    response["Content-Disposition"] = (
        f'attachment; filename="{name}-{segment.tenant_id}-{segment.external_id}-{stamp}.csv"'
    )
    return response


class _Echo:
    """A file-like object whose write returns the line, for csv.writer in a streamed response."""

    def write(self, value: str) -> str:
        return value


def segment_label(segment: Segment) -> str:
    """`"Spring VIP" (spring)`: the name in the tenant's default language and the id."""
    name = text_in(segment.name, segment.tenant.default_language)
    return f'"{name}" ({segment.external_id})' if name else segment.external_id


def actor_label(actor: str) -> str:
    """Who made a change, in words: `merch (admin)`, `API client shop-sync`, `rule`."""
    kind, _, who = actor.partition(":")
    if kind == "admin":
        return f"{who} (admin)"
    if kind == "api-client":
        return f"API client {who}"
    if kind == "command":
        return f"command {who}"
    if kind == "rule":
        return f"rule {who}".strip()
    return actor


def value_text(value: Any) -> str:
    """A payload value as a person reads it: `en: Gold; de: Gold`, `—` for none."""
    if value in (None, "", {}, []):
        return "—"
    if isinstance(value, dict):  # keys sorted: PostgreSQL keeps no key order
        return "; ".join(f"{key}: {value_text(value[key])}" for key in sorted(value))
    if isinstance(value, list):
        return ", ".join(value_text(inner) for inner in value)
    return str(value)


class PasteForm(forms.Form):
    """Ids or e-mails pasted, or a CSV file, and whether to add or remove them."""

    ids = forms.CharField(
        label="Ids or e-mails",
        required=False,
        widget=forms.Textarea(attrs={"rows": 8, "cols": 70, "placeholder": "c-1001\nc-1002"}),
        help_text="One per line, or separated by commas or spaces.",
    )
    file = forms.FileField(
        label="or a CSV file",
        required=False,
        help_text="The first column, or the column headed customerId, id, email or code.",
    )
    mode = forms.ChoiceField(
        choices=[("add", "Add"), ("remove", "Remove")],
        initial="add",
        widget=forms.RadioSelect,
    )


class ItemPasteForm(PasteForm):
    """Ids or codes of products or categories."""

    type = forms.ChoiceField(
        choices=ItemType.choices, initial=ItemType.PRODUCT, widget=forms.RadioSelect
    )


class DuplicateForm(forms.Form):
    """The copy's id and name, and whether its assignments come along."""

    external_id = forms.CharField(
        label="New id", max_length=64, required=False, help_text="Leave empty to generate one."
    )
    with_assignments = forms.BooleanField(
        label="Copy the customers, products and categories too", required=False, initial=True
    )


class DatalistInput(forms.TextInput):
    """A text input offering suggestions (an HTML datalist): any other text is allowed too."""

    def __init__(self, options: list[str], list_id: str, attrs: dict | None = None) -> None:
        super().__init__(attrs={**(attrs or {}), "list": list_id, "autocomplete": "off"})
        self.options, self.list_id = options, list_id

    def render(self, name, value, attrs=None, renderer=None):
        options = format_html_join(
            "", '<option value="{}">', ((option,) for option in self.options)
        )
        return format_html(
            '{}<datalist id="{}">{}</datalist>',
            super().render(name, value, attrs, renderer),
            self.list_id,
            options,
        )


class SegmentWorkspaceMixin:
    """The workspace pages of `SegmentAdmin` (URLs, views, the list's overlap action)."""

    admin_site: admin.AdminSite
    model: type[Segment]

    def get_form(self, request: HttpRequest, obj=None, change=False, **kwargs):
        """The form, its site code offering the tenant's site codes in use (one query)."""
        form = super().get_form(request, obj, change, **kwargs)  # type: ignore[misc]
        tenant = form_tenant(request)
        if tenant is not None and "site_code" in form.base_fields:
            field = form.base_fields["site_code"] = copy.deepcopy(form.base_fields["site_code"])
            field.widget = DatalistInput(reads.site_codes(tenant=tenant), "site-codes")
            field.help_text = "Pick one of the tenant's sites or type a new one."
        return form

    def get_urls(self):
        urls = super().get_urls()  # type: ignore[misc]
        view = self.admin_site.admin_view
        name = "segments_segment"
        return [
            path("overlap/", view(self.overlap_view), name=f"{name}_overlap"),
            path("<path:object_id>/members/", view(self.members_view), name=f"{name}_members"),
            path(
                "<path:object_id>/members/paste/",
                view(self.members_paste_view),
                name=f"{name}_members_paste",
            ),
            path(
                "<path:object_id>/members/export/",
                view(self.members_export_view),
                name=f"{name}_members_export",
            ),
            path("<path:object_id>/items/", view(self.items_view), name=f"{name}_items"),
            path(
                "<path:object_id>/items/export/",
                view(self.items_export_view),
                name=f"{name}_items_export",
            ),
            path(
                "<path:object_id>/items/paste/",
                view(self.items_paste_view),
                name=f"{name}_items_paste",
            ),
            # Django's own history URL (the form's "History" button): the change events, not
            # LogEntries, which bulk writes and API changes never make.
            path("<path:object_id>/history/", view(self.segment_history_view), name=f"{name}_hist"),
            path(
                "<path:object_id>/duplicate/",
                view(self.duplicate_view),
                name=f"{name}_duplicate",
            ),
            *urls,
        ]

    # --- plumbing ----------------------------------------------------------------------------

    def workspace_segment(self, request: HttpRequest, object_id: str, *, write: bool) -> Segment:
        """The segment (scoped to the user's tenants), or 404; 403 without permission."""
        allowed = (
            self.has_change_permission(request)  # type: ignore[attr-defined]
            if write
            else self.has_view_permission(request)  # type: ignore[attr-defined]
        )
        if not allowed:
            raise PermissionDenied
        segment = (
            self.get_queryset(request)  # type: ignore[attr-defined]
            .select_related("tenant")
            .filter(pk=object_id if str(object_id).isdigit() else None)
            .first()
        )
        if segment is None:
            raise Http404("No such segment, or not one of your tenants'.")
        return segment

    def workspace_context(
        self, request: HttpRequest, segment: Segment | None, title: str, **extra: Any
    ) -> dict[str, Any]:
        return {
            **self.admin_site.each_context(request),
            "opts": self.model._meta,
            "segment": segment,
            "segment_label": segment_label(segment) if segment else "",
            "title": title,
            "has_change_permission": self.has_change_permission(request),  # type: ignore[attr-defined]
            "media": self.media,  # type: ignore[attr-defined]
            **extra,
        }

    def workspace_links(self, segment: Segment) -> dict[str, str]:
        """The workspace pages of one segment, by name."""
        names = {
            "change": "change",
            "members": "members",
            "paste": "members_paste",
            "export": "members_export",
            "items": "items",
            "items_paste": "items_paste",
            "items_export": "items_export",
            "history": "hist",
            "duplicate": "duplicate",
        }
        links = {
            key: reverse(f"admin:segments_segment_{view}", args=[segment.pk])
            for key, view in names.items()
        }
        links["groups"] = segment_groups_url(segment)
        return links

    # --- members ---------------------------------------------------------------------------

    def members_view(self, request: HttpRequest, object_id: str):
        """A page of members, searched; POST removes the ticked ones."""
        segment = self.workspace_segment(request, object_id, write=request.method == "POST")
        links = self.workspace_links(segment)
        if request.method == "POST":
            keys = []
            for value in request.POST.getlist("key"):
                customer_id, _, legal_entity_id = value.partition("\t")
                keys.append((customer_id, legal_entity_id or None))
            if keys:
                removed = segment_customers_remove(
                    tenant=segment.tenant, segment_id=segment.external_id, keys=keys
                )
                self.message_user(  # type: ignore[attr-defined]
                    request,
                    f"Removed {removed:,} customer{'s' if removed != 1 else ''} "
                    f"from {segment_label(segment)}.",
                    messages.SUCCESS,
                )
            return HttpResponseRedirect(request.get_full_path())
        search = request.GET.get("q", "").strip()
        rows = reads.segment_members(tenant=segment.tenant, segment=segment, search=search)
        page = Paginator(rows, PAGE_SIZE).get_page(request.GET.get("p"))
        shown = reads.member_rows(tenant=segment.tenant, page=page.object_list)
        return TemplateResponse(
            request,
            "admin/segments/segment/members.html",
            self.workspace_context(
                request,
                segment,
                f"Customers in {segment_label(segment)}",
                page=page,
                rows=shown,
                removable=any(not row.inherited for row in shown),
                search=search,
                links=links,
                explain_url=reverse("admin:rule-explain"),
                page_query=_page_query(search),
            ),
        )

    def members_paste_view(self, request: HttpRequest, object_id: str):
        """Paste or upload ids or e-mails; preview what they name; then add or remove them."""
        segment = self.workspace_segment(request, object_id, write=True)
        return self._paste(request, segment, items=False)

    def members_export_view(self, request: HttpRequest, object_id: str):
        """Every member as CSV, streamed (read in chunks, never all in memory)."""
        segment = self.workspace_segment(request, object_id, write=False)
        return _csv_download(
            reads.members_csv_rows(tenant=segment.tenant, segment=segment),
            name="members",
            segment=segment,
        )

    # --- items -----------------------------------------------------------------------------

    def items_view(self, request: HttpRequest, object_id: str):
        """A page of products and categories, searched; POST removes the ticked ones."""
        segment = self.workspace_segment(request, object_id, write=request.method == "POST")
        if request.method == "POST":
            by_type: dict[str, list[str]] = {}
            for value in request.POST.getlist("key"):
                item_type, _, item_id = value.partition("\t")
                if item_type in ItemType.values:
                    by_type.setdefault(item_type, []).append(item_id)
            removed = sum(
                segment_items_remove(
                    tenant=segment.tenant,
                    segment_id=segment.external_id,
                    type=ItemType(item_type),
                    item_ids=ids,
                )
                for item_type, ids in by_type.items()
            )
            if by_type:
                self.message_user(  # type: ignore[attr-defined]
                    request,
                    f"Removed {removed:,} item{'s' if removed != 1 else ''} "
                    f"from {segment_label(segment)}.",
                    messages.SUCCESS,
                )
            return HttpResponseRedirect(request.get_full_path())
        search = request.GET.get("q", "").strip()
        item_type = request.GET.get("type") or None
        rows = reads.segment_items(
            tenant=segment.tenant, segment=segment, search=search, type=item_type
        )
        page = Paginator(rows, PAGE_SIZE).get_page(request.GET.get("p"))
        language = segment.tenant.default_language
        shown = []
        for row in page.object_list:
            item = row.product if row.type == ItemType.PRODUCT else row.category
            shown.append(
                {
                    "row": row,
                    "item": item,
                    "name": text_in(item.name, language),
                    "key": f"{row.type}\t{item.external_id}",
                }
            )
        return TemplateResponse(
            request,
            "admin/segments/segment/items.html",
            self.workspace_context(
                request,
                segment,
                f"Products and categories in {segment_label(segment)}",
                page=page,
                rows=shown,
                search=search,
                item_type=item_type or "",
                links=self.workspace_links(segment),
                page_query=_page_query(search, type=item_type or ""),
            ),
        )

    def items_export_view(self, request: HttpRequest, object_id: str):
        """Every product and category of the segment as CSV, streamed."""
        segment = self.workspace_segment(request, object_id, write=False)
        return _csv_download(
            reads.items_csv_rows(tenant=segment.tenant, segment=segment),
            name="items",
            segment=segment,
        )

    def items_paste_view(self, request: HttpRequest, object_id: str):
        """Paste or upload ids or codes of products or categories; preview; add or remove."""
        segment = self.workspace_segment(request, object_id, write=True)
        return self._paste(request, segment, items=True)

    # --- the paste flow, for members and items ------------------------------------------------

    def _paste(self, request: HttpRequest, segment: Segment, *, items: bool):
        form_class = ItemPasteForm if items else PasteForm
        links = self.workspace_links(segment)
        back = links["items" if items else "members"]
        preview = None
        if request.method == "POST":
            form = form_class(request.POST, request.FILES)
            if form.is_valid():
                upload = form.cleaned_data.get("file")
                tokens = reads.pasted_tokens(
                    form.cleaned_data.get("ids") or "", upload.read() if upload else None
                )
                mode = form.cleaned_data["mode"]
                item_type = ItemType(form.cleaned_data["type"]) if items else None
                if not tokens:
                    form.add_error("ids", "Paste at least one id, or choose a file.")
                elif len(tokens) > PASTE_MAX:
                    form.add_error(
                        "ids",
                        f"That is {len(tokens):,} ids; paste at most {PASTE_MAX:,} at a time.",
                    )
                else:
                    resolution = (
                        reads.items_resolve(
                            tenant=segment.tenant, segment=segment, type=item_type, tokens=tokens
                        )
                        if item_type
                        else reads.customers_resolve(
                            tenant=segment.tenant, segment=segment, tokens=tokens
                        )
                    )
                    if "_confirm" in request.POST:
                        return self._paste_write(
                            request, segment, resolution, mode, item_type, back
                        )
                    # The preview shows the tokens as text (an upload becomes editable text).
                    form = form_class(
                        initial={
                            "ids": "\n".join(tokens),
                            "mode": mode,
                            **({"type": item_type} if items else {}),
                        }
                    )
                    targets = resolution.new if mode == "add" else resolution.present
                    skipped = resolution.present if mode == "add" else resolution.new
                    preview = {
                        "mode": mode,
                        "tokens": len(tokens),
                        "targets": len(targets),
                        "named": targets[:PREVIEW_NAMED],
                        "more": max(0, len(targets) - PREVIEW_NAMED),
                        "skipped": len(skipped),
                        "unknown": resolution.unknown[:UNKNOWN_LISTED],
                        "unknown_count": len(resolution.unknown),
                        "unknown_more": max(0, len(resolution.unknown) - UNKNOWN_LISTED),
                    }
        else:
            form = form_class()
        what = "products or categories" if items else "customers"
        return TemplateResponse(
            request,
            "admin/segments/segment/paste.html",
            self.workspace_context(
                request,
                segment,
                f"Add or remove {what} of {segment_label(segment)}",
                form=form,
                preview=preview,
                items=items,
                links=links,
                back=back,
                what=what,
            ),
        )

    def _paste_write(self, request, segment, resolution, mode, item_type, back):
        tenant, segment_id = segment.tenant, segment.external_id
        try:
            if item_type is None:
                if mode == "add":
                    ids = [customer.external_id for customer in resolution.new]
                    count = segment_customers_add(
                        tenant=tenant, segment_id=segment_id, customer_ids=ids
                    )
                else:
                    keys = [(c.external_id, None) for c in resolution.present]
                    count = segment_customers_remove(
                        tenant=tenant, segment_id=segment_id, keys=keys
                    )
                noun = "customer" if count == 1 else "customers"
            else:
                records = resolution.new if mode == "add" else resolution.present
                ids = [record.external_id for record in records]
                write = segment_items_add if mode == "add" else segment_items_remove
                count = write(tenant=tenant, segment_id=segment_id, type=item_type, item_ids=ids)
                noun = ItemType(item_type).label.lower() + ("" if count == 1 else "s")
                noun = noun.replace("categorys", "categories")
        except ServiceError as error:
            self.message_user(request, error.message, messages.ERROR)  # type: ignore[attr-defined]
            return HttpResponseRedirect(request.get_full_path())
        verb = "Added" if mode == "add" else "Removed"
        where = "to" if mode == "add" else "from"
        message = f"{verb} {count:,} {noun} {where} {segment_label(segment)}."
        if resolution.unknown:
            shown = ", ".join(resolution.unknown[:10])
            more = (
                f" and {len(resolution.unknown) - 10:,} more"
                if len(resolution.unknown) > 10
                else ""
            )
            message += f" Skipped {len(resolution.unknown):,} unknown: {shown}{more}."
        self.message_user(request, message, messages.SUCCESS)  # type: ignore[attr-defined]
        return HttpResponseRedirect(back)

    # --- history ---------------------------------------------------------------------------

    def segment_history_view(self, request: HttpRequest, object_id: str):
        """The segment's change events, newest first, a page at a time, with what changed."""
        segment = self.workspace_segment(request, object_id, write=False)
        kind = request.GET.get("kind")
        kind = kind if kind in reads.HISTORY_KINDS else None
        history = reads.segment_history(
            tenant=segment.tenant, segment_id=segment.external_id, kind=kind
        )
        page = Paginator(history, PAGE_SIZE).get_page(request.GET.get("p"))
        groups = list(page.object_list)
        events = reads.history_events(
            tenant=segment.tenant, segment_id=segment.external_id, kind=kind, groups=groups
        )
        subjects = reads.event_subjects(
            tenant=segment.tenant, events=[event for shown in events for event in shown]
        )
        language = segment.tenant.default_language
        entries = []
        for group, shown in zip(groups, events, strict=True):
            if not shown:
                continue
            items = [_history_entry(event, subjects, language) for event in shown]
            entry = {
                **items[-1 if group.count == 1 else 0],
                "count": group.count,
                "items": items if group.count > 1 else [],
                "more": group.count - len(shown),
            }
            if group.count > 1:
                entry["what"] = f"{_PLURALS.get(group.type, entry['what'])} ({group.count:,})"
                entry["last_event"] = items[-1]["event"]
            entries.append(entry)
        return TemplateResponse(
            request,
            "admin/segments/segment/history.html",
            self.workspace_context(
                request,
                segment,
                f"History of {segment_label(segment)}",
                page=page,
                entries=entries,
                kind=kind or "",
                kinds=[
                    ("", "All changes"),
                    ("segment", "The segment"),
                    ("customers", "Customers"),
                    ("items", "Products and categories"),
                    ("groups", "Groups"),
                ],
                links=self.workspace_links(segment),
                page_query=_page_query("", kind=kind or ""),
            ),
        )

    # --- overlap ---------------------------------------------------------------------------

    @admin.action(description="Compare overlap of selected segments (2 to 5)")
    def compare_overlap(self, request: HttpRequest, queryset):
        """To the overlap page of the ticked segments."""
        pks = list(
            queryset.order_by("external_id").values_list("pk", flat=True)[: reads.OVERLAP_MAX + 1]
        )
        if not 2 <= len(pks) <= reads.OVERLAP_MAX:
            self.message_user(  # type: ignore[attr-defined]
                request, "Choose two to five segments to compare.", messages.WARNING
            )
            return None
        url = reverse("admin:segments_segment_overlap")
        return HttpResponseRedirect(f"{url}?ids={','.join(str(pk) for pk in pks)}")

    def overlap_view(self, request: HttpRequest):
        """Sizes and intersections of the segments named by `?ids=` (pks) or `?segments=` (ids)."""
        if not self.has_view_permission(request):  # type: ignore[attr-defined]
            raise PermissionDenied
        visible = self.get_queryset(request).select_related("tenant")  # type: ignore[attr-defined]
        pks = [value for value in request.GET.get("ids", "").split(",") if value.isdigit()]
        external = [value for value in request.GET.get("segments", "").replace(",", " ").split()]
        chosen = []
        if pks:
            chosen = list(visible.filter(pk__in=pks[: reads.OVERLAP_MAX + 1]).order_by("pk"))
            order = {int(pk): n for n, pk in enumerate(pks)}
            chosen.sort(key=lambda s: order.get(s.pk, 0))
        elif external:
            chosen = list(visible.filter(external_id__in=external[: reads.OVERLAP_MAX + 1]))
            chosen.sort(key=lambda s: external.index(s.external_id))
        error, overlap, bars = None, None, []
        if chosen and not 2 <= len(chosen) <= reads.OVERLAP_MAX:
            error = "Choose two to five segments."
        elif chosen and len({s.tenant_id for s in chosen}) > 1:
            error = "Choose segments of one tenant."
        elif chosen:
            overlap = reads.segments_overlap(tenant=chosen[0].tenant, segments=chosen)
            labels = [segment_label(s) for s in chosen]
            widest = max(overlap.sizes) or 1
            bars = [
                (label, size, 100 * size / widest)
                for label, size in zip(labels, overlap.sizes, strict=True)
            ]
            bars += [
                (f"{labels[i]} and {labels[j]}", n, 100 * n / widest)
                for (i, j), n in overlap.pairs.items()
            ]
            if len(chosen) > 2:
                bars.append(("in all of them", overlap.all, 100 * overlap.all / widest))
        elif pks or external:
            error = "None of those segments was found."
        matrix = []
        if overlap:
            for i, segment in enumerate(chosen):
                cells = []
                for j in range(len(chosen)):
                    if i == j:
                        cells.append(overlap.sizes[i])
                    else:
                        cells.append(overlap.pairs[(min(i, j), max(i, j))])
                matrix.append((segment_label(segment), segment, cells))
        return TemplateResponse(
            request,
            "admin/segments/segment/overlap.html",
            self.workspace_context(
                request,
                None,
                "Overlap of segments",
                chosen=chosen,
                labels=[segment_label(s) for s in chosen],
                overlap=overlap,
                matrix=matrix,
                bars=bars,
                error=error,
                segments_value=" ".join(s.external_id for s in chosen) or " ".join(external),
            ),
        )

    # --- duplicate -------------------------------------------------------------------------

    def duplicate_view(self, request: HttpRequest, object_id: str):
        """A copy of the segment under a new id and name, with or without its assignments."""
        segment = self.workspace_segment(request, object_id, write=True)
        if not self.has_add_permission(request):  # type: ignore[attr-defined]
            raise PermissionDenied
        languages = tenant_languages(segment.tenant)
        name_fields = {
            f"name_{lang}": forms.CharField(
                label=f"Name ({lang})",
                required=False,
                initial=f"Copy of {segment.name[lang]}" if segment.name.get(lang) else "",
                widget=forms.TextInput(attrs={"size": 60, "lang": lang}),
            )
            for lang in languages
        }
        form_class = type("SegmentDuplicateForm", (DuplicateForm,), name_fields)
        form = form_class(request.POST or None)
        if request.method == "POST" and form.is_valid():
            name = {
                lang: form.cleaned_data[f"name_{lang}"].strip()
                for lang in languages
                if form.cleaned_data[f"name_{lang}"].strip()
            }
            if not name:
                form.add_error(f"name_{languages[0]}", "Name the copy in at least one language.")
            else:
                try:
                    copy = segment_duplicate(
                        tenant=segment.tenant,
                        source=segment,
                        segment_id=form.cleaned_data["external_id"] or None,
                        name=name,
                        with_assignments=form.cleaned_data["with_assignments"],
                    )
                except ServiceError as error:
                    form.add_error(None, error.message)
                else:
                    copy.tenant = segment.tenant
                    self.message_user(  # type: ignore[attr-defined]
                        request,
                        f"Copied {segment_label(segment)} to {segment_label(copy)} (inactive).",
                        messages.SUCCESS,
                    )
                    return HttpResponseRedirect(
                        reverse("admin:segments_segment_change", args=[copy.pk])
                    )
        return TemplateResponse(
            request,
            "admin/segments/segment/duplicate.html",
            self.workspace_context(
                request,
                segment,
                f"Duplicate {segment_label(segment)}",
                form=form,
                links=self.workspace_links(segment),
            ),
        )


def _page_query(search: str, **extra: str) -> str:
    params = {"q": search, **extra}
    return urlencode({key: value for key, value in params.items() if value})


_VERBS = {
    EventType.SEGMENT_CREATED: "Segment created",
    EventType.SEGMENT_UPDATED: "Segment changed",
    EventType.SEGMENT_DELETED: "Segment deleted",
    EventType.CUSTOMER_ASSIGNMENT_CREATED: "Customer added",
    EventType.CUSTOMER_ASSIGNMENT_UPDATED: "Customer assignment changed",
    EventType.CUSTOMER_ASSIGNMENT_DELETED: "Customer removed",
    EventType.ITEM_ASSIGNMENT_CREATED: "Item added",
    EventType.ITEM_ASSIGNMENT_UPDATED: "Item assignment changed",
    EventType.ITEM_ASSIGNMENT_DELETED: "Item removed",
    EventType.GROUP_ASSIGNMENT_CREATED: "Group added",
    EventType.GROUP_ASSIGNMENT_UPDATED: "Group assignment changed",
    EventType.GROUP_ASSIGNMENT_DELETED: "Group removed",
}


_PLURALS = {
    EventType.SEGMENT_UPDATED: "Segment changed",
    EventType.CUSTOMER_ASSIGNMENT_CREATED: "Customers added",
    EventType.CUSTOMER_ASSIGNMENT_UPDATED: "Customer assignments changed",
    EventType.CUSTOMER_ASSIGNMENT_DELETED: "Customers removed",
    EventType.ITEM_ASSIGNMENT_CREATED: "Items added",
    EventType.ITEM_ASSIGNMENT_UPDATED: "Item assignments changed",
    EventType.ITEM_ASSIGNMENT_DELETED: "Items removed",
    EventType.GROUP_ASSIGNMENT_CREATED: "Groups added",
    EventType.GROUP_ASSIGNMENT_UPDATED: "Group assignments changed",
    EventType.GROUP_ASSIGNMENT_DELETED: "Groups removed",
}


def _history_entry(event, subjects: dict[str, dict[str, Any]], language: str) -> dict[str, Any]:
    """One history line: when, who, what (named), and before/after of what changed."""
    about = reads.event_subject(event)
    subject = ""
    if about is not None:
        kind, external_id, legal_entity_id = about
        row = subjects.get(kind, {}).get(external_id)
        if kind in ("customer", "group"):
            subject = str(row) if row else external_id
        else:  # an item: named in the tenant's language, with its code
            name = text_in(row.name, language) if row is not None else ""
            code = (row.code or row.external_id) if row is not None else external_id
            label = ItemType(kind).label if kind in ItemType.values else kind
            subject = f"{label} {f'{name} ({code})' if name else code}"
        if legal_entity_id:
            legal_entity = subjects["legal_entity"].get(legal_entity_id)
            subject += f" for {legal_entity or f'legal entity {legal_entity_id}'}"
    changes = []
    if event.type.endswith("-updated"):
        # Without an earlier event (rows loaded without events) the before is unknown.
        unknown = event.previous is None
        changes = [
            (name, "(not recorded)" if unknown else value_text(before), value_text(after))
            for name, before, after in reads.payload_changes(event.previous, event.payload)
        ]
    version = (event.payload.get("metadata") or {}).get("version")
    return {
        "event": event,
        "what": _VERBS.get(event.type, event.type),
        "subject": subject,
        "actor": actor_label(event.actor),
        "changes": changes,
        "version": version,
        "kind": event.type.rpartition("-")[2],
    }


def segment_groups_url(segment: Segment) -> str:
    """The list of the groups assigned to a segment (the group assignments admin, filtered)."""
    changelist = reverse("admin:segments_groupassignment_changelist")
    return f"{changelist}?segment={segment.pk}"


def segment_workspace_links(segment: Segment) -> str:
    """The links a segment's form shows to its workspace pages."""
    if segment is None or segment.pk is None:
        return "—"

    def page(view: str) -> str:
        return reverse(f"admin:segments_segment_{view}", args=[segment.pk])

    links = [
        ("members", page("members"), "Members"),
        ("members_paste", page("members_paste"), "Add or remove many members"),
        ("items", page("items"), "Products and categories"),
        ("groups", segment_groups_url(segment), "Groups"),
        ("hist", page("hist"), "History"),
        ("duplicate", page("duplicate"), "Duplicate"),
    ]
    return format_html(
        '<ul class="segment-workspace">{}</ul>',
        format_html_join("", '<li><a class="workspace-{}" href="{}">{}</a></li>', links),
    )


def customer_segments_display(customer) -> str:
    """The segments a customer is in and how (manual, rule, a group), a page at most of each
    (four queries)."""
    if customer is None or customer.pk is None:
        return "—"
    rows = reads.customer_segments(tenant=customer.tenant, customer=customer)
    through_groups = reads.customer_group_segments(tenant=customer.tenant, customer=customer)
    total, group_total = rows.count(), through_groups.count()
    if not total and not group_total:
        return "In no segment."
    language = customer.tenant.default_language
    shown = list(rows[:PAGE_SIZE]) if total else []
    shown_groups = list(through_groups[:PAGE_SIZE]) if group_total else []
    members_url = "admin:segments_segment_members"
    explain = reverse("admin:rule-explain")

    def why(segment_pk: int, legal_entity) -> str:
        query = {"segment": segment_pk, "customer": customer.external_id}
        if legal_entity is not None:
            query["legal_entity"] = legal_entity.external_id
        return f"{explain}?{urlencode(query)}"

    items = format_html_join(
        "",
        '<li><a href="{}">{}</a>{} <span class="assignment-kind kind-{}">{}</span>'
        ' <a class="segment-why" href="{}">why?</a></li>',
        [
            *(
                (
                    reverse(members_url, args=[row.segment_id]) + f"?q={customer.external_id}",
                    _named(row.segment, language),
                    f" for {row.legal_entity}" if row.legal_entity_id else "",
                    row.assignment_type.lower(),
                    "rule" if row.assignment_type == "AUTOMATIC" else "manual",
                    why(row.segment_id, row.legal_entity),
                )
                for row in shown
            ),
            *(
                (
                    reverse(members_url, args=[row.segment_id]),
                    _named(row.segment, language),
                    f" for {row.group.legal_entity}" if row.group.legal_entity_id else "",
                    "group",
                    f"group ({text_in(row.group.name, language) or row.group.external_id})",
                    why(row.segment_id, row.group.legal_entity),
                )
                for row in shown_groups
            ),
        ],
    )
    more = ""
    if total > len(shown):
        url = reverse("admin:segments_customerassignment_changelist")
        more = format_html(
            '<li><a href="{}?customer={}">… all {} segments</a></li>', url, customer.pk, total
        )
    if group_total > len(shown_groups):
        more = format_html(
            "{}<li>… {} more through groups</li>", more, group_total - len(shown_groups)
        )
    return format_html('<ul class="customer-segments">{}{}</ul>', items, more)


def _named(segment: Segment, language: str) -> str:
    name = text_in(segment.name, language)
    return f'"{name}" ({segment.external_id})' if name else segment.external_id
