"""Settings for the Customer Segment Service, read from the environment.

Every value can be set in the environment or in a `.env` file beside `manage.py`;
`.env.example` lists them all. Required values fail fast with `ImproperlyConfigured`.
"""

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

ALLOWED_HOSTS = env.list("ALLOWED_HOSTS", default=["localhost", "127.0.0.1", "[::1]", "testserver"])
CSRF_TRUSTED_ORIGINS = env.list("CSRF_TRUSTED_ORIGINS", default=[])

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "rest_framework",
    "django_filters",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "tenants",
    "segments",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "segmentservice.api.middleware.RequestSizeLimitMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
]

# Benchmarks only: count (and optionally capture) each request's SQL; see segmentservice/dbstats.py.
DB_QUERY_STATS = env.bool("DB_QUERY_STATS", default=False)
DB_QUERY_CAPTURE_DIR = env.str("DB_QUERY_CAPTURE_DIR", default="")
if DB_QUERY_STATS:
    MIDDLEWARE.insert(0, "segmentservice.dbstats.QueryStatsMiddleware")

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
if DATABASES["default"]["ENGINE"] == "django.db.backends.postgresql":
    # A statement that runs longer than this is cancelled, so no request can hold a worker forever.
    _timeout_ms = env.int("DATABASE_STATEMENT_TIMEOUT_MS", default=30_000)
    # JIT compiling pays off for long analytical queries; for this service's short ones (a
    # match with a recursive category walk is estimated "expensive") compiling took 40 ms
    # of an 80 ms query. Off unless DATABASE_JIT=true.
    _jit = "on" if env.bool("DATABASE_JIT", default=False) else "off"
    DATABASES["default"].setdefault("OPTIONS", {})["options"] = (
        f"-c statement_timeout={_timeout_ms} -c jit={_jit}"
    )
elif DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # WAL lets the dev server read while a command writes; the timeout waits out short locks.
    DATABASES["default"].setdefault("OPTIONS", {}).update(
        {
            "timeout": 20,
            "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
            # Writers take the lock up front, so concurrent writes wait instead of failing.
            "transaction_mode": "IMMEDIATE",
        }
    )

DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

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
if EXTERNAL_TOKEN_ISSUER and not EXTERNAL_TOKEN_JWKS_URL:
    raise ImproperlyConfigured("EXTERNAL_TOKEN_ISSUER is set but EXTERNAL_TOKEN_JWKS_URL is not.")

# --- API tunables ---------------------------------------------------------------------------
# Seconds a worker remembers a tenant (its languages); 0 reads it on every request.
TENANT_CACHE_SECONDS = env.int("TENANT_CACHE_SECONDS", default=30)
BULK_MAX_ITEMS = env.int("BULK_MAX_ITEMS", default=200)
PAGE_SIZE_DEFAULT = env.int("PAGE_SIZE_DEFAULT", default=60)
PAGE_SIZE_MAX = env.int("PAGE_SIZE_MAX", default=1000)

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

REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": ["tenants.authentication.BearerTokenAuthentication"],
    "DEFAULT_PERMISSION_CLASSES": ["tenants.permissions.HasRequiredScopes"],
    "DEFAULT_RENDERER_CLASSES": ["rest_framework.renderers.JSONRenderer"],
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
    ],
    "ENUM_NAME_OVERRIDES": {
        "SegmentStatusEnum": "segments.choices.SegmentStatus",
        "ItemTypeEnum": "segments.choices.ItemType",
        "AssignmentTypeEnum": "segments.choices.AssignmentType",
    },
}

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s: %(message)s"}},
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "plain"}},
    "root": {"handlers": ["console"], "level": env.str("LOG_LEVEL", default="INFO")},
    "loggers": {"django.db.backends": {"level": "WARNING"}},
}
