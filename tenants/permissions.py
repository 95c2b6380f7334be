"""Scope checks: every endpoint names the scopes it needs, per action."""

from __future__ import annotations

from typing import Any

from rest_framework import permissions
from rest_framework.request import Request

from tenants.exceptions import MissingScope
from tenants.tokens import TokenClaims


class HasRequiredScopes(permissions.BasePermission):
    """Grants access when the token holds one of the scopes the view requires.

    A view declares `required_scopes`, a mapping from action name (or, for plain
    APIViews, the lower-case HTTP method) to the scopes any one of which suffices:

        required_scopes = {"list": READ_SCOPES, "create": MANAGE_SCOPES}

    An action the mapping does not name is refused: a forgotten entry fails closed. A token
    holding none of the scopes is refused with `MissingScope`, whose `details` carry one
    `missing scope: <scope>` per scope the operation accepts (the platform's client SDK reads
    them to tell the caller which scope to ask for).
    """

    message = "The access to the requested resource has been forbidden by the server."

    def has_permission(self, request: Request, view: Any) -> bool:
        """True when the token carries one of the scopes this action needs."""
        claims = request.auth
        if hasattr(view, "action_map") and view.action is None:
            # A method this route does not serve: let dispatch answer 405 to a caller with a
            # token; one without is a 401, as for any other request.
            return isinstance(claims, TokenClaims)
        if not isinstance(claims, TokenClaims):
            return False
        required = getattr(view, "required_scopes", None)
        if required is None:
            return False
        action = getattr(view, "action", None) or request.method.lower()
        needed = required.get(action)
        if needed is None:
            return False
        if not claims.scopes & set(needed):
            missing = sorted(needed)
            raise MissingScope(
                f"The token lacks the scope this operation needs: one of {', '.join(missing)}.",
                details=[f"missing scope: {scope}" for scope in missing],
            )
        return True
