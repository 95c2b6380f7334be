"""Settings for the Customer Segment Service, read from the environment.

Every value can be set in the environment or in a `.env` file beside `manage.py`;
`.env.example` lists them all. Required values fail fast with `ImproperlyConfigured`.
"""

import re
from datetime import timedelta
from pathlib import Path

import environ
from django.core.exceptions import ImproperlyConfigured

BASE_DIR = Path(__file__).resolve().parent.parent

env = environ.Env()
environ.Env.read_env(BASE_DIR / ".env")

DEBUG = env.bool("DEBUG", default=False)

SECRET_KEY = env.str("SECRET_KEY", default="")
if not SECRET_KEY:
    raise ImproperlyConfigured(
        "SECRET_KEY is not set: put it in the environment or in .env (see .env.example)."
    )

ALLOWED_HOSTS = env.list("ALLOWED_HOSTS", default=["localhost", "127.0.0.1", "[::1]"])
CSRF_TRUSTED_ORIGINS = env.list("CSRF_TRUSTED_ORIGINS", default=[])

# --- CORS (django-cors-headers) ------------------------------------------------------------
# Browsers (storefronts, the management dashboard) call the API from other origins. The
# origins allowed: a comma-separated list such as https://shop.example.com, or `*` for any;
# none by default (`dev.py serve` passes `*`). Only the API and the token endpoint answer
# CORS, never the admin. A preflight OPTIONS is answered by the middleware, before any token
# check. Bearer tokens travel in a header, not a cookie, so credentials are not allowed.
_cors_origins = env.list("CORS_ALLOWED_ORIGINS", default=[])
CORS_ALLOW_ALL_ORIGINS = "*" in _cors_origins
if CORS_ALLOW_ALL_ORIGINS and len(_cors_origins) > 1:
    raise ImproperlyConfigured("CORS_ALLOWED_ORIGINS is either `*` or a list of origins, not both.")
CORS_ALLOWED_ORIGINS = [] if CORS_ALLOW_ALL_ORIGINS else _cors_origins
CORS_URLS_REGEX = r"^/(customer-segment/|oauth/)"
CORS_ALLOW_HEADERS = [
    "authorization",
    "content-type",
    "content-language",
    "accept-language",
    "x-total-count",
    "emporix-tenant",
    "x-version",
]
CORS_EXPOSE_HEADERS = ["X-Total-Count", "X-Request-ID", "X-Dry-Run"]
CORS_ALLOW_CREDENTIALS = False

# --- HTTPS ----------------------------------------------------------------------------------
# Secure unless DEBUG: production never depends on remembering to switch these on. The
# probes and the metrics scrape stay reachable over plain HTTP (a load balancer or
# Prometheus talks to the process directly, behind the TLS-terminating proxy).
SECURE_SSL_REDIRECT = env.bool("SECURE_SSL_REDIRECT", default=not DEBUG)
SECURE_REDIRECT_EXEMPT = [r"^healthz$", r"^readyz$", r"^metrics$"]
SECURE_HSTS_SECONDS = env.int("SECURE_HSTS_SECONDS", default=0 if DEBUG else 365 * 24 * 3600)
SECURE_HSTS_INCLUDE_SUBDOMAINS = env.bool("SECURE_HSTS_INCLUDE_SUBDOMAINS", default=not DEBUG)
SECURE_HSTS_PRELOAD = env.bool("SECURE_HSTS_PRELOAD", default=not DEBUG)
SESSION_COOKIE_SECURE = env.bool("SESSION_COOKIE_SECURE", default=not DEBUG)
CSRF_COOKIE_SECURE = env.bool("CSRF_COOKIE_SECURE", default=not DEBUG)
# "HTTP_X_FORWARDED_PROTO,https" behind a proxy that sets (and strips clients') X-Forwarded-Proto.
# Off by default: trusting the header without such a proxy lets any client claim HTTPS.
_proxy_ssl_header = env.list("SECURE_PROXY_SSL_HEADER", default=[])
if _proxy_ssl_header and len(_proxy_ssl_header) != 2:
    raise ImproperlyConfigured(
        "SECURE_PROXY_SSL_HEADER takes a header and a value, e.g. HTTP_X_FORWARDED_PROTO,https."
    )
SECURE_PROXY_SSL_HEADER = tuple(_proxy_ssl_header) or None

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "axes",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "rest_framework",
    "django_filters",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "corsheaders",
    "tenants",
    "segments",
]

