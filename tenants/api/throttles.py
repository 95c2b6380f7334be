"""DRF throttles: per API client on the tenant API, per client_id and address on `/oauth/token`.

Each counts fixed windows on Django's cache (`tenants.ratelimit`) at the rate its scope has
in `REST_FRAMEWORK["DEFAULT_THROTTLE_RATES"]` (settings `THROTTLE_*`); a scope without a
rate is not limited. DRF runs throttles after authentication and before the view, so a
refused token request costs no secret hashing.
"""

from __future__ import annotations

import base64
import binascii
from typing import Any
from urllib.parse import unquote

from rest_framework.request import Request
from rest_framework.throttling import BaseThrottle

from tenants.ratelimit import client_address, rate_hit, rate_of
from tenants.tokens import TokenClaims


class WindowRateThrottle(BaseThrottle):
    """Counts each request under `ident(request)`; None there means not counted."""

    scope = ""

    def ident(self, request: Request) -> str | None:
        """Whom this request is counted for."""
        raise NotImplementedError

    def allow_request(self, request: Request, view: Any) -> bool:
        """Count the request; refuse it once its window is full."""
        ident = self.ident(request)
        self.wait_seconds = (
            None
            if ident is None
            else rate_hit(scope=self.scope, ident=ident, rate=rate_of(self.scope))
        )
        return self.wait_seconds is None

    def wait(self) -> int | None:
        """Seconds until the window that refused the request ends."""
        return self.wait_seconds


class ApiClientRateThrottle(WindowRateThrottle):
    """Every authenticated API call, per tenant and token subject: one customer (customer
    tokens), else the API client, `issue_token` subject or external identity."""

    scope = "api_client"

    def ident(self, request: Request) -> str | None:
        """`acme customer c1` or `acme client acme-1f2e...`; None without a token."""
        claims = request.auth
        if not isinstance(claims, TokenClaims):
            return None
        if claims.is_customer:
            return f"{claims.tenant} customer {claims.customer_id}"
        return f"{claims.tenant} client {claims.client_id or claims.subject}"


class TokenAddressThrottle(WindowRateThrottle):
    """Token requests per caller address, whatever client_id they name."""

    scope = "token_address"

    def ident(self, request: Request) -> str | None:
        """The caller's address (see `client_address`)."""
        return client_address(request)


class TokenClientThrottle(WindowRateThrottle):
    """Token requests per client_id, from any address; failed and successful alike."""

    scope = "token_client"

    def ident(self, request: Request) -> str | None:
        """The client_id named in the body or the Basic credentials; None when none is."""
        client_id, _ = token_request_credentials(request)
        return client_id or None


def token_request_credentials(request: Request) -> tuple[str | None, str | None]:
    """(client_id, client_secret) from HTTP Basic authentication, else from the form body."""
    basic = _basic_credentials(request.META.get("HTTP_AUTHORIZATION", ""))
    if basic:
        return basic
    return request.data.get("client_id"), request.data.get("client_secret")


def _basic_credentials(header: str) -> tuple[str, str] | None:
    if not header.lower().startswith("basic "):
        return None
    try:
        decoded = base64.b64decode(header[6:].strip(), validate=True).decode("utf-8")
    except (binascii.Error, UnicodeDecodeError):
        return None
    client_id, sep, secret = decoded.partition(":")
    return (unquote(client_id), unquote(secret)) if sep else None
