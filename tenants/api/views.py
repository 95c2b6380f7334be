"""The OAuth2 token endpoint."""

from __future__ import annotations

from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import exceptions
from rest_framework.parsers import FormParser
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from tenants.api.serializers import (
    OAuthErrorSerializer,
    TokenRequestSerializer,
    TokenResponseSerializer,
)
from tenants.api.throttles import (
    TokenAddressThrottle,
    TokenClientThrottle,
    token_request_credentials,
)
from tenants.exceptions import InvalidClient, InvalidScope
from tenants.services import client_credentials_grant

NO_STORE = {"Cache-Control": "no-store", "Pragma": "no-cache"}


def oauth_error(
    error: str, description: str, status: int, *, retry_after: int | None = None
) -> Response:
    """An RFC 6749 error response."""
    headers = dict(NO_STORE)
    if status == 401:
        headers["WWW-Authenticate"] = 'Basic realm="oauth"'
    if retry_after is not None:
        headers["Retry-After"] = str(retry_after)
    return Response(
        {"error": error, "error_description": description}, status=status, headers=headers
    )


class TokenView(APIView):
    """`POST /oauth/token`: exchange client credentials for a bearer token.

    Throttled per address and per client_id before the secret is hashed (each check costs
    about half a second of CPU), so a flood of guesses is refused cheaply.
    """

    authentication_classes: list = []
    permission_classes: list = []
    parser_classes = [FormParser]
    throttle_classes = [TokenAddressThrottle, TokenClientThrottle]

    @extend_schema(
        tags=["OAuth"],
        summary="Getting a service access token (client credentials)",
        request={"application/x-www-form-urlencoded": TokenRequestSerializer},
        responses={
            200: TokenResponseSerializer,
            400: OpenApiResponse(OAuthErrorSerializer, description="Bad grant or scope."),
            401: OpenApiResponse(OAuthErrorSerializer, description="Bad client credentials."),
            429: OpenApiResponse(
                OAuthErrorSerializer,
                description="Too many token requests from this address or for this client_id "
                "(`slow_down`); `Retry-After` says when to try again.",
            ),
        },
        auth=[],
    )
    def post(self, request: Request) -> Response:
        """Client credentials may come in the body or as HTTP Basic authentication."""
        data = request.data
        if data.get("grant_type") != "client_credentials":
            return oauth_error(
                "unsupported_grant_type", "Only grant_type=client_credentials is supported.", 400
            )
        client_id, client_secret = token_request_credentials(request)
        if not client_id or not client_secret:
            return oauth_error("invalid_client", "client_id and client_secret are required.", 401)
        try:
            grant = client_credentials_grant(
                client_id=client_id, client_secret=client_secret, scope=data.get("scope")
            )
        except InvalidClient:
            return oauth_error("invalid_client", "Client authentication failed.", 401)
        except InvalidScope as exc:
            return oauth_error("invalid_scope", exc.message, 400)
        body = {
            "access_token": grant.access_token,
            "token_type": "Bearer",
            "expires_in": grant.expires_in,
            "scope": " ".join(grant.scopes),
        }
        return Response(body, headers=NO_STORE)

    def handle_exception(self, exc: Exception) -> Response:
        """A throttled request answers in OAuth2's error shape, not the API's."""
        if isinstance(exc, exceptions.Throttled):
            wait = int(exc.wait or 1)
            return oauth_error(
                "slow_down",
                "Too many token requests from this address or for this client_id; "
                f"retry in {wait} seconds.",
                429,
                retry_after=wait,
            )
        return super().handle_exception(exc)
