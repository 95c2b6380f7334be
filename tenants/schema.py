"""How the bearer token appears in the OpenAPI document: OAuth2 client credentials, with
each operation's required scopes taken from its view's `required_scopes`, or a ready bearer
token (what `manage.py issue_token` and `dev.py serve` print) pasted into Swagger UI."""

from __future__ import annotations

from typing import Any

from drf_spectacular.extensions import OpenApiAuthenticationExtension

from tenants.choices import Scope


class BearerTokenScheme(OpenApiAuthenticationExtension):
    """Documents `BearerTokenAuthentication` as two security schemes, either of which works:
    `OAuth2` (client credentials) and `BearerToken` (a token at hand)."""

    target_class = "tenants.authentication.BearerTokenAuthentication"
    name = ["OAuth2", "BearerToken"]

    def get_security_definition(self, auto_schema: Any) -> list[dict[str, Any]]:
        """The client-credentials flow against this service's token endpoint, and plain bearer."""
        return [
            {
                "type": "oauth2",
                "description": (
                    "Client credentials at POST /oauth/token. Send the token as "
                    "`Authorization: Bearer <token>`."
                ),
                "flows": {
                    "clientCredentials": {
                        "tokenUrl": "/oauth/token",
                        "scopes": {scope.value: scope.label for scope in Scope},
                    }
                },
            },
            {
                "type": "http",
                "scheme": "bearer",
                "bearerFormat": "JWT",
                "description": (
                    "A ready token, e.g. the one `python3 dev.py serve` or "
                    "`manage.py issue_token` prints; paste it without the `Bearer ` prefix. "
                    "It needs the scopes the operation lists under OAuth2."
                ),
            },
        ]

    def get_security_requirement(self, auto_schema: Any) -> list[dict[str, list[str]]]:
        """One requirement per accepted scope, then the plain bearer token: OpenAPI reads
        separate entries as "either"."""
        view = auto_schema.view
        action = getattr(view, "action", None) or auto_schema.method.lower()
        scopes = getattr(view, "required_scopes", {}).get(action, ())
        oauth2, bearer = self.name
        return [*({oauth2: [scope]} for scope in scopes), {bearer: []}]
