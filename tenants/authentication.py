"""DRF authentication by bearer token."""

from __future__ import annotations

from rest_framework import authentication, exceptions
from rest_framework.request import Request

from tenants.exceptions import InvalidToken
from tenants.selectors import api_client_is_active
from tenants.tokens import TokenClaims, token_decode


class BearerTokenAuthentication(authentication.BaseAuthentication):
    """Reads `Authorization: Bearer <token>`; `request.auth` becomes the TokenClaims.

    A token granted to an API client that has since been revoked or deleted is refused.
    """

    keyword = "bearer"

    def authenticate(self, request: Request) -> tuple[TokenClaims, TokenClaims] | None:
        """Return (claims, claims) for a valid token, None when there is no header."""
        header = request.META.get("HTTP_AUTHORIZATION", "")
        if not header:
            return None
        parts = header.split()
        if len(parts) != 2 or parts[0].lower() != self.keyword:
            raise exceptions.AuthenticationFailed("Invalid access token")
        try:
            claims = token_decode(parts[1])
        except InvalidToken as exc:
            raise exceptions.AuthenticationFailed(exc.message) from exc
        if claims.client_id is not None and not api_client_is_active(client_id=claims.client_id):
            raise exceptions.AuthenticationFailed("The token's API client has been revoked.")
        return claims, claims

    def authenticate_header(self, request: Request) -> str:
        """Makes DRF answer 401 (not 403) when no token was sent."""
        return "Bearer"
