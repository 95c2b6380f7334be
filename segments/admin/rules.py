"""The admin of rules (SPEC §12): the rule editor with its live preview, "evaluate now",
exclusions, and why a customer is or is not in a segment.

Everything writes through `segments.services.rules`, as the API does. The live preview is
a small script (`segments/rules.js`) posting the form's q and assign to `preview/`, an
admin JSON view answering what `POST .../rule/preview` answers.
"""

from __future__ import annotations

import json

from django import forms
from django.contrib import admin, messages
from django.db.models import Count, OuterRef, Subquery
from django.db.models.functions import Coalesce
from django.http import Http404, HttpRequest, HttpResponseRedirect, JsonResponse
from django.shortcuts import get_object_or_404
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils.html import format_html

from segments.admin.base import TenantOwnedAdmin
from segments.admin.common import text_in
from segments.admin.forms import ServiceForm, ServiceFormAdminMixin
from segments.admin.workspace import segment_label
from segments.choices import AssignmentType
from segments.models import Customer, CustomerAssignment, RuleExclusion, Segment, SegmentRule
from segments.selectors.admin import rules_annotated
from segments.selectors.rules import rule_preview, segment_explain
from segments.services.rules import (
    RuleInput,
    rule_check,
    rule_delete,
    rule_evaluate_now,
    rule_exclusions_delete,
    rule_upsert,
)
from segmentservice.exceptions import ServiceError
from tenants.admin_scoping import may_see_tenant


class SegmentRuleForm(ServiceForm):
    """A segment's rule; saved (and evaluated in full) by `rule_upsert`."""

    q = forms.CharField(widget=forms.Textarea(attrs={"rows": 3, "cols": 80}), label="q")
    version = None  # a rule has no version: the last write wins

    class Meta:
        model = SegmentRule
        fields = ["tenant", "segment", "q", "assign", "enabled"]

    def save_through_service(self) -> SegmentRule:
        """`rule_upsert`, as `PUT /segments/{id}/rule` does."""
        data = self.cleaned_data
        segment = self.instance.segment if self.instance.pk else data["segment"]
        rule, _, _ = rule_upsert(
            tenant=segment.tenant,
            segment_id=segment.external_id,
            data=RuleInput(q=data["q"], assign=data["assign"], enabled=data["enabled"]),
        )
        return rule


