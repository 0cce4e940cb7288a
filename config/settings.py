"""Agora settings: everything comes from the environment, read once here.

See ``.env.example`` for every variable with its default. Malformed values raise
``ImproperlyConfigured`` at start-up (see ``config/env.py``).
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

from django.core.exceptions import ImproperlyConfigured

from config.env import (
    database_from_url,
    env_bool,
    env_int,
    env_list,
    env_secret,
    env_str,
    env_url,
)

BASE_DIR = Path(__file__).resolve().parent.parent
VAR_DIR = Path(env_str("AGORA_VAR_DIR", str(BASE_DIR / "var")))

DEBUG = env_bool("DEBUG", False)
TESTING = "pytest" in sys.modules or env_bool("AGORA_TESTING", False)

_DEV_SECRET = "agora-insecure-development-key-do-not-use-in-production-0123456789"  # noqa: S105
SECRET_KEY = env_secret("SECRET_KEY")
if not SECRET_KEY:
    if DEBUG or TESTING:
        SECRET_KEY = _DEV_SECRET
    else:
        raise ImproperlyConfigured("SECRET_KEY (or SECRET_KEY_FILE) must be set when DEBUG is off")
elif len(SECRET_KEY) < 32:
    raise ImproperlyConfigured("SECRET_KEY must be at least 32 characters long")

ALLOWED_HOSTS = env_list("ALLOWED_HOSTS", ["127.0.0.1", "localhost"] if DEBUG or TESTING else [])
CSRF_TRUSTED_ORIGINS = env_list("CSRF_TRUSTED_ORIGINS")
SITE_URL = env_url("SITE_URL", "http://127.0.0.1:8000")

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "django.contrib.humanize",
    "django.contrib.sites",
    "allauth",
    "allauth.account",
    "allauth.socialaccount",
    "allauth.socialaccount.providers.github",
    "allauth.mfa",
    "rest_framework",
    "django_filters",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "channels",
    "portal",
    "governance",
    "governance.meetings",
    "community",
    "community.roadmap",
    "sandboxes",
    "sandboxes.agents",
    "directus",
]

MIDDLEWARE = [
    "portal.middleware.RequestIdMiddleware",
    "portal.logging.AccessLogMiddleware",
    "portal.metrics.MetricsMiddleware",
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "allauth.account.middleware.AccountMiddleware",
    "portal.middleware.StewardTwoFactorMiddleware",
]

ROOT_URLCONF = "config.urls"
WSGI_APPLICATION = "config.wsgi.application"
ASGI_APPLICATION = "config.asgi.application"
AUTH_USER_MODEL = "portal.User"
SITE_ID = 1

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "portal" / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "portal.context_processors.shell",
            ],
        },
    },
]

# --- Database ------------------------------------------------------------------------
DATABASE_URL = env_str("DATABASE_URL", f"sqlite:///{VAR_DIR / 'agora.sqlite3'}")
DATABASES = {"default": database_from_url(DATABASE_URL, base_dir=BASE_DIR)}
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    DATABASES["default"]["OPTIONS"] = {
        "timeout": 20,
        "transaction_mode": "IMMEDIATE",
        "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
    }
# Under ASGI each request runs its sync code in a fresh thread, so persistent connections
# (CONN_MAX_AGE) are never reused: every request would open a new PostgreSQL connection.
# A psycopg pool per process hands connections back at the end of each request instead.
elif env_bool("DATABASE_POOL", not TESTING):
    DATABASES["default"]["CONN_MAX_AGE"] = 0
    DATABASES["default"]["OPTIONS"] = {
        **DATABASES["default"]["OPTIONS"],  # type: ignore[dict-item]
        "pool": {
            "min_size": 2,
            "max_size": env_int("DATABASE_POOL_SIZE", 20, minimum=1),
            "timeout": 10,
        },
    }
if DATABASES["default"]["ENGINE"] == "portal.postgresql":
    # Hot statements (portal/db.py hot_cursor) are prepared once a connection has run them
    # this many times; 0 turns it off (e.g. behind PgBouncer in transaction mode). Plans
    # live per connection: restart the portal after migrations.
    DATABASES["default"]["OPTIONS"] = {
        "prepare_threshold": env_int("DATABASE_PREPARE_THRESHOLD", 5, minimum=0) or None,
        **DATABASES["default"]["OPTIONS"],  # type: ignore[dict-item]
    }
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# --- Cache and channel layer ---------------------------------------------------------
REDIS_URL = env_url("REDIS_URL", schemes=("redis", "rediss", "unix"))
if REDIS_URL:
    CACHES = {
        "default": {
            # One connection pool per process (the stock backend opens one per ASGI request).
            "BACKEND": "portal.cache.SharedPoolRedisCache",
            "LOCATION": REDIS_URL,
            "KEY_PREFIX": env_str("CACHE_KEY_PREFIX", "agora"),
            "TIMEOUT": 300,
        }
    }
    # The pub/sub layer uses only PUBLISH/SUBSCRIBE, so it also runs on Dragonfly
    # (the default layer's Lua scripts touch undeclared keys, which Dragonfly refuses).
    CHANNEL_LAYERS = {
        "default": {
            "BACKEND": "channels_redis.pubsub.RedisPubSubChannelLayer",
            "CONFIG": {
                "hosts": [REDIS_URL],
                "prefix": env_str("CHANNEL_PREFIX", "agora"),
            },
        }
    }
else:
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}
    CHANNEL_LAYERS = {"default": {"BACKEND": "channels.layers.InMemoryChannelLayer"}}
# Threads serving HTTP requests in each server process (config/http.py). The in-memory
# layer reaches only the event loop's own sockets, so without Redis requests share one.
HTTP_THREADS = env_int("HTTP_THREADS", 4, minimum=1) if REDIS_URL else 1

# --- Auth and accounts ---------------------------------------------------------------
AUTHENTICATION_BACKENDS = [
    "django.contrib.auth.backends.ModelBackend",
    "allauth.account.auth_backends.AuthenticationBackend",
]
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
if TESTING:
    PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]

LOGIN_REDIRECT_URL = "/"
LOGIN_URL = "/accounts/login/"
ACCOUNT_LOGIN_METHODS = {"email"}
ACCOUNT_SIGNUP_FIELDS = ["email*", "password1*", "password2*"]
ACCOUNT_EMAIL_VERIFICATION = "mandatory"
ACCOUNT_CONFIRM_EMAIL_ON_GET = False
ACCOUNT_LOGIN_ON_EMAIL_CONFIRMATION = False
ACCOUNT_UNIQUE_EMAIL = True
ACCOUNT_USER_MODEL_USERNAME_FIELD = "username"
ACCOUNT_ADAPTER = "portal.accounts.adapters.AccountAdapter"
ACCOUNT_LOGOUT_ON_GET = False
ACCOUNT_DEFAULT_HTTP_PROTOCOL = "http" if DEBUG or TESTING else "https"
ACCOUNT_RATE_LIMITS = {
    "login_failed": "10/m/ip,5/5m/key",
    "signup": "20/m/ip",
    "confirm_email": "1/3m/key",
    "reset_password": "20/m/ip,5/m/key",
}
SOCIALACCOUNT_ADAPTER = "portal.accounts.adapters.SocialAccountAdapter"
GITHUB_CLIENT_ID = env_str("GITHUB_CLIENT_ID")
GITHUB_CLIENT_SECRET = env_secret("GITHUB_CLIENT_SECRET")
SOCIALACCOUNT_PROVIDERS = {
    "github": {
        "SCOPE": ["read:user", "user:email"],
        "APPS": (
            [{"client_id": GITHUB_CLIENT_ID, "secret": GITHUB_CLIENT_SECRET, "key": ""}]
            if GITHUB_CLIENT_ID and GITHUB_CLIENT_SECRET
            else []
        ),
    }
}
MFA_SUPPORTED_TYPES = ["totp", "recovery_codes"]
MFA_TOTP_ISSUER = env_str("MFA_TOTP_ISSUER", "Agora")
# Stewards must enrol TOTP before using the site (see StewardTwoFactorMiddleware).
AGORA_STEWARD_REQUIRES_2FA = env_bool("STEWARD_REQUIRES_2FA", True)

# --- Email ---------------------------------------------------------------------------
EMAIL_HOST = env_str("EMAIL_HOST")
EMAIL_PORT = env_int("EMAIL_PORT", 587, minimum=1)
EMAIL_HOST_USER = env_str("EMAIL_HOST_USER")
EMAIL_HOST_PASSWORD = env_secret("EMAIL_HOST_PASSWORD")
EMAIL_USE_TLS = env_bool("EMAIL_USE_TLS", True)
EMAIL_TIMEOUT = 10
EMAIL_BACKEND = env_str(
    "EMAIL_BACKEND",
    "django.core.mail.backends.smtp.EmailBackend"
    if EMAIL_HOST
    else "django.core.mail.backends.console.EmailBackend",
)
EMAIL_FILE_PATH = env_str("EMAIL_FILE_PATH", str(VAR_DIR / "mail"))
DEFAULT_FROM_EMAIL = env_str("DEFAULT_FROM_EMAIL", "Agora <noreply@agora.localhost>")
SERVER_EMAIL = DEFAULT_FROM_EMAIL

# --- API -----------------------------------------------------------------------------
REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "portal.accounts.tokens.BearerTokenAuthentication",
        "rest_framework.authentication.SessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticatedOrReadOnly"],
    "DEFAULT_PAGINATION_CLASS": "portal.api.pagination.Pagination",
    "PAGE_SIZE": 50,
    "DEFAULT_FILTER_BACKENDS": [
        "django_filters.rest_framework.DjangoFilterBackend",
        "rest_framework.filters.OrderingFilter",
        "rest_framework.filters.SearchFilter",
    ],
    # Fixed-window counters: O(1) per request (DRF's stock throttles rewrite a list of
    # every request in the window on each request).
    "DEFAULT_THROTTLE_CLASSES": [
        "portal.api.throttling.AnonRateThrottle",
        "portal.api.throttling.UserRateThrottle",
    ],
    "DEFAULT_THROTTLE_RATES": {
        "anon": env_str("API_THROTTLE_ANON", "600/min"),
        "user": env_str("API_THROTTLE_USER", "6000/min"),
        "vote": env_str("API_THROTTLE_VOTE", "60/min"),
    },
    "EXCEPTION_HANDLER": "portal.api.errors.exception_handler",
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    "TEST_REQUEST_DEFAULT_FORMAT": "json",
}
SPECTACULAR_SETTINGS = {
    "TITLE": "Agora API",
    "DESCRIPTION": (
        "The portal's REST API. Authenticate with a session or `Authorization: Bearer <token>`."
    ),
    "VERSION": "1",
    "SERVE_INCLUDE_SCHEMA": False,
    "COMPONENT_SPLIT_REQUEST": True,
    # Swagger UI assets come from the drf-spectacular-sidecar package, never a CDN.
    # Schema-quality warnings are reported by tests/portal/test_api_schema.py, not by the
    # deployment check (they say nothing about whether a deployment is safe).
    "ENABLE_DJANGO_DEPLOY_CHECK": False,
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    "ENUM_NAME_OVERRIDES": {"RoleEnum": "portal.models.users.Role"},
}

# --- Realtime, jobs, observability ---------------------------------------------------
REALTIME_BUFFER_SIZE = env_int("REALTIME_BUFFER_SIZE", 1000, minimum=10)
# A poll's participation events are coalesced to at most one per interval per server
# process, the last one counted after the burst's last ballot (0: one event per ballot;
# the default under tests, which read events synchronously).
GOVERNANCE_LIVE_INTERVAL_MS = env_int(
    "GOVERNANCE_LIVE_INTERVAL_MS", 0 if TESTING else 100, minimum=0
)
JOBS_POLL_INTERVAL = float(env_int("JOBS_POLL_INTERVAL_MS", 500, minimum=10)) / 1000
JOBS_LEASE_SECONDS = env_int("JOBS_LEASE_SECONDS", 300, minimum=5)
JOBS_RETENTION_DAYS = env_int("JOBS_RETENTION_DAYS", 14, minimum=1)
METRICS_TOKEN = env_secret("METRICS_TOKEN")
# Serves the bare baseline view /api/v1/bench/bare/ for `make bench`; never in production.
AGORA_BENCH = env_bool("AGORA_BENCH", False)

# --- Directus ------------------------------------------------------------------------
DIRECTUS_URL = env_url("DIRECTUS_URL")
DIRECTUS_PUBLIC_URL = env_url("DIRECTUS_PUBLIC_URL", DIRECTUS_URL)
DIRECTUS_TOKEN = env_secret("DIRECTUS_TOKEN")
DIRECTUS_WEBHOOK_SECRET = env_secret("DIRECTUS_WEBHOOK_SECRET")
DIRECTUS_TIMEOUT = float(env_int("DIRECTUS_TIMEOUT_MS", 5000, minimum=100)) / 1000

# --- Community -----------------------------------------------------------------------
GITHUB_WEBHOOK_SECRET = env_secret("GITHUB_WEBHOOK_SECRET")

# --- Sandboxes -----------------------------------------------------------------------
SANDBOX_BACKENDS = env_list("SANDBOX_BACKENDS", ["bubblewrap"])  # first is the default
SANDBOX_ROOT = Path(env_str("SANDBOX_ROOT", str(VAR_DIR / "sandboxes")))
DOCKER_HOSTS = env_list("DOCKER_HOSTS")  # e.g. unix:///run/docker.sock,tcp://10.0.0.5:2375
SANDBOX_IMAGE_CACHE = Path(env_str("SANDBOX_IMAGE_CACHE", "/var/cache/agora-sandbox-images"))
SANDBOX_DEBIAN_MIRROR = env_url("SANDBOX_DEBIAN_MIRROR", "http://deb.debian.org/debian")

# --- Agent runs: OpenAI-compatible chat-completions endpoint -------------------------
# Unset LLM_BASE_URL: only the built-in scripted provider is available.
LLM_BASE_URL = env_url("LLM_BASE_URL")
LLM_MODEL = env_str("LLM_MODEL")
LLM_API_KEY = env_secret("LLM_API_KEY")

# --- i18n, static --------------------------------------------------------------------
LANGUAGE_CODE = "en"
LANGUAGES = [("en", "English"), ("de", "Deutsch"), ("fr", "Français"), ("es", "Español")]
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True

STATIC_URL = "/static/"
STATIC_ROOT = VAR_DIR / "static"
STATICFILES_DIRS = [BASE_DIR / "portal" / "static", BASE_DIR / "var" / "assets"]
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": (
            "django.contrib.staticfiles.storage.StaticFilesStorage"
            if DEBUG or TESTING
            else "whitenoise.storage.CompressedManifestStaticFilesStorage"
        )
    },
}
MEDIA_ROOT = VAR_DIR / "media"
MEDIA_URL = "/media/"

# --- Security ------------------------------------------------------------------------
_secure = not DEBUG and not TESTING
SECURE_SSL_REDIRECT = env_bool("SECURE_SSL_REDIRECT", _secure)
SECURE_REDIRECT_EXEMPT = [r"^healthz$", r"^readyz$", r"^metrics$"]
SECURE_PROXY_SSL_HEADER = (
    ("HTTP_X_FORWARDED_PROTO", "https") if env_bool("TRUST_X_FORWARDED_PROTO", False) else None
)
SECURE_HSTS_SECONDS = env_int("SECURE_HSTS_SECONDS", 31536000 if _secure else 0, minimum=0)
SECURE_HSTS_INCLUDE_SUBDOMAINS = SECURE_HSTS_SECONDS > 0
SECURE_HSTS_PRELOAD = SECURE_HSTS_SECONDS > 0
SESSION_COOKIE_SECURE = env_bool("SESSION_COOKIE_SECURE", _secure)
CSRF_COOKIE_SECURE = env_bool("CSRF_COOKIE_SECURE", _secure)
SESSION_COOKIE_HTTPONLY = True
X_FRAME_OPTIONS = "DENY"
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"

# --- Logging -------------------------------------------------------------------------
LOG_LEVEL = env_str("LOG_LEVEL", "INFO").upper()
if LOG_LEVEL not in {"DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL"}:
    raise ImproperlyConfigured(f"LOG_LEVEL={LOG_LEVEL!r} is not a logging level")
LOG_JSON = env_bool("LOG_JSON", not DEBUG)
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "filters": {"request_id": {"()": "portal.logging.RequestIdFilter"}},
    "formatters": {
        "json": {"()": "portal.logging.JsonFormatter"},
        "plain": {"format": "%(asctime)s %(levelname)s [%(request_id)s] %(name)s: %(message)s"},
    },
    "handlers": {
        "console": {
            "class": "logging.StreamHandler",
            "filters": ["request_id"],
            "formatter": "json" if LOG_JSON else "plain",
        }
    },
    "root": {"handlers": ["console"], "level": LOG_LEVEL},
    "loggers": {
        "django.db.backends": {"level": "INFO"},
        "httpx": {"level": "WARNING"},
        "httpcore": {"level": "WARNING"},
    },
}

os.makedirs(VAR_DIR / "assets", exist_ok=True)
os.makedirs(STATIC_ROOT, exist_ok=True)  # WhiteNoise warns on every request otherwise
