"""Signed bearer tokens: what they carry, how they are issued and how they are read.

Tokens are JWTs signed with HS256 and `TOKEN_SIGNING_KEY`. When an external identity
provider is configured, its tokens (RS256/ES256, keys from its JWKS URL) are accepted too,
with the same claims.

Claims: `iss`, `sub`, `iat`, `exp`, `jti`, `tenant`, `scope` (space-separated),
`client_id` for a token granted to an API client (RFC 9068) and, for a customer token,
`customerId` and optionally `legalEntityId`.
"""

from __future__ import annotations

import functools
import hashlib
import logging
import re
import secrets
import threading
import time
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import jwt
from django.conf import settings
from django.core.cache import cache

from tenants.exceptions import InvalidToken

ALGORITHM = "HS256"

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class TokenClaims:
    """What an accepted token says about its bearer."""

    tenant: str
    scopes: frozenset[str]
    expires_at: int
    subject: str = ""
    customer_id: str | None = None
    legal_entity_id: str | None = None
    # The API client the token was granted to (`/oauth/token`), for the revocation check.
    client_id: str | None = None

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
    client_id: str | None = None,
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
    if client_id is not None:
        claims["client_id"] = client_id
    if customer_id is not None:
        claims["customerId"] = customer_id
    if legal_entity_id is not None:
        claims["legalEntityId"] = legal_entity_id
    return jwt.encode(claims, settings.TOKEN_SIGNING_KEY, algorithm=ALGORITHM), ttl


# What PyJWT lets through from a token it cannot read: a header or payload nested past the
# JSON decoder's recursion limit, or a time claim such as `"exp": 1e400`, which decodes to
# infinity and has no integer value.
_UNREADABLE = (RecursionError, OverflowError, ValueError, TypeError)


# Tokens of ours this worker has verified, by the raw token and the settings that verified
# it (a new signing key, issuer or lifetime limit verifies afresh): verifying (base64 and
# JSON twice, the HMAC, the claims) was an eighth of a 304 revalidation's CPU, for a token a
# storefront sends on every page view. Only what the signature proved is kept: the expiry is
# checked again on every use, and the API client's revocation is checked outside, on every
# request (tenants.authentication). Tokens of an external issuer are not kept: its key set
# can drop a key at any time. Bounded, least recently used first out.
VERIFIED_TOKENS_MAX = 1024
_verified: OrderedDict[tuple[str, tuple[object, ...]], TokenClaims] = OrderedDict()
_verified_lock = threading.Lock()


def _verifying_settings() -> tuple[object, ...]:
    return (
        settings.TOKEN_SIGNING_KEY,
        settings.TOKEN_ISSUER,
        settings.TOKEN_MAX_TTL_SECONDS,
        settings.EXTERNAL_TOKEN_ISSUER,
    )


def token_decode(raw: str) -> TokenClaims:
    """Verify a token and return its claims; raises InvalidToken on any defect.

    A token of ours verified before by this worker under the same settings is not verified
    again while it has not expired (the expiry as PyJWT checks it: `exp` after now).
    """
    key = (raw, _verifying_settings())
    with _verified_lock:
        claims = _verified.get(key)
        if claims is not None:
            if claims.expires_at > time.time():
                _verified.move_to_end(key)
                return claims
            del _verified[key]  # expired: verified again below, which refuses it
    claims, external = _token_verify(raw)
    if not external:
        with _verified_lock:
            _verified[key] = claims
            while len(_verified) > VERIFIED_TOKENS_MAX:
                _verified.popitem(last=False)
    return claims


def verified_tokens_forget() -> None:
    """Forget every verified token (tests; a worker never needs it)."""
    with _verified_lock:
        _verified.clear()


def _token_verify(raw: str) -> tuple[TokenClaims, bool]:
    """Verify a token: its claims, and whether an external issuer signed it."""
    try:
        header = jwt.get_unverified_header(raw)
        unverified = jwt.decode(raw, options={"verify_signature": False})
    except (jwt.PyJWTError, *_UNREADABLE) as exc:
        raise InvalidToken(f"Malformed token: {exc}") from exc
    issuer = unverified.get("iss")
    external = bool(settings.EXTERNAL_TOKEN_ISSUER) and issuer == settings.EXTERNAL_TOKEN_ISSUER
    try:
        if external:
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
    _check_expiry(payload["exp"], local=not external)
    return _claims_from_payload(payload, local=not external), external


# The last second a datetime can hold (9999-12-31T23:59:59Z): an `exp` past it, such as
# 10**500, is an integer PyJWT compares happily and finds later than any now.
LAST_INSTANT = 253402300799
# How far the clocks of the hosts that issue and read our tokens may disagree.
CLOCK_SKEW_SECONDS = 60


