"""How the bearer token appears in the OpenAPI document: OAuth2 client credentials, with
each operation's required scopes taken from its view's `required_scopes`."""

from __future__ import annotations

from typing import Any

from drf_spectacular.extensions import OpenApiAuthenticationExtension

from tenants.choices import Scope


class BearerTokenScheme(OpenApiAuthenticationExtension):
    """Documents `BearerTokenAuthentication` as the `OAuth2` security scheme."""

    target_class = "tenants.authentication.BearerTokenAuthentication"
    name = "OAuth2"

    def get_security_definition(self, auto_schema: Any) -> dict[str, Any]:
        """The client-credentials flow against this service's token endpoint."""
        return {
            "type": "oauth2",
            "description": (
                "Client credentials at POST /oauth/token, or a token from "
                "`manage.py issue_token`. Send it as `Authorization: Bearer <token>`."
            ),
            "flows": {
                "clientCredentials": {
                    "tokenUrl": "/oauth/token",
                    "scopes": {scope.value: scope.label for scope in Scope},
                }
            },
        }

    def get_security_requirement(self, auto_schema: Any) -> list[dict[str, list[str]]]:
        """One requirement per accepted scope: OpenAPI reads separate entries as "either"."""
        view = auto_schema.view
        action = getattr(view, "action", None) or auto_schema.method.lower()
        scopes = getattr(view, "required_scopes", {}).get(action, ())
        return [{self.name: [scope]} for scope in scopes] or [{self.name: []}]
