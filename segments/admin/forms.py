"""Admin forms that save through the same service functions as the API.

`ServiceForm` runs its service call as the last step of validation, inside a savepoint:
whatever the service refuses (a stale version, an unknown customer, a language the tenant
does not allow) comes back as a form error on the page, and what it accepts is saved with
the same versions, timestamps and events as an API write. The admin's later `save_model`
then has nothing left to do. (So these forms must not sit beside inline formsets, whose
errors would come after the write.)
"""

from __future__ import annotations

from typing import Any

from django import forms
from django.db import transaction

from segmentservice.exceptions import ServiceError
from tenants.models import Tenant


class ServiceForm(forms.ModelForm):
    """A model form whose valid input is written by a service, not by `ModelForm.save`."""

    tenant_obj: Tenant | None = None  # set by the admin (the form's tenant)
    saved_by_service = False

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
        # validates, and its errors are shown like any other form error.
        if self.errors:
            return
        try:
            with transaction.atomic():
                saved = self.save_through_service()
        except ServiceError as error:
            self.add_error(None, error.message)
            return
        self.instance = saved
        self.saved_by_service = True


class ServiceFormAdminMixin:
    """For ModelAdmins with a `ServiceForm`: the form has saved already."""

    def save_model(self, request, obj, form, change: bool) -> None:
        """Nothing to do: the service wrote the row during validation."""
        if not getattr(form, "saved_by_service", False):
            super().save_model(request, obj, form, change)
