"""Admin forms that save through the same service functions as the API.

Validating a `ServiceForm` writes nothing: the admin's `save_model` (called once the form
and any formsets are valid) writes the cleaned input with the service, so it is saved with
the same versions, timestamps and events as an API write. Whatever the service refuses (a
stale version, an unknown customer, a language the tenant does not allow) raises out of
the change view's transaction, which rolls the write back; the view then shows the posted
form again with the refusal as a form error.
"""

from __future__ import annotations

from typing import Any

from django import forms
from django.utils.html import format_html

from segmentservice.exceptions import ServiceError, VersionConflict
from tenants.models import Tenant


class ServiceForm(forms.ModelForm):
    """A model form whose valid input is written by a service, not by `ModelForm.save`."""

    tenant_obj: Tenant | None = None  # set by the admin (the form's tenant)
    refusal: str | None = None  # the service's refusal of this input, shown as a form error

    version = forms.IntegerField(widget=forms.HiddenInput, required=False)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        if self.instance.pk and "version" in self.fields:
            self.fields["version"].initial = self.instance.version

    def save_through_service(self) -> Any:
        """Write the cleaned input with the service; return the saved row."""
        raise NotImplementedError

    def _post_clean(self) -> None:
        # Replaces ModelForm's instance construction and model validation: the service
        # validates when the admin saves. A refusal it gave for this very input is shown.
        if self.refusal and not self.errors:
            self.add_error(None, self.refusal)


def conflict_message(request, obj) -> str:
    """A stale save in plain words, with a link to the stored version (the input stays here)."""
    return format_html(
        "Someone else saved {} while you were editing it (it is now at version {}), so your "
        'changes were not saved. They are still in the form below. <a href="{}" target="_blank" '
        'rel="noopener" class="conflict-reload">Open the current version</a> in a new tab to '
        "compare; then save again here to replace it with yours, or leave this page to keep "
        "theirs.",
        obj.quoted() if hasattr(obj, "quoted") else obj,
        obj.version,
        request.path,
    )


class _Refused(Exception):
    """The service refused a form's input while the admin saved it."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


_REFUSAL_ATTR = "_service_form_refusal"


class ServiceFormAdminMixin:
    """For ModelAdmins with a `ServiceForm`: `save_model` writes through the service."""

    def changeform_view(self, request, object_id=None, form_url="", extra_context=None):
        """The change view; after a refusal (its transaction rolled back) the form again."""
        view = super().changeform_view  # type: ignore[misc]
        try:
            return view(request, object_id, form_url, extra_context)
        except _Refused as refused:
            setattr(request, _REFUSAL_ATTR, refused.message)
            return view(request, object_id, form_url, extra_context)

    def get_form(self, request, obj=None, change=False, **kwargs):
        """The form; the one shown after a refusal carries it."""
        form = super().get_form(request, obj, change, **kwargs)  # type: ignore[misc]
        refusal = getattr(request, _REFUSAL_ATTR, None)
        if refusal is not None and issubclass(form, ServiceForm):
            # `ModelAdmin.get_form` makes a new class on every call: setting it is safe.
            form.refusal = refusal
        return form

    def save_model(self, request, obj, form, change: bool) -> None:
        """Write a `ServiceForm`'s input with its service; `obj` becomes the saved row."""
        if not isinstance(form, ServiceForm):
            super().save_model(request, obj, form, change)  # type: ignore[misc]
            return
        try:
            saved = form.save_through_service()
        except VersionConflict as error:
            if not change:
                raise _Refused(error.message) from error
            # Shown again with the input kept, and the version now stored: saving again
            # is a deliberate overwrite.
            request.POST = request.POST.copy()
            request.POST["version"] = str(obj.version)
            raise _Refused(conflict_message(request, obj)) from error
        except ServiceError as error:
            raise _Refused(error.message) from error
        # The admin goes on with `obj` (its log entry, the redirect): make it the saved row.
        for field in saved._meta.concrete_fields:
            setattr(obj, field.attname, getattr(saved, field.attname))
        obj._state.adding, obj._state.db = False, saved._state.db
        form.instance = obj