def _check_expiry(exp: Any, *, local: bool) -> None:
    """Refuse a token that would (all but) never expire.

    Any token's `exp` must be an instant a datetime can hold; ours are issued for at most
    TOKEN_MAX_TTL_SECONDS, so one of ours expiring later than that from now was not
    issued here (or by a configuration that allowed longer lives, and is refused now).
    """
    latest = LAST_INSTANT
    if local:
        latest = int(time.time()) + settings.TOKEN_MAX_TTL_SECONDS + CLOCK_SKEW_SECONDS
    if exp > latest:
        raise InvalidToken("The token expires too far in the future.")


def _claims_from_payload(payload: dict, *, local: bool) -> TokenClaims:
    tenant = payload.get("tenant")
    scope = payload.get("scope", payload.get("scp", ""))
    if isinstance(scope, list):
        scope = " ".join(map(str, scope))
    if not isinstance(tenant, str) or not isinstance(scope, str):
        raise InvalidToken("The token does not name a tenant and scopes.")
    customer_id = payload.get("customerId")
    legal_entity_id = payload.get("legalEntityId")
    subject = str(payload.get("sub", ""))
    return TokenClaims(
        tenant=tenant,
        scopes=frozenset(scope.split()),
        expires_at=int(payload["exp"]),
        subject=subject,
        customer_id=str(customer_id) if customer_id is not None else None,
        legal_entity_id=str(legal_entity_id) if legal_entity_id is not None else None,
        client_id=_client_id(payload, tenant=tenant, subject=subject) if local else None,
    )


def _client_id(payload: dict, *, tenant: str, subject: str) -> str | None:
    """The API client a token of ours was granted to, or None (`issue_token` tokens)."""
    client_id = payload.get("client_id")
    if isinstance(client_id, str):
        return client_id
    # Tokens granted before they carried `client_id` have the client as their subject.
    if re.fullmatch(rf"{re.escape(tenant)}-[0-9a-f]{{16}}", subject):
        return subject
    return None


class JwksClient(jwt.PyJWKClient):
    """An external issuer's keys, fetched from its JWKS URL and kept for five minutes.

    A token naming a key id the kept keys lack makes PyJWT refetch them at once; with
    made-up key ids every request would fetch. Here a refetch happens at most once per
    `EXTERNAL_TOKEN_JWKS_REFETCH_SECONDS` per URL, counted in the shared cache, and the
    keys fetched are left there for the other workers, which take a rotated-in key from
    there without fetching it themselves.
    """

    def __init__(self, uri: str) -> None:
        # A JWKS URL that does not answer holds a request at most this long.
        super().__init__(uri, cache_keys=True, lifespan=300, timeout=5)
        digest = hashlib.sha256(uri.encode()).hexdigest()[:32]
        self._shared_keys = f"jwks:keys:{digest}"
        self._refetched = f"jwks:refetched:{digest}"

    def fetch_data(self) -> Any:
        """Fetch the key set, and leave it in the shared cache for the other workers."""
        data = super().fetch_data()
        _cache_call(cache.set, self._shared_keys, data, timeout=300)
        return data

    def get_signing_key(self, kid: str) -> jwt.PyJWK:
        """The key `kid`, from the kept keys, another worker's or (rate-limited) a refetch."""
        key = self.match_kid(self.get_signing_keys(), kid)
        if key is None:
            key = self._shared_key(kid)
        if key is None and _cache_call(
            cache.add, self._refetched, 1, timeout=settings.EXTERNAL_TOKEN_JWKS_REFETCH_SECONDS
        ):
            key = self.match_kid(self.get_signing_keys(refresh=True), kid)
        if key is None:
            raise jwt.PyJWKClientError(f"Unable to find a signing key that matches: {kid!r}")
        return key

    def _shared_key(self, kid: str) -> jwt.PyJWK | None:
        data = _cache_call(cache.get, self._shared_keys)
        if not isinstance(data, dict):
            return None
        try:
            keys = jwt.PyJWKSet.from_dict(data).keys
        except jwt.PyJWTError:
            return None
        key = self.match_kid([k for k in keys if k.public_key_use in ("sig", None)], kid)
        if key is not None and self.jwk_set_cache is not None:
            self.jwk_set_cache.put(data)
        return key


def _cache_call(method: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
    # Without the cache, keys are still fetched and kept per worker; refetches stop.
    try:
        return method(*args, **kwargs)
    except Exception:
        logger.warning("The cache did not answer for the external issuer's keys.", exc_info=True)
        return None


@functools.cache
def _jwks_client(url: str) -> JwksClient:
    # One client per URL keeps the fetched keys across requests.
    return JwksClient(url)
