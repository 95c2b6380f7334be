"""Signed bearer tokens: what they carry, how they are issued and how they are read.

Tokens are JWTs signed with HS256 and `TOKEN_SIGNING_KEY`. When an external identity
provider is configured, its tokens (RS256/ES256, keys from its JWKS URL) are accepted too,
with the same claims.

Claims: `iss`, `sub`, `iat`, `exp`, `jti`, `tenant`, `scope` (space-separated) and,
for a customer token, `customerId` and optionally `legalEntityId`.
"""

from __future__ import annotations

import functools
import secrets
import time
from dataclasses import dataclass

import jwt
from django.conf import settings

from tenants.exceptions import InvalidToken

ALGORITHM = "HS256"


@dataclass(frozen=True)
class TokenClaims:
    """What an accepted token says about its bearer."""

    tenant: str
    scopes: frozenset[str]
    expires_at: int
    subject: str = ""
    customer_id: str | None = None
    legal_entity_id: str | None = None

    @property
    def is_customer(self) -> bool:
        """Whether the token speaks for one customer."""
        return self.customer_id is not None

    # DRF's IsAuthenticated-style checks look for these on request.user.
    is_authenticated = True


def token_issue(
    *,
    tenant: str,
    scopes: list[str] | tuple[str, ...],
    ttl_seconds: int | None = None,
    subject: str = "",
    customer_id: str | None = None,
    legal_entity_id: str | None = None,
) -> tuple[str, int]:
    """Sign a token; returns the token and its lifetime in seconds."""
    ttl = settings.TOKEN_DEFAULT_TTL_SECONDS if ttl_seconds is None else ttl_seconds
    if not 1 <= ttl <= settings.TOKEN_MAX_TTL_SECONDS:
        raise ValueError(
            f"A token lives between 1 and {settings.TOKEN_MAX_TTL_SECONDS} seconds, not {ttl}."
        )
    now = int(time.time())
    claims: dict[str, object] = {
        "iss": settings.TOKEN_ISSUER,
        "sub": subject or tenant,
        "iat": now,
        "exp": now + ttl,
        "jti": secrets.token_hex(8),
        "tenant": tenant,
        "scope": " ".join(scopes),
    }
    if customer_id is not None:
        claims["customerId"] = customer_id
    if legal_entity_id is not None:
        claims["legalEntityId"] = legal_entity_id
    return jwt.encode(claims, settings.TOKEN_SIGNING_KEY, algorithm=ALGORITHM), ttl


# What PyJWT lets through from a token it cannot read: a header or payload nested past the
# JSON decoder's recursion limit, or a time claim such as `"exp": 1e400`, which decodes to
# infinity and has no integer value.
_UNREADABLE = (RecursionError, OverflowError, ValueError, TypeError)


def token_decode(raw: str) -> TokenClaims:
    """Verify a token and return its claims; raises InvalidToken on any defect."""
    try:
        header = jwt.get_unverified_header(raw)
        unverified = jwt.decode(raw, options={"verify_signature": False})
    except (jwt.PyJWTError, *_UNREADABLE) as exc:
        raise InvalidToken(f"Malformed token: {exc}") from exc
    issuer = unverified.get("iss")
    try:
        if settings.EXTERNAL_TOKEN_ISSUER and issuer == settings.EXTERNAL_TOKEN_ISSUER:
            key = _jwks_client(settings.EXTERNAL_TOKEN_JWKS_URL).get_signing_key_from_jwt(raw)
            payload = jwt.decode(
                raw,
                key.key,
                algorithms=["RS256", "ES256", "PS256"],
                issuer=settings.EXTERNAL_TOKEN_ISSUER,
                audience=settings.EXTERNAL_TOKEN_AUDIENCE or None,
                options={"require": ["exp", "iss"]},
            )
        else:
            if header.get("alg") != ALGORITHM:
                raise InvalidToken("Unexpected signing algorithm.")
            payload = jwt.decode(
                raw,
                settings.TOKEN_SIGNING_KEY,
                algorithms=[ALGORITHM],
                issuer=settings.TOKEN_ISSUER,
                options={"require": ["exp", "iss", "tenant"]},
            )
    except (jwt.PyJWTError, *_UNREADABLE) as exc:
        raise InvalidToken(str(exc)) from exc
    return _claims_from_payload(payload)


def _claims_from_payload(payload: dict) -> TokenClaims:
    tenant = payload.get("tenant")
    scope = payload.get("scope", payload.get("scp", ""))
    if isinstance(scope, list):
        scope = " ".join(map(str, scope))
    if not isinstance(tenant, str) or not isinstance(scope, str):
        raise InvalidToken("The token does not name a tenant and scopes.")
    customer_id = payload.get("customerId")
    legal_entity_id = payload.get("legalEntityId")
    return TokenClaims(
        tenant=tenant,
        scopes=frozenset(scope.split()),
        expires_at=int(payload["exp"]),
        subject=str(payload.get("sub", "")),
        customer_id=str(customer_id) if customer_id is not None else None,
        legal_entity_id=str(legal_entity_id) if legal_entity_id is not None else None,
    )


@functools.cache
def _jwks_client(url: str) -> jwt.PyJWKClient:
    # One client per URL keeps the fetched keys cached across requests.
    return jwt.PyJWKClient(url, cache_keys=True, lifespan=300)
