"""Reads on PostgreSQL streaming replicas, writes and transactions on the primary.

`DATABASE_REPLICA_URLS` names hot standbys of the primary (`DATABASE_URL`); settings make
them the aliases `replica1`, `replica2`, ... and `PrimaryReplicaRouter` decides per query:

- writes, migrations, everything inside `transaction.atomic` (so `select_for_update` and
  every service) and every read outside a web request (commands, workers, the shell) use
  the primary;
- the control plane (tenants, API clients, users, sessions) is read from the primary, so a
  tenant or API client made a moment ago is found at once;
- the other reads of a web request go to one replica, the same for the whole request,
  unless the client wrote recently: **read-your-writes**. A request that writes pins its
  client, the API client of its token (tenant and `sub`) or its admin session, for
  `DATABASE_READ_YOUR_WRITES_SECONDS` in Django's default cache, which every web node
  shares; a pinned client reads from the primary, and so does the rest of the writing
  request itself.

Other clients may read data as old as the replicas' replay lag; docs/replicas.md gives the
bound and how to watch it. Tests read the primary: the test runner makes each replica a
TEST MIRROR of the test database, which the router recognises and skips.
"""

from __future__ import annotations

import hashlib
import logging
import random
import re
from collections.abc import Callable
from contextvars import ContextVar
from dataclasses import dataclass, field

import jwt
from django.conf import settings
from django.core.cache import caches
from django.core.exceptions import MiddlewareNotUsed
from django.db import DEFAULT_DB_ALIAS, connections, router
from django.db.backends.base.base import BaseDatabaseWrapper
from django.db.models import Model
from django.http import HttpRequest, HttpResponse

logger = logging.getLogger(__name__)

# Apps whose rows are read from the primary: small, rarely read, and a stale answer would
# refuse a new API client, tenant or session.
PRIMARY_APPS = frozenset({"tenants", "auth", "sessions", "contenttypes", "admin"})

CACHE_KEY_PREFIX = "ryw:"

# The first keyword of a statement that changes data or schema.
_WRITE_VERBS = frozenset(
    {"INSERT", "UPDATE", "DELETE", "MERGE", "COPY", "TRUNCATE", "CREATE", "ALTER", "DROP"}
)
_FIRST_WORD = re.compile(r"\s*(\w+)")
_DATA_VERB = re.compile(r"\b(INSERT|UPDATE|DELETE|MERGE)\b", re.IGNORECASE)


@dataclass
class RequestRouting:
    """Where the reads of the web request being served go."""

    token_keys: list[str] = field(default_factory=list)  # cache keys of the API client
    pinned: bool = False  # the client wrote recently: read from the primary
    wrote: bool = False  # this request wrote
    replica: str | None = None  # the replica chosen for this request's reads

    @property
    def on_primary(self) -> bool:
        """Whether this request's reads go to the primary."""
        return self.pinned or self.wrote


_routing: ContextVar[RequestRouting | None] = ContextVar("request_routing", default=None)


def replica_aliases() -> tuple[str, ...]:
    """The replicas that serve reads now: none under the test runner (see `is_test_mirror`)."""
    return tuple(
        alias
        for alias in settings.DATABASE_REPLICA_ALIASES
        if not is_test_mirror(connections[alias].settings_dict)
    )


def is_test_mirror(params: dict) -> bool:
    """Whether the test runner has made these replica settings a mirror of the test database.

    It does so by renaming the database in the settings every thread's connection is made
    from, so the name no longer is the one settings put aside in `REPLICA_NAME`.
    """
    return params["NAME"] != params.get("REPLICA_NAME", params["NAME"])


def is_write(sql: str) -> bool:
    """Whether a statement changes data (`WITH ... INSERT` too); reads and locks do not."""
    match = _FIRST_WORD.match(sql)
    if match is None:
        return False
    verb = match.group(1).upper()
    if verb == "WITH":
        return _DATA_VERB.search(sql) is not None
    return verb in _WRITE_VERBS