MIDDLEWARE = [
    # First, so its request id, log line and timing cover everything below (redirects, 413s).
    "segmentservice.requestlog.RequestLogMiddleware",
    # Before anything that could answer first: a preflight gets its 200 without a token.
    "corsheaders.middleware.CorsMiddleware",
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "segmentservice.api.middleware.RequestSizeLimitMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "segmentservice.actor.ActorMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    # Last, as django-axes asks: it turns a locked-out login into the lockout page.
    "axes.middleware.AxesMiddleware",
]

# Benchmarks only: count (and optionally capture) each request's SQL; see segmentservice/dbstats.py.
DB_QUERY_STATS = env.bool("DB_QUERY_STATS", default=False)
DB_QUERY_CAPTURE_DIR = env.str("DB_QUERY_CAPTURE_DIR", default="")
if DB_QUERY_STATS:
    MIDDLEWARE.insert(0, "segmentservice.dbstats.QueryStatsMiddleware")

# Check every compiled read against its queryset built and compiled afresh
# (segments/api/views/compiled.py); the test suite turns it on, it doubles the work.
COMPILED_READS_VERIFY = env.bool("COMPILED_READS_VERIFY", default=False)

ROOT_URLCONF = "segmentservice.urls"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
            ],
        },
    },
]

WSGI_APPLICATION = "segmentservice.wsgi.application"

DATABASES = {"default": env.db("DATABASE_URL", default=f"sqlite:///{BASE_DIR / 'db.sqlite3'}")}
DATABASES["default"]["ATOMIC_REQUESTS"] = False
DATABASES["default"]["CONN_MAX_AGE"] = env.int("CONN_MAX_AGE", default=60)
DATABASES["default"]["CONN_HEALTH_CHECKS"] = True
# A database that is down, silent or stuck answers 503 within these bounds instead of holding
# a worker (segmentservice/api/errors.py): seconds to establish a connection, and milliseconds
# a statement may run (on SQLite: may wait for a lock).
DATABASE_CONNECT_TIMEOUT = env.int("DATABASE_CONNECT_TIMEOUT", default=5)
DATABASE_STATEMENT_TIMEOUT_MS = env.int("DATABASE_STATEMENT_TIMEOUT_MS", default=30_000)
if DATABASES["default"]["ENGINE"] == "django.db.backends.postgresql":
    # JIT compiling pays off for long analytical queries; for this service's short ones (a
    # match with a recursive category walk is estimated "expensive") compiling took 40 ms
    # of an 80 ms query. Off unless DATABASE_JIT=true.
    _jit = "on" if env.bool("DATABASE_JIT", default=False) else "off"
    _options = DATABASES["default"].setdefault("OPTIONS", {})
    _options["options"] = f"-c statement_timeout={DATABASE_STATEMENT_TIMEOUT_MS} -c jit={_jit}"
    # Without it psycopg waits 130 s for a server that accepts and never answers (libpq
    # counts it per address tried, and at least 2 s). A ?connect_timeout= in the URL wins.
    _options.setdefault("connect_timeout", DATABASE_CONNECT_TIMEOUT)
    # The hot reads (the tenant, compiled reads, category trees) run as prepared
    # statements (segmentservice.db.prepared_cursor): PostgreSQL plans each once per
    # connection instead of on every request, where planning cost more than running them.
    # Behind a proxy that pools transactions, it must keep prepared statements per server
    # connection (PgBouncer 1.21 and later with max_prepared_statements), or set this off.
    if env.bool("DATABASE_PREPARED_STATEMENTS", default=True):
        _options.setdefault("prepare_threshold", 5)
elif DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # WAL lets the dev server read while a command writes; the timeout waits out short locks.
    DATABASES["default"].setdefault("OPTIONS", {}).update(
        {
            "timeout": DATABASE_STATEMENT_TIMEOUT_MS / 1000,
            "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
            # Writers take the lock up front, so concurrent writes wait instead of failing.
            "transaction_mode": "IMMEDIATE",
        }
    )

