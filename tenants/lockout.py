"""The page a locked-out admin login gets (django-axes calls `admin_lockout_response`)."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.http import HttpRequest, HttpResponse


def admin_lockout_response(
    request: HttpRequest, original_response: HttpResponse | None, credentials: Any
) -> HttpResponse:
    """429 with a plain message saying how long the cool-off lasts, and `Retry-After`."""
    seconds = int(settings.AXES_COOLOFF_TIME.total_seconds())
    minutes = max(1, round(seconds / 60))
    response = HttpResponse(
        f"Too many failed login attempts. Try again in {minutes} minute{'s' * (minutes != 1)}.",
        status=429,
        content_type="text/plain; charset=utf-8",
    )
    response["Retry-After"] = str(seconds)
    return response
