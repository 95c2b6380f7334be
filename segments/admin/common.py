"""Pieces the segments admin classes share: localized form fields, filters, small displays."""

from __future__ import annotations

from typing import Any
from urllib.parse import parse_qsl

from django import forms
from django.contrib import admin
from django.db.models import Model, QuerySet
from django.http import HttpRequest
from django.urls import reverse
from django.utils.html import format_html

from tenants.models import Tenant

# --- localized values ---------------------------------------------------------------------------


def text_in(values: dict[str, str] | None, language: str) -> str:
    """The text of a localized map in `language`, else in its first language, else ''."""
    if not values:
        return ""
    if values.get(language):
        return values[language]
    return next((text for text in values.values() if text), "")


def tenant_languages(tenant: Tenant | None) -> list[str]:
    """The tenant's languages, default first."""
    if tenant is None:
        return ["en"]
    languages = list(tenant.languages or [tenant.default_language])
    if tenant.default_language in languages:
        languages.remove(tenant.default_language)
    return [tenant.default_language, *languages]


def localized_name(field: str, language: str) -> str:
    """The form field that edits `field` in `language`, e.g. `name_de`."""
    return f"{field}_{language}"


class LocalizedFormMixin:
    """A form editing JSON language → text maps as one input per allowed language.

    Subclasses list `localized = {"name": ("Name", forms.TextInput)}`; `localized_form`
    adds one field per language of the tenant (and per language the row still has texts
    in); an emptied input removes that language's text.
    """

    localized: dict[str, tuple[str, type[forms.Widget]]] = {}
    languages: list[str] = []
    required_localized: tuple[str, ...] = ()

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        instance = getattr(self, "instance", None)
        for field in self.localized:
            stored = self.stored_map(field, instance)
            for language in self.languages:
                self.fields[localized_name(field, language)].initial = stored.get(language, "")

    def stored_map(self, field: str, instance: Model | None) -> dict[str, str]:
        """The map as stored on the row (empty for a new row)."""
        if instance is None or instance._state.adding:
            return {}
        return dict(getattr(instance, field, None) or {})

    def localized_map(self, field: str) -> dict[str, str]:
        """The edited map: one entry per non-empty input, plus texts in other languages."""
        instance = getattr(self, "instance", None)
        values = {
            lang: text
            for lang, text in self.stored_map(field, instance).items()
            if lang not in self.languages
        }
        for language in self.languages:
            text = (self.cleaned_data.get(localized_name(field, language)) or "").strip()
            if text:
                values[language] = text
        return values

    def clean(self) -> dict[str, Any]:
        """A required localized field needs a text in at least one language."""
        cleaned = super().clean()
        for field in self.required_localized:
            if not self.localized_map(field):
                label = self.localized[field][0]
                self.add_error(
                    localized_name(field, self.languages[0]),
                    f"{label} is required in at least one language.",
                )
        return cleaned


def form_languages(
    base: type[forms.BaseForm], tenant: Tenant | None, obj: Model | None
) -> tuple[list[str], list[str]]:
    """The tenant's languages, and those the row has texts in that the tenant no longer allows.

    The latter are shown too, so that no text is lost unseen: the merchandiser clears them
    (the API refuses languages a tenant does not allow, and so does the admin).
    """
    allowed = tenant_languages(tenant)
    stored = set()
    for field in getattr(base, "localized", {}):
        stored.update((getattr(obj, field, None) or {}) if obj is not None else {})
    return allowed, sorted(stored - set(allowed))


def localized_form(
    base: type[forms.BaseForm], tenant: Tenant | None, obj: Model | None = None
) -> type[forms.BaseForm]:
    """`base` (a LocalizedFormMixin form) with one field per language of `tenant`."""
    allowed, retired = form_languages(base, tenant, obj)
    attrs: dict[str, Any] = {"languages": allowed + retired, "__module__": base.__module__}
    for field, (label, widget) in base.localized.items():
        for language in allowed + retired:
            attrs[localized_name(field, language)] = forms.CharField(
                label=f"{label} ({language})",
                required=False,
                widget=widget(attrs={"lang": language, **_widget_size(widget)}),
                help_text=(
                    f"{language} is no longer one of the tenant's languages; clear this to save."
                    if language in retired
                    else ""
                ),
            )
    return type(base.__name__, (base,), attrs)


def localized_field_names(
    base: type[forms.BaseForm], tenant: Tenant | None, obj: Model | None = None
) -> list[str]:
    """The names `localized_form` adds, in display order (field by field, language by language)."""
    allowed, retired = form_languages(base, tenant, obj)
    return [localized_name(field, lang) for field in base.localized for lang in allowed + retired]


def _widget_size(widget: type[forms.Widget]) -> dict[str, str]:
    return {"rows": "2", "cols": "60"} if widget is forms.Textarea else {"size": "60"}


class JSONObjectField(forms.JSONField):
    """A JSON field that only accepts an object (mixins are maps of attributes)."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("required", False)
        kwargs.setdefault("widget", forms.Textarea(attrs={"rows": 4, "cols": 60}))
        super().__init__(*args, **kwargs)

    def prepare_value(self, value: Any) -> Any:
        """An empty object (or none) shows as an empty box, not `{}` or `null`."""
        if value in (None, {}):
            return ""
        return super().prepare_value(value)

    def to_python(self, value: Any) -> Any:
        """Parse, then insist on an object; empty input is `{}`."""
        if value in self.empty_values:
            return {}
        parsed = super().to_python(value)
        if parsed is None:
            return {}
        if not isinstance(parsed, dict):
            raise forms.ValidationError('Enter a JSON object, like {"key": "value"}.')
        return parsed


# --- filters ---------------------------------------------------------------------------------


class ChosenObjectFilter(admin.SimpleListFilter):
    """A filter on one related row, set by links (e.g. a segment's "customers" link).

    Offering every row as a choice would load a whole table, so the sidebar only shows the
    chosen row (one query) and a way back to all.
    """

    related_model: type[Model]
    field: str

    def lookups(self, request: HttpRequest, model_admin: Any) -> list[tuple[str, str]]:
        """Only the chosen row, when one is chosen."""
        value = self.value()
        if not value or not str(value).isdigit():
            return []
        row = model_admin.scoped_related(request, self.related_model).filter(pk=value).first()
        return [(str(value), str(row) if row else f"#{value} (not visible)")]

    def queryset(self, request: HttpRequest, queryset: QuerySet) -> QuerySet:
        """Rows of the chosen related row."""
        value = self.value()
        if not value:
            return queryset
        if not str(value).isdigit():
            return queryset.none()
        return queryset.filter(**{f"{self.field}_id": value})


def changelist_param(request: HttpRequest, name: str) -> str | None:
    """A GET parameter, or the same parameter of the changelist the user came from."""
    value = request.GET.get(name)
    if value:
        return value
    return dict(parse_qsl(request.GET.get("_changelist_filters", ""))).get(name) or None


# --- displays --------------------------------------------------------------------------------


def changelist_link(model: type[Model], text: Any, **params: Any) -> str:
    """A link to a model's changelist with filter parameters."""
    opts = model._meta
    url = reverse(f"admin:{opts.app_label}_{opts.model_name}_changelist")
    query = "&".join(f"{key}={value}" for key, value in params.items())
    return format_html('<a href="{}?{}">{}</a>', url, query, text)


def change_link(row: Model, text: Any = None) -> str:
    """A link to a row's change form."""
    opts = row._meta
    url = reverse(f"admin:{opts.app_label}_{opts.model_name}_change", args=[row.pk])
    return format_html('<a href="{}">{}</a>', url, text if text is not None else row)