@admin.register(SegmentRule)
class SegmentRuleAdmin(ServiceFormAdminMixin, TenantOwnedAdmin):
    """Rules: the editor with a live preview, and "evaluate now"."""

    form = SegmentRuleForm
    list_display = [
        "segment",
        "q",
        "assign",
        "enabled",
        "last_evaluated_at",
        "member_total",
        "tenant_name",
    ]
    list_select_related = ["segment"]
    search_fields = ["=segment__external_id", "q"]
    ordering = ["tenant_id", "segment__external_id"]
    autocomplete_fields = ["segment"]
    readonly_fields = ["last_evaluated_at", "member_total"]
    fields = ["tenant", "segment", "q", "assign", "enabled", "last_evaluated_at", "member_total"]
    actions = ["evaluate_now"]
    change_form_template = "admin/segments/segmentrule/change_form.html"

    class Media:
        js = ["segments/rules.js"]

    def get_readonly_fields(self, request: HttpRequest, obj=None):
        """A rule stays with its segment."""
        return [*self.readonly_fields, *(["segment"] if obj else [])]

    def get_queryset(self, request: HttpRequest):
        return rules_annotated(super().get_queryset(request))

    @admin.display(description="members", ordering="member_count")
    def member_total(self, rule: SegmentRule) -> int:
        """The segment's customer assignments (manual and rule-made), counted in the list's
        query (`rules_annotated`)."""
        return getattr(rule, "member_count", 0)

    @admin.action(description="Evaluate now")
    def evaluate_now(self, request: HttpRequest, queryset) -> None:
        """Evaluate each selected rule in full now."""
        for rule in queryset.select_related("segment", "tenant"):
            outcome = rule_evaluate_now(tenant=rule.tenant, segment_id=rule.segment.external_id)
            self.message_user(
                request,
                f"{rule.segment.external_id}: {outcome.added} added, {outcome.removed} removed.",
                messages.SUCCESS,
            )

    def delete_model(self, request: HttpRequest, obj: SegmentRule) -> None:
        """`rule_delete`: its AUTOMATIC assignments go, with events."""
        rule_delete(tenant=obj.tenant, segment_id=obj.segment.external_id)

    def get_actions(self, request: HttpRequest):
        """Deletion goes through the service (one event per assignment)."""
        actions = super().get_actions(request)
        actions.pop("delete_selected", None)
        return actions

    def get_urls(self):
        """`preview/` (the live preview's JSON) and `explain/` before the admin's own."""
        return [
            path("preview/", self.admin_site.admin_view(self.preview_view), name="rule-preview"),
            path("explain/", self.admin_site.admin_view(self.explain_view), name="rule-explain"),
            *super().get_urls(),
        ]

    def _segment(self, request: HttpRequest, pk: str) -> Segment:
        segment = get_object_or_404(
            Segment.objects.select_related("tenant"), pk=pk if pk.isdigit() else None
        )
        if not may_see_tenant(request, segment.tenant_id):
            raise PermissionError
        return segment

    def preview_view(self, request: HttpRequest) -> JsonResponse:
        """POST segment, q, assign → the preview, or `{"error": message}`."""
        segment_pk = request.POST.get("segment", "")
        if not segment_pk.isdigit():
            return JsonResponse({"error": "Choose the segment first."}, status=400)
        try:
            segment = self._segment(request, segment_pk)
        except PermissionError:
            return JsonResponse({"error": "Not your tenant."}, status=403)
        data = RuleInput(
            q=request.POST.get("q", ""), assign=request.POST.get("assign", "B2C"), enabled=True
        )
        try:
            compiled = rule_check(tenant=segment.tenant, segment_id=segment.external_id, data=data)
        except ServiceError as error:
            return JsonResponse({"error": error.message}, status=400)
        return JsonResponse(
            rule_preview(tenant=segment.tenant, segment_pk=segment.pk, rule=compiled)
        )

    def explain_view(self, request: HttpRequest) -> TemplateResponse:
        """Why a customer is, or is not, in a segment: `?segment=<pk>&customer=<id>`."""
        try:
            segment = self._segment(request, request.GET.get("segment", ""))
        except PermissionError:
            raise Http404("No such segment, or not one of your tenants'.") from None
        customer_id = request.GET.get("customer", "")
        legal_entity_id = request.GET.get("legal_entity") or None
        try:
            explained = segment_explain(
                tenant=segment.tenant,
                segment=segment,
                customer_id=customer_id,
                legal_entity_id=legal_entity_id,
            )
            error = None
        except ServiceError as refusal:
            explained, error = None, refusal.message
        language = segment.tenant.default_language
        reasons = []
        for reason in (explained or {}).get("reasons", []):
            group = reason.get("group")
            if group and isinstance(group.get("name"), dict):  # a map: shown in one language
                reason = {**reason, "group": {**group, "name": text_in(group["name"], language)}}
            reasons.append(reason)
        context = {
            **self.admin_site.each_context(request),
            "title": f"Why is {customer_label(segment.tenant, customer_id)} in, or not in, "
            f"{segment_label(segment)}?",
            "reasons": reasons,
            "segment": segment,
            "customer_id": customer_id,
            "explained": explained,
            "explained_json": json.dumps(explained, indent=2) if explained else "",
            "error": error,
            "opts": self.model._meta,
        }
        return TemplateResponse(request, "admin/segments/segmentrule/explain.html", context)


def customer_label(tenant, customer_id: str) -> str:
    """The customer as people name them (`Anna Schmidt (anna)`), else the id asked about."""
    customer = Customer.objects.filter(tenant=tenant, external_id=customer_id).first()
    return str(customer) if customer else customer_id


def explain_link(assignment: CustomerAssignment) -> str:
    """A link to the explain view of an assignment's customer in its segment."""
    query = f"?segment={assignment.segment_id}&customer={assignment.customer.external_id}"
    if assignment.legal_entity_id:
        query += f"&legal_entity={assignment.legal_entity.external_id}"
    return format_html('<a href="/admin/segments/segmentrule/explain/{}">why?</a>', query)


@admin.register(RuleExclusion)
class RuleExclusionAdmin(TenantOwnedAdmin):
    """Customers a rule no longer assigns, since their automatic assignment was deleted."""

    list_display = ["segment", "customer", "legal_entity", "created_at", "tenant_name"]
    list_select_related = ["segment", "customer", "legal_entity"]
    search_fields = ["=segment__external_id", "=customer__external_id"]
    ordering = ["tenant_id", "segment_id", "customer_id"]
    actions = ["clear_exclusions"]

    def has_add_permission(self, request: HttpRequest) -> bool:
        """Exclusions are made by deleting an automatic assignment."""
        return False

    def has_change_permission(self, request: HttpRequest, obj=None) -> bool:
        """Nothing to edit: clear it or leave it."""
        return False

    def get_actions(self, request: HttpRequest):
        """Clearing goes through the service (the customer is evaluated again)."""
        actions = super().get_actions(request)
        actions.pop("delete_selected", None)
        return actions

    @admin.action(description="Clear the selected exclusions (the rule may assign them again)")
    def clear_exclusions(self, request: HttpRequest, queryset) -> None:
        """`rule_exclusions_delete`, tenant by tenant."""
        cleared = 0
        for tenant_name in set(queryset.values_list("tenant_id", flat=True)):
            rows = queryset.filter(tenant_id=tenant_name).select_related("tenant")
            first = rows.first()
            if first is None:
                continue
            cleared += rule_exclusions_delete(
                tenant=first.tenant, exclusion_pks=list(rows.values_list("pk", flat=True))
            )
        self.message_user(request, f"Cleared {cleared} exclusion(s).", messages.SUCCESS)