# Reads on PostgreSQL streaming replicas (comma-separated URLs; none by default) through
# segmentservice/routers.py; a client that wrote reads the primary for
# DATABASE_READ_YOUR_WRITES_SECONDS (kept in the default cache). See docs/replicas.md.
DATABASE_REPLICA_URLS = env.list("DATABASE_REPLICA_URLS", default=[])
DATABASE_READ_YOUR_WRITES_SECONDS = env.int("DATABASE_READ_YOUR_WRITES_SECONDS", default=5)
DATABASE_REPLICA_ALIASES = [f"replica{n}" for n in range(1, len(DATABASE_REPLICA_URLS) + 1)]
for _alias, _url in zip(DATABASE_REPLICA_ALIASES, DATABASE_REPLICA_URLS, strict=True):
    _replica = env.db_url_config(_url)
    if DATABASES["default"]["ENGINE"] != "django.db.backends.postgresql" or (
        _replica["ENGINE"] != DATABASES["default"]["ENGINE"]
    ):
        raise ImproperlyConfigured(
            "DATABASE_REPLICA_URLS are PostgreSQL streaming replicas of a PostgreSQL "
            "DATABASE_URL; leave them empty otherwise."
        )
    DATABASES[_alias] = {
        **_replica,
        "ATOMIC_REQUESTS": False,
        "CONN_MAX_AGE": DATABASES["default"]["CONN_MAX_AGE"],
        "CONN_HEALTH_CHECKS": True,
        # The same timeouts as the primary; a URL's own ?options win.
        "OPTIONS": {**DATABASES["default"]["OPTIONS"], **_replica.get("OPTIONS", {})},
        # Tests read and write the test database only (the router skips mirrors).
        "TEST": {"MIRROR": "default"},
        "REPLICA_NAME": _replica["NAME"],
    }
DATABASE_ROUTERS = ["segmentservice.routers.PrimaryReplicaRouter"]
# Before the session middleware, so it sees a login's session writes; unused without replicas.
MIDDLEWARE.insert(
    MIDDLEWARE.index("django.contrib.sessions.middleware.SessionMiddleware"),
    "segmentservice.routers.ReadYourWritesMiddleware",
)

DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# The cache holds throttle counts, which API clients are active and when an external
# issuer's keys were last fetched. Local memory counts per process; to count across
# workers and hosts, point CACHE_URL at Redis, e.g. redis://127.0.0.1:6379/0.
CACHES = {"default": env.cache_url_config(env.str("CACHE_URL", default="") or "locmemcache://")}
if CACHES["default"]["BACKEND"] == "django.core.cache.backends.redis.RedisCache":
    # Django's Redis cache hands OPTIONS to redis-py, which wants lower-case names; a Redis
    # that does not answer costs a request at most these seconds (the limits then let it by).
    _options = {name.lower(): value for name, value in CACHES["default"].get("OPTIONS", {}).items()}
    _options.setdefault("socket_connect_timeout", 1)
    _options.setdefault("socket_timeout", 1)
    CACHES["default"]["OPTIONS"] = _options
elif CACHES["default"]["BACKEND"] == "django.core.cache.backends.locmem.LocMemCache":
    # Room for many callers' counters before the least recently used are dropped.
    CACHES["default"].setdefault("OPTIONS", {}).setdefault("MAX_ENTRIES", 10_000)

# --- Admin login lockout (django-axes) ----------------------------------------------------
# After ADMIN_LOGIN_FAILURE_LIMIT failed logins of one user from one address, that user
# cannot log in from there for ADMIN_LOGIN_COOLOFF_MINUTES (each further try restarts it);
# a successful login forgets the failures. Locked-out users see a plain message (429).
AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",
    "django.contrib.auth.backends.ModelBackend",
]
AXES_FAILURE_LIMIT = env.int("ADMIN_LOGIN_FAILURE_LIMIT", default=5)
AXES_COOLOFF_TIME = timedelta(minutes=env.int("ADMIN_LOGIN_COOLOFF_MINUTES", default=15))
# Per user and address: a stranger cannot lock a user out everywhere by failing on purpose.
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
AXES_RESET_ON_SUCCESS = True
AXES_LOCKOUT_CALLABLE = "tenants.lockout.admin_lockout_response"
# The same caller address as the API's throttles (NUM_PROXIES decides which header counts).
AXES_CLIENT_IP_CALLABLE = "tenants.ratelimit.client_address"
# Failed attempts are kept (the admin lists them, deleting one lifts its lockout);
# successful logins are not logged a second time (Django keeps last_login).
AXES_DISABLE_ACCESS_LOG = True

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]

LANGUAGE_CODE = "en-us"
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATIC_ROOT = BASE_DIR / "staticfiles"
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": env.str(
            "STATICFILES_STORAGE",
            default="whitenoise.storage.CompressedStaticFilesStorage",
        )
    },
}

# Serve static files straight from the apps too, so gunicorn works before collectstatic.
WHITENOISE_USE_FINDERS = True

# Request bodies above this size are refused with 413 before they are read.
MAX_REQUEST_BODY_BYTES = env.int("MAX_REQUEST_BODY_BYTES", default=10 * 1024 * 1024)
DATA_UPLOAD_MAX_MEMORY_SIZE = MAX_REQUEST_BODY_BYTES
DATA_UPLOAD_MAX_NUMBER_FIELDS = 10_000

