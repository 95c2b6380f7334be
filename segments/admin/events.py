"""Admin of change events (read-only) and the webhook endpoints they are delivered to."""

from __future__ import annotations

from django import forms
from django.contrib import admin
from django.http import HttpRequest

from segments.admin.base import TenantOwnedAdmin
from segments.choices import EventType
from segments.models import Event, WebhookEndpoint


@admin.register(Event)
class EventAdmin(TenantOwnedAdmin):
    """The change log: one row per change to a segment or assignment, never edited here."""

    list_display = ["id", "type", "resource_id", "actor", "created_at", "tenant_name"]
    list_filter = ["type"]
    search_fields = ["=resource_id"]
    ordering = ["-id"]
    fields = ["tenant", "type", "resource_id", "actor", "payload", "created_at"]
    readonly_fields = fields

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj=None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj=None) -> bool:
        return False


class WebhookEndpointForm(forms.ModelForm):
    """An endpoint: where to send which events, and the secret that signs them."""

    url = forms.URLField(max_length=500, assume_scheme="https")
    event_types = forms.MultipleChoiceField(
        choices=EventType.choices,
        required=False,
        widget=forms.CheckboxSelectMultiple,
        help_text="None chosen sends every type.",
    )

    class Meta:
        model = WebhookEndpoint
        fields = ["tenant", "url", "secret", "event_types", "is_active", "replay_from_event_id"]


@admin.register(WebhookEndpoint)
class WebhookEndpointAdmin(TenantOwnedAdmin):
    """Webhook endpoints with their delivery state."""

    form = WebhookEndpointForm
    list_display = [
        "url",
        "tenant_name",
        "is_active",
        "last_event_id",
        "failures",
        "next_attempt_at",
    ]
    list_filter = ["is_active"]
    search_fields = ["url"]
    ordering = ["tenant_id", "url"]
    readonly_fields = ["last_event_id", "failures", "next_attempt_at", "last_error", "created_at"]

    def save_model(self, request: HttpRequest, obj: WebhookEndpoint, form, change: bool) -> None:
        """On a change, write only what the form changed: a delivery worker writes the rest."""
        if change:
            obj.save(update_fields=form.changed_data)
        else:
            obj.save()
