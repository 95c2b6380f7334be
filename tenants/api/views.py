"""The OAuth2 token endpoint."""

from __future__ import annotations

import base64
import binascii
from urllib.parse import unquote

from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework.parsers import FormParser
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from tenants.api.serializers import (
    OAuthErrorSerializer,
    TokenRequestSerializer,
    TokenResponseSerializer,
)
from tenants.exceptions import InvalidClient, InvalidScope
from tenants.services import client_credentials_grant

NO_STORE = {"Cache-Control": "no-store", "Pragma": "no-cache"}


def oauth_error(error: str, description: str, status: int) -> Response:
    """An RFC 6749 error response."""
    headers = dict(NO_STORE)
    if status == 401:
        headers["WWW-Authenticate"] = 'Basic realm="oauth"'
    return Response(
        {"error": error, "error_description": description}, status=status, headers=headers
    )


class TokenView(APIView):
    """`POST /oauth/token`: exchange client credentials for a bearer token."""

    authentication_classes: list = []
    permission_classes: list = []
    parser_classes = [FormParser]

    @extend_schema(
        tags=["OAuth"],
        summary="Getting a service access token (client credentials)",
        request={"application/x-www-form-urlencoded": TokenRequestSerializer},
        responses={
            200: TokenResponseSerializer,
            400: OpenApiResponse(OAuthErrorSerializer, description="Bad grant or scope."),
            401: OpenApiResponse(OAuthErrorSerializer, description="Bad client credentials."),
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
        client_id, client_secret = data.get("client_id"), data.get("client_secret")
        basic = _basic_credentials(request.META.get("HTTP_AUTHORIZATION", ""))
        if basic:
            client_id, client_secret = basic
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


def _basic_credentials(header: str) -> tuple[str, str] | None:
    if not header.lower().startswith("basic "):
        return None
    try:
        decoded = base64.b64decode(header[6:].strip(), validate=True).decode("utf-8")
    except (binascii.Error, UnicodeDecodeError):
        return None
    client_id, sep, secret = decoded.partition(":")
    return (unquote(client_id), unquote(secret)) if sep else None