# --- Tokens ---------------------------------------------------------------------------------
TOKEN_SIGNING_KEY = env.str("TOKEN_SIGNING_KEY", default=SECRET_KEY)
TOKEN_ISSUER = env.str("TOKEN_ISSUER", default="customer-segment-service")
TOKEN_DEFAULT_TTL_SECONDS = env.int("TOKEN_DEFAULT_TTL_SECONDS", default=3600)
TOKEN_MAX_TTL_SECONDS = env.int("TOKEN_MAX_TTL_SECONDS", default=24 * 3600)
# An external identity provider whose RS256/ES256 tokens are accepted too (all three or none).
EXTERNAL_TOKEN_ISSUER = env.str("EXTERNAL_TOKEN_ISSUER", default="")
EXTERNAL_TOKEN_JWKS_URL = env.str("EXTERNAL_TOKEN_JWKS_URL", default="")
EXTERNAL_TOKEN_AUDIENCE = env.str("EXTERNAL_TOKEN_AUDIENCE", default="")
# A token naming a key id the issuer's fetched keys lack refetches them at most this often.
EXTERNAL_TOKEN_JWKS_REFETCH_SECONDS = env.int("EXTERNAL_TOKEN_JWKS_REFETCH_SECONDS", default=60)
# Seconds a worker may go on accepting the tokens of an API client revoked elsewhere; with
# a shared cache (CACHE_URL) a revocation is seen by every worker at once.
API_CLIENT_CACHE_SECONDS = env.int("API_CLIENT_CACHE_SECONDS", default=30)
if not 0 <= API_CLIENT_CACHE_SECONDS <= 60:
    raise ImproperlyConfigured("API_CLIENT_CACHE_SECONDS must be between 0 (no caching) and 60.")
if EXTERNAL_TOKEN_ISSUER and not EXTERNAL_TOKEN_JWKS_URL:
    raise ImproperlyConfigured("EXTERNAL_TOKEN_ISSUER is set but EXTERNAL_TOKEN_JWKS_URL is not.")

# --- API tunables ---------------------------------------------------------------------------
BULK_MAX_ITEMS = env.int("BULK_MAX_ITEMS", default=200)
PAGE_SIZE_DEFAULT = env.int("PAGE_SIZE_DEFAULT", default=60)
PAGE_SIZE_MAX = env.int("PAGE_SIZE_MAX", default=1000)
# The admin deletes tenants up to this many rows within a request; larger ones are left to
# `manage.py delete_tenant`, which no request timeout cuts short.
ADMIN_TENANT_DELETE_MAX_ROWS = env.int("ADMIN_TENANT_DELETE_MAX_ROWS", default=500_000)


def _throttle_rate(name: str, default: str) -> str | None:
    """A rate such as `10/min` (periods s, min, h, day); empty or `off` means unlimited."""
    rate = env.str(name, default=default).strip()
    if rate.lower() in ("", "off", "none"):
        return None
    if not re.fullmatch(r"[0-9]+/(s|sec|second|m|min|minute|h|hour|d|day)", rate):
        raise ImproperlyConfigured(f"{name}={rate!r} is not a rate such as 10/min or 100/s.")
    return rate


# --- Rate limits (see tenants/api/throttles.py) -----------------------------------------
THROTTLE_RATES = {
    # Every API call, per API client (or customer, for customer tokens); generous by default.
    "api_client": _throttle_rate("THROTTLE_API_CLIENT", "60000/min"),
    # /oauth/token requests per client_id and per caller address: each checks a secret hash.
    "token_client": _throttle_rate("THROTTLE_TOKEN_CLIENT", "10/min"),
    "token_address": _throttle_rate("THROTTLE_TOKEN_ADDRESS", "30/min"),
}
# Reverse proxies in front of the service whose X-Forwarded-For is trusted for the caller's
# address; 0 uses the connection's address, which a client cannot forge.
NUM_PROXIES = env.int("NUM_PROXIES", default=0)