class PrimaryReplicaRouter:
    """Django database router: see the module docstring for the rules."""

    def db_for_read(self, model: type[Model], **hints) -> str | None:
        """A replica for a web request's read outside a transaction, else the primary."""
        if not settings.DATABASE_REPLICA_ALIASES:
            return None
        routing = _routing.get()
        if (
            routing is None
            or routing.on_primary
            or model._meta.app_label in PRIMARY_APPS
            or connections[DEFAULT_DB_ALIAS].in_atomic_block
        ):
            return DEFAULT_DB_ALIAS
        if routing.replica is None:
            replicas = replica_aliases()
            # One replica per request: two replicas may lag by different amounts.
            routing.replica = random.choice(replicas) if replicas else DEFAULT_DB_ALIAS
        return routing.replica

    def db_for_write(self, model: type[Model], **hints) -> str:
        """Always the primary: replicas are read-only."""
        return DEFAULT_DB_ALIAS

    def allow_relation(self, obj1: Model, obj2: Model, **hints) -> bool | None:
        """Rows read from a replica and from the primary are the same rows."""
        databases = {DEFAULT_DB_ALIAS, *settings.DATABASE_REPLICA_ALIASES}
        if obj1._state.db in databases and obj2._state.db in databases:
            return True
        return None

    def allow_migrate(self, db: str, app_label: str, **hints) -> bool | None:
        """Migrations run on the primary only; replicas receive them through replication."""
        if db in settings.DATABASE_REPLICA_ALIASES:
            return False
        return None


def read_connection(model: type[Model]) -> BaseDatabaseWrapper:
    """The connection a raw SQL read of `model`'s table goes to (`connection.cursor()`
    always goes to the primary)."""
    return connections[router.db_for_read(model) or DEFAULT_DB_ALIAS]


class ReadYourWritesMiddleware:
    """Marks a web request so its reads may go to a replica, and pins clients that write.

    Not loaded without replicas. One cache read per request (only when it names a client)
    and one cache write after a request that wrote.
    """

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        if not settings.DATABASE_REPLICA_ALIASES:
            raise MiddlewareNotUsed()
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        routing = RequestRouting(token_keys=_token_keys(request))
        routing.pinned = _is_pinned([*routing.token_keys, *_session_keys(request, after=False)])
        token = _routing.set(routing)
        try:
            with connections[DEFAULT_DB_ALIAS].execute_wrapper(_WriteWatcher(routing)):
                response = self.get_response(request)
        finally:
            _routing.reset(token)
        if routing.wrote:
            # The session may have a new key now (a login cycles it): pin that one.
            _pin([*routing.token_keys, *_session_keys(request, after=True)])
        return response


class _WriteWatcher:
    """An execute wrapper on the primary that notes the first statement that writes."""

    def __init__(self, routing: RequestRouting) -> None:
        self.routing = routing

    def __call__(self, execute, sql, params, many, context):
        if not self.routing.wrote and is_write(sql):
            self.routing.wrote = True
        return execute(sql, params, many, context)


def _token_keys(request: HttpRequest) -> list[str]:
    """The API client a bearer token speaks for: its tenant and subject.

    Read without checking the signature: it only decides where this request reads, and
    authentication checks the token before any data is read. A pin is set only after a
    request wrote, which takes a valid token.
    """
    scheme, _, raw = request.META.get("HTTP_AUTHORIZATION", "").partition(" ")
    if scheme.lower() != "bearer" or not raw.strip():
        return []
    try:
        claims = jwt.decode(raw.strip(), options={"verify_signature": False})
    except jwt.PyJWTError:
        return []
    if not isinstance(claims, dict):
        return []
    return [_cache_key("api", str(claims.get("tenant")), str(claims.get("sub")))]


def _session_keys(request: HttpRequest, *, after: bool) -> list[str]:
    session_key = None
    if after and hasattr(request, "session"):
        session_key = request.session.session_key
    if session_key is None:
        session_key = request.COOKIES.get(settings.SESSION_COOKIE_NAME)
    return [_cache_key("session", session_key)] if session_key else []


def _cache_key(*parts: str) -> str:
    # Hashed: cache keys have a length and character limit, and a session key is a secret.
    digest = hashlib.blake2b("\x00".join(parts).encode(), digest_size=16).hexdigest()
    return CACHE_KEY_PREFIX + digest


def _is_pinned(keys: list[str]) -> bool:
    if not keys:
        return False
    try:
        return bool(caches["default"].get_many(keys))
    except Exception:  # a cache outage must not fail requests: read the primary instead
        logger.warning("Read-your-writes cache unavailable; reading from the primary.")
        return True


def _pin(keys: list[str]) -> None:
    seconds = settings.DATABASE_READ_YOUR_WRITES_SECONDS
    if not keys or seconds <= 0:
        return
    try:
        caches["default"].set_many(dict.fromkeys(keys, 1), timeout=seconds)
    except Exception:  # the client may then read its write late; say so, never fail it
        logger.warning("Read-your-writes cache unavailable; a client was not pinned.")