class SegmentRuleEditorMixin:
    """The rule editor on a segment's own page (the workspace): the rule's q, assign and
    enabled, the live preview (`rules.js` and `SegmentRuleAdmin.preview_view`, as on the
    rule's page), "evaluate now", the last evaluation time and the member counts.

    The editor is a form of its own below the segment's form, posting to
    `.../segment/<pk>/rule/`; every write goes through `segments.services.rules`.
    """

    admin_site: admin.AdminSite

    def get_urls(self):
        urls = super().get_urls()  # type: ignore[misc]
        return [
            path(
                "<path:object_id>/rule/",
                self.admin_site.admin_view(self.rule_editor_view),
                name="segments_segment_rule",
            ),
            *urls,
        ]

    @property
    def media(self):
        return super().media + forms.Media(js=["segments/rules.js"])  # type: ignore[misc]

    def render_change_form(self, request, context, add=False, change=False, form_url="", obj=None):
        """The segment's form, and below it the rule editor (one query: the rule with its
        count of rule-made members)."""
        if obj is not None and obj.pk:
            context["rule_editor"] = self.rule_editor_context(request, obj)
        return super().render_change_form(  # type: ignore[misc]
            request, context, add, change, form_url, obj
        )

    def rule_editor_context(self, request: HttpRequest, segment: Segment) -> dict:
        rule = rule_with_counts(tenant_id=segment.tenant_id, segment_pk=segment.pk)
        draft = request.session.pop(f"rule-draft-{segment.pk}", None) if request.session else None
        return {
            "rule": rule,
            "q": draft["q"] if draft else (rule.q if rule else ""),
            "assign": draft["assign"] if draft else (rule.assign if rule else "B2C"),
            "enabled": draft["enabled"] if draft else (rule.enabled if rule else True),
            "assign_choices": SegmentRule.Assign.choices,
            "members": getattr(segment, "customer_count", None),
            "url": reverse("admin:segments_segment_rule", args=[segment.pk]),
            "preview_url": reverse("admin:rule-preview"),
            "may_change": self.has_change_permission(request, segment),  # type: ignore[attr-defined]
        }

    def rule_editor_view(self, request: HttpRequest, object_id: str) -> HttpResponseRedirect:
        """POST: save the rule (`_save_rule`), evaluate it now (`_evaluate`) or delete it
        (`_delete_rule`); back to the segment's page with a message. A refused rule comes
        back in the editor as typed, with the service's words."""
        segment = self.workspace_segment(request, object_id, write=True)  # type: ignore[attr-defined]
        back = reverse("admin:segments_segment_change", args=[segment.pk]) + "#segment-rule"
        if request.method != "POST":
            return HttpResponseRedirect(back)
        tenant, label = segment.tenant, segment_label(segment)
        try:
            if "_evaluate" in request.POST:
                outcome = rule_evaluate_now(tenant=tenant, segment_id=segment.external_id)
                text = f"Evaluated the rule of {label}: {_changed(outcome)}."
            elif "_delete_rule" in request.POST:
                rule_delete(tenant=tenant, segment_id=segment.external_id)
                text = f"Deleted the rule of {label}; its rule-made members went with it."
            else:
                data = RuleInput(
                    q=request.POST.get("q", ""),
                    assign=request.POST.get("assign", "B2C"),
                    enabled=request.POST.get("enabled") in ("on", "true", "1"),
                )
                _, created, outcome = rule_upsert(
                    tenant=tenant, segment_id=segment.external_id, data=data
                )
                verb = "Created" if created else "Saved"
                text = f"{verb} the rule of {label} and evaluated it: {_changed(outcome)}."
        except ServiceError as error:
            request.session[f"rule-draft-{segment.pk}"] = {
                "q": request.POST.get("q", ""),
                "assign": request.POST.get("assign", "B2C"),
                "enabled": request.POST.get("enabled") in ("on", "true", "1"),
            }
            messages.error(request, f"The rule was not saved: {error.message}")
            return HttpResponseRedirect(back)
        messages.success(request, text)
        return HttpResponseRedirect(back)


def _changed(outcome) -> str:
    added, removed = outcome.added, outcome.removed
    return f"{added:,} customer{'s' if added != 1 else ''} added, {removed:,} removed"


def rule_with_counts(*, tenant_id: str, segment_pk: int) -> SegmentRule | None:
    """The segment's rule, `automatic_count` its rule-made assignments (one query)."""
    made = (
        CustomerAssignment.objects.filter(
            tenant_id=OuterRef("tenant_id"),
            segment_id=OuterRef("segment_id"),
            assignment_type=AssignmentType.AUTOMATIC,
        )
        .order_by()
        .values("segment_id")
        .annotate(n=Count("pk"))
        .values("n")
    )
    return (
        SegmentRule.objects.filter(tenant_id=tenant_id, segment_id=segment_pk)
        .annotate(automatic_count=Coalesce(Subquery(made), 0))
        .first()
    )