# --- Input limits: past each, a request is a 400 naming the limit ---------------------------
# Arrays and objects nested inside each other in a request body (the body itself is level 1).
JSON_MAX_DEPTH = env.int("JSON_MAX_DEPTH", default=64)
# Dot-separated segments of a field path in q, sort and fields (`mixins.a.b` has three).
FIELD_PATH_MAX_SEGMENTS = env.int("FIELD_PATH_MAX_SEGMENTS", default=64)
# Characters of one q.
QUERY_MAX_LENGTH = env.int("QUERY_MAX_LENGTH", default=65_536)
# Conditions of one q; a range counts one per bound, a list on a JSON path one per value.
# Each becomes its own SQL comparison, and SQLite refuses expressions nested past 1,000.
QUERY_MAX_CONDITIONS = env.int("QUERY_MAX_CONDITIONS", default=100)
# Fields one sort may name, and paths one fields parameter may name.
SORT_MAX_FIELDS = env.int("SORT_MAX_FIELDS", default=16)
FIELDS_MAX_PATHS = env.int("FIELDS_MAX_PATHS", default=100)
# PostgreSQL: a directory change runs each dependency level of the rules as a statement
# prepared once per connection (segments/services/rules.py, `_level_postgres`). It asks the
# connection whether it holds the statement in the transaction that runs it, so it is safe
# behind a transaction-pooling proxy; false prepares and deallocates it at each change.
RULES_PREPARED_STATEMENTS = env.bool("RULES_PREPARED_STATEMENTS", default=True)

REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": ["tenants.authentication.BearerTokenAuthentication"],
    "DEFAULT_PERMISSION_CLASSES": ["tenants.permissions.HasRequiredScopes"],
    "DEFAULT_THROTTLE_CLASSES": ["tenants.api.throttles.ApiClientRateThrottle"],
    "DEFAULT_THROTTLE_RATES": THROTTLE_RATES,
    "NUM_PROXIES": NUM_PROXIES,
    "DEFAULT_RENDERER_CLASSES": ["segmentservice.api.renderers.JSONRenderer"],
    "DEFAULT_PARSER_CLASSES": ["segmentservice.api.parsers.StrictJSONParser"],
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    "EXCEPTION_HANDLER": "segmentservice.api.errors.exception_handler",
    "UNAUTHENTICATED_USER": None,
    "DEFAULT_PAGINATION_CLASS": None,
    "TEST_REQUEST_DEFAULT_FORMAT": "json",
}

SPECTACULAR_SETTINGS = {
    "TITLE": "Customer Segment Service",
    "DESCRIPTION": (
        "A self-hostable Customer Segment Service, wire-compatible with the hosted Emporix "
        "Customer Segment Service. Get a token from `POST /oauth/token` (client credentials) "
        "or `manage.py issue_token`, then send it as `Authorization: Bearer <token>`."
    ),
    "VERSION": "1.0.0",
    "SERVE_INCLUDE_SCHEMA": False,
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    "COMPONENT_SPLIT_REQUEST": True,
    "POSTPROCESSING_HOOKS": [
        "drf_spectacular.hooks.postprocess_schema_enums",
        "segmentservice.api.schema.camel_case_path_parameters",
        "segmentservice.api.schema.tenant_operation_errors",
        "segmentservice.api.schema.empty_query_values",
        "segmentservice.api.schema.demo_tenant_default",
    ],
    "ENUM_NAME_OVERRIDES": {
        "SegmentStatusEnum": "segments.choices.SegmentStatus",
        "ItemTypeEnum": "segments.choices.ItemType",
        "AssignmentTypeEnum": "segments.choices.AssignmentType",
    },
}

# --- Observability ----------------------------------------------------------------------------
# One JSON object per line on stderr; a line logged while a request is answered carries its
# `request_id` (segmentservice/requestlog.py). gunicorn's own lines use the same formatter.
LOG_FORMATTER = {
    "()": "pythonjsonlogger.json.JsonFormatter",
    "fmt": ["levelname", "name", "message"],
    "rename_fields": {"levelname": "level", "name": "logger"},
    "timestamp": "time",
}
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"json": LOG_FORMATTER},
    "filters": {"request_id": {"()": "segmentservice.requestlog.RequestIdFilter"}},
    "handlers": {
        "console": {
            "class": "logging.StreamHandler",
            "formatter": "json",
            "filters": ["request_id"],
        }
    },
    "root": {"handlers": ["console"], "level": env.str("LOG_LEVEL", default="INFO")},
    "loggers": {
        # Only through the root's JSON handler: Django's own console handler (DEBUG only)
        # would print each of its lines a second time, as plain text.
        "django": {"handlers": [], "level": "INFO"},
        "django.db.backends": {"level": "WARNING"},
        # Failed admin logins and lockouts are warnings; its start-up banner is not needed.
        "axes": {"level": "WARNING"},
    },
}

# The bearer token a Prometheus scrape of /metrics sends; unset, /metrics answers 403.
METRICS_TOKEN = env.str("METRICS_TOKEN", default="")
if METRICS_TOKEN and len(METRICS_TOKEN) < 16:
    raise ImproperlyConfigured("METRICS_TOKEN is too short: use at least 16 random characters.")
