"""Settings, read from the environment only (django-environ).

Defaults give a self-contained dev stack under $DATA_DIR: SQLite, filesystem blobs and a
filesystem Celery broker. DATABASE_URL, REDIS_URL and S3_* switch to PostgreSQL, Redis and S3.
Importing the settings creates nothing: $DATA_DIR and its folders are made by the commands that first
use them (config/paths.py `prepare_data_dir`), the secret key on first use.
"""

from functools import cache
from urllib.parse import urlsplit

import environ
from django.core.exceptions import ImproperlyConfigured
from django.utils.functional import lazy

from config.paths import PROJECT_ROOT, broker_dir, data_dir, sqlite_path
from config.secrets import load_or_create_secret_key

BASE_DIR = PROJECT_ROOT
env = environ.Env()

# A relative DATA_DIR is taken from the project root, whatever the working directory.
DATA_DIR = data_dir(env.str("DATA_DIR", default=""))

# Without SECRET_KEY, the key generated in $DATA_DIR the first time something signs with it (read once).
SECRET_KEY = env.str("SECRET_KEY", default="") or lazy(cache(load_or_create_secret_key), str)(DATA_DIR)
DEBUG = env.bool("DEBUG", default=False)

# The address users reach the server at (`https://registry.example.com`): token realm, password-reset
# links and pull commands use it. Requests for any other Host than ALLOWED_HOSTS (whose default suits
# `make run` on this machine) and PUBLIC_URL's host are refused (400). See docs/operations.md.
PUBLIC_URL = env.str("PUBLIC_URL", default="").strip().rstrip("/")
if PUBLIC_URL and urlsplit(PUBLIC_URL).scheme not in ("http", "https"):
    raise ImproperlyConfigured("PUBLIC_URL must be an http:// or https:// URL, e.g. https://registry.example.com")
_LOCAL_HOSTS = ["127.0.0.1", "localhost", "[::1]"]
_served_host = env.str("HOST", default="")
if _served_host and _served_host not in ("0.0.0.0", "::"):
    _LOCAL_HOSTS.append(f"[{_served_host}]" if ":" in _served_host else _served_host)
ALLOWED_HOSTS = env.list("ALLOWED_HOSTS", default=_LOCAL_HOSTS)
if PUBLIC_URL and urlsplit(PUBLIC_URL).hostname not in ALLOWED_HOSTS:
    ALLOWED_HOSTS.append(urlsplit(PUBLIC_URL).hostname)
CSRF_TRUSTED_ORIGINS = env.list("CSRF_TRUSTED_ORIGINS", default=[])
if PUBLIC_URL:
    CSRF_TRUSTED_ORIGINS.append(PUBLIC_URL)

# HTTPS deployments: secure cookies, HSTS, and the scheme from a TLS-terminating proxy. Off by default so
# the plain-HTTP dev stack (`make run`) keeps working.
SESSION_COOKIE_SECURE = CSRF_COOKIE_SECURE = env.bool("SECURE_COOKIES", default=False)
SECURE_HSTS_SECONDS = env.int("HSTS_SECONDS", default=0)
SECURE_HSTS_INCLUDE_SUBDOMAINS = env.bool("HSTS_INCLUDE_SUBDOMAINS", default=False)
if env.bool("TRUST_X_FORWARDED_PROTO", default=False):
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django.contrib.humanize",
    "rest_framework",
    "django_filters",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "accounts",
    "repos",
    "builds",
    "insights",
]

MIDDLEWARE = [
    "config.request_log.RequestIdMiddleware",  # first: every later log line carries the request id
    "config.metrics.MetricsMiddleware",
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "config.middleware.ContentSecurityPolicyMiddleware",
    "config.middleware.PrivateNoStoreMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
]

ROOT_URLCONF = "config.urls"
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
                "config.public_url.context",
            ],
        },
    },
]
WSGI_APPLICATION = "config.wsgi.application"

# Database: SQLite tuned for concurrent writers unless DATABASE_URL says otherwise.
# ATOMIC_REQUESTS stays off: an upload must never run inside a transaction.
if env.str("DATABASE_URL", default=""):
    DATABASES = {"default": env.db("DATABASE_URL")}
    DATABASES["default"].setdefault("CONN_MAX_AGE", 60)
    DATABASES["default"]["CONN_HEALTH_CHECKS"] = True
    if DATABASES["default"]["ENGINE"].endswith("postgresql"):
        # An unreachable server fails fast (and /readyz says so) instead of hanging a request.
        DATABASES["default"].setdefault("OPTIONS", {}).setdefault("connect_timeout", 5)
else:
    DATABASES = {
        "default": {
            "ENGINE": "django.db.backends.sqlite3",
            "NAME": str(sqlite_path(DATA_DIR)),
            # Opening a connection (and its PRAGMAs) costs more than a registry read; keep it per thread.
            "CONN_MAX_AGE": 600,
            "OPTIONS": {
                # WAL lets readers run beside one writer; IMMEDIATE takes the write lock at BEGIN,
                # so concurrent writers queue on busy_timeout instead of failing mid-transaction.
                "transaction_mode": "IMMEDIATE",
                "timeout": 30,
                "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
            },
        }
    }
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
]
LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "/"
LOGOUT_REDIRECT_URL = "/"

LANGUAGE_CODE = "en-us"
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATICFILES_DIRS = [BASE_DIR / "static"]
STATIC_ROOT = DATA_DIR / "staticfiles"
# Serve app and vendored assets even where collectstatic has not run (tests, a fresh checkout).
WHITENOISE_USE_FINDERS = True

# Blob storage: filesystem by default, S3 when S3_BUCKET is set.
# Uploads in progress: with S3 blob storage they stage in the bucket (multipart upload, state in the
# database) so any web node continues any upload; otherwise in UPLOAD_STAGING_ROOT, which several web
# nodes must share (NFS or similar). UPLOAD_STAGING=filesystem keeps S3 deployments on the directory.
UPLOAD_STAGING_ROOT = env.str("UPLOAD_STAGING_ROOT", default=str(DATA_DIR / "uploads"))
UPLOAD_STAGING = env.str("UPLOAD_STAGING", default="auto")
UPLOAD_PART_SIZE = env.int("UPLOAD_PART_SIZE", default=8 * 1024 * 1024)  # S3 multipart part size, >= 5 MiB
if env.str("S3_BUCKET", default=""):
    BLOB_STORAGE = {
        "BACKEND": "s3",
        "BUCKET": env.str("S3_BUCKET"),
        "ENDPOINT_URL": env.str("S3_ENDPOINT_URL", default="") or None,
        "REGION": env.str("S3_REGION", default="us-east-1"),
        "ACCESS_KEY": env.str("S3_ACCESS_KEY", default="") or None,
        "SECRET_KEY": env.str("S3_SECRET_KEY", default="") or None,
        "PREFIX": env.str("S3_PREFIX", default=""),
    }
else:
    BLOB_STORAGE = {"BACKEND": "filesystem", "ROOT": str(DATA_DIR / "blobs")}

# The cache is shared by every web process (login throttling counts failures across them): Redis when
# REDIS_URL is set, otherwise files under $DATA_DIR.
if env.str("REDIS_URL", default=""):
    CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": env.str("REDIS_URL"),
            "KEY_PREFIX": "registry",
        }
    }
else:
    CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.filebased.FileBasedCache",
            "LOCATION": str(DATA_DIR / "cache"),
            "OPTIONS": {"MAX_ENTRIES": 20000},
        }
    }
# Password guessing (docs/auth.md): failed password logins allowed per account and per client address in
# each window, on the login page, Basic auth and /v2/token; past them 429 with Retry-After. 0 = no limit.
LOGIN_FAILURES_PER_ACCOUNT = env.int("LOGIN_FAILURES_PER_ACCOUNT", default=10)
LOGIN_FAILURES_PER_ADDRESS = env.int("LOGIN_FAILURES_PER_ADDRESS", default=50)
LOGIN_FAILURE_WINDOW_SECONDS = env.int("LOGIN_FAILURE_WINDOW_SECONDS", default=300)

# Registry behaviour
REGISTRY_MAX_MANIFEST_BYTES = 4 * 1024 * 1024
REGISTRY_UPLOAD_EXPIRY_SECONDS = env.int("REGISTRY_UPLOAD_EXPIRY_SECONDS", default=24 * 3600)
REGISTRY_CATALOG_MAX_PAGE = 1000
# Upload sessions open at once per repository; beyond it POST gets 429 TOOMANYREQUESTS.
REGISTRY_MAX_OPEN_UPLOADS = env.int("REGISTRY_MAX_OPEN_UPLOADS", default=10000)
SEED_REPOSITORIES = ["docker-local", "docker-target"]

# Remote repositories (pull-through caches), see docs/repositories.md. Upstreams on loopback or
# private addresses are refused unless UPSTREAM_ALLOW_PRIVATE=1. Upstream passwords are encrypted
# with UPSTREAM_CREDENTIALS_KEY (a Fernet key), else with a key generated at first use in $DATA_DIR.
UPSTREAM_ALLOW_PRIVATE = env.bool("UPSTREAM_ALLOW_PRIVATE", default=False)
UPSTREAM_CREDENTIALS_KEY = env.str("UPSTREAM_CREDENTIALS_KEY", default="")
UPSTREAM_CREDENTIALS_KEY_PATH = env.str(
    "UPSTREAM_CREDENTIALS_KEY_PATH", default=str(DATA_DIR / "upstream_credentials_key")
)
# Webhooks (docs/insights.md): URLs pass the same outbound policy as upstreams (UPSTREAM_ALLOW_PRIVATE).
# Per-arch parity (docs/insights.md): `created` labels further apart, platform images more times larger.
PARITY_CREATED_TOLERANCE_SECONDS = env.float("PARITY_CREATED_TOLERANCE_SECONDS", default=3600.0)
PARITY_SIZE_RATIO = env.float("PARITY_SIZE_RATIO", default=3.0)
WEBHOOK_MAX_ATTEMPTS = env.int("WEBHOOK_MAX_ATTEMPTS", default=6)
WEBHOOK_RETRY_BASE_SECONDS = env.float("WEBHOOK_RETRY_BASE_SECONDS", default=10.0)
WEBHOOK_TIMEOUT_SECONDS = env.float("WEBHOOK_TIMEOUT_SECONDS", default=10.0)
UPSTREAM_TIMEOUT_SECONDS = env.float("UPSTREAM_TIMEOUT_SECONDS", default=30.0)
# A blob fetch whose leader has not written for this long is taken over by the next pull.
UPSTREAM_FETCH_STALE_SECONDS = env.float("UPSTREAM_FETCH_STALE_SECONDS", default=60.0)

# Garbage collection (docs/operations.md): content unreferenced for longer than the grace window goes;
# untagged manifests go once older than the untagged age. A HEAD, mount or push re-touches a blob at
# most every REGISTRY_GC_TOUCH_SECONDS, so keep the grace well above it (and above your longest push).
REGISTRY_GC_GRACE_SECONDS = env.int("REGISTRY_GC_GRACE_SECONDS", default=3600)
REGISTRY_GC_UNTAGGED_AGE_SECONDS = env.int("REGISTRY_GC_UNTAGGED_AGE_SECONDS", default=7 * 24 * 3600)
REGISTRY_GC_TOUCH_SECONDS = env.int("REGISTRY_GC_TOUCH_SECONDS", default=60)
REGISTRY_GC_INTERVAL_SECONDS = env.float("REGISTRY_GC_INTERVAL_SECONDS", default=24 * 3600.0)
REGISTRY_RETENTION_INTERVAL_SECONDS = env.float("REGISTRY_RETENTION_INTERVAL_SECONDS", default=24 * 3600.0)

# Registry token auth (the Docker token flow). The ES256 signing key is made at first run in
# $DATA_DIR (or REGISTRY_TOKEN_KEY_PATH); the realm defaults to PUBLIC_URL (else the checked request host)
# + /v2/token.
REGISTRY_TOKEN_SERVICE = env.str("REGISTRY_TOKEN_SERVICE", default="multiarch-registry")
REGISTRY_TOKEN_ISSUER = env.str("REGISTRY_TOKEN_ISSUER", default="multiarch-registry-token-issuer")
REGISTRY_TOKEN_REALM = env.str("REGISTRY_TOKEN_REALM", default="")
REGISTRY_TOKEN_KEY_PATH = env.str("REGISTRY_TOKEN_KEY_PATH", default="")
REGISTRY_TOKEN_LIFETIME_SECONDS = env.int("REGISTRY_TOKEN_LIFETIME_SECONDS", default=300)

# Builds (builds/): see docs/builds.md. BUILD_BUILDER empty = the first of buildah, buildx, docker available.
BUILD_BUILDER = env.str("BUILD_BUILDER", default="")
BUILD_PLATFORMS = env.list("BUILD_PLATFORMS", default=["linux/amd64", "linux/arm64", "linux/arm/v7"])
BUILD_TIME_LIMIT_SECONDS = env.int("BUILD_TIME_LIMIT_SECONDS", default=3600)
BUILD_REGISTRY_HOST = env.str("BUILD_REGISTRY_HOST", default=f"127.0.0.1:{env.str('PORT', default='8000')}")
# The worker pushes to this server over plain HTTP unless BUILD_REGISTRY_INSECURE=false (HTTPS host).
BUILD_REGISTRY_INSECURE = env.bool("BUILD_REGISTRY_INSECURE", default=True)
BUILD_BUILDX_BUILDER = env.str("BUILD_BUILDX_BUILDER", default="")  # a docker-container builder instance
BUILD_GIT_ALLOWED_HOSTS = env.list("BUILD_GIT_ALLOWED_HOSTS", default=[])  # host or host:port, allowed even if private
BUILD_CONTEXT_MAX_BYTES = env.int("BUILD_CONTEXT_MAX_BYTES", default=1024 * 1024 * 1024)
BUILD_CONTEXT_MAX_ENTRIES = env.int("BUILD_CONTEXT_MAX_ENTRIES", default=100_000)
BUILD_NETWORK = env.str("BUILD_NETWORK", default="")  # e.g. "none" for RUN steps on hosts without a bridge
BUILD_HEARTBEAT_SECONDS = env.float("BUILD_HEARTBEAT_SECONDS", default=5.0)
BUILD_STALE_SECONDS = env.float("BUILD_STALE_SECONDS", default=120.0)
BUILD_RECONCILE_SECONDS = env.float("BUILD_RECONCILE_SECONDS", default=60.0)
BUILD_QUEUE = env.str("BUILD_QUEUE", default="")  # blank: the default queue
BUILD_CONTEXT_DIR = env.str("BUILD_CONTEXT_DIR", default=str(DATA_DIR / "build-contexts"))
BUILD_LOG_DIR = env.str("BUILD_LOG_DIR", default=str(DATA_DIR / "build-logs"))
BUILD_WORK_DIR = env.str("BUILD_WORK_DIR", default=str(DATA_DIR / "build-work"))  # local disk: contexts, builder state

# Smoke tests under emulation (docs/smoke-tests.md): the worker's Docker engine pulls from this registry at
# SMOKE_TEST_REGISTRY_HOST (plain HTTP for 127.0.0.0/8 or the engine's insecure registries) and runs each platform.
SMOKE_TEST_REGISTRY_HOST = env.str("SMOKE_TEST_REGISTRY_HOST", default=BUILD_REGISTRY_HOST)
SMOKE_TEST_DEFAULT_SECONDS = env.int("SMOKE_TEST_DEFAULT_SECONDS", default=60)
SMOKE_TEST_MAX_SECONDS = env.int("SMOKE_TEST_MAX_SECONDS", default=900)
SMOKE_TEST_PULL_SECONDS = env.int("SMOKE_TEST_PULL_SECONDS", default=600)
SMOKE_TEST_OUTPUT_LINES = env.int("SMOKE_TEST_OUTPUT_LINES", default=20)
SMOKE_TEST_WORK_DIR = env.str("SMOKE_TEST_WORK_DIR", default=str(DATA_DIR / "smoke-tests"))
SMOKE_TEST_MEMORY = env.str("SMOKE_TEST_MEMORY", default="512m")  # docker run --memory
SMOKE_TEST_PIDS_LIMIT = env.int("SMOKE_TEST_PIDS_LIMIT", default=256)
# A run still `running` this long past its time limits and pulls lost its worker: it ends as `error`.
SMOKE_TEST_STALE_MARGIN_SECONDS = env.int("SMOKE_TEST_STALE_MARGIN_SECONDS", default=300)
SMOKE_TEST_RESEND_SECONDS = env.int("SMOKE_TEST_RESEND_SECONDS", default=600)  # queued this long: sent again
SMOKE_TEST_RECONCILE_SECONDS = env.float("SMOKE_TEST_RECONCILE_SECONDS", default=120.0)
# Runs need a Docker engine, like builds: by default they go where builds go.
SMOKE_TEST_QUEUE = env.str("SMOKE_TEST_QUEUE", default=BUILD_QUEUE)

# Celery: Redis when REDIS_URL is set, otherwise a filesystem transport that needs no server.
REDIS_URL = env.str("REDIS_URL", default="")
if REDIS_URL:
    CELERY_BROKER_URL = REDIS_URL
    # Longer than any build may run, or Redis re-delivers a build still running.
    CELERY_BROKER_TRANSPORT_OPTIONS = {"visibility_timeout": max(4 * 3600, 2 * BUILD_TIME_LIMIT_SECONDS)}
else:
    _broker_dir = broker_dir(DATA_DIR)
    CELERY_BROKER_URL = "filesystem://"
    CELERY_BROKER_TRANSPORT_OPTIONS = {
        "data_folder_in": str(_broker_dir / "out"),
        "data_folder_out": str(_broker_dir / "out"),
        "processed_folder": str(_broker_dir / "processed"),
        "control_folder": str(_broker_dir / "control"),
        "store_processed": False,
    }
CELERY_TASK_DEFAULT_QUEUE = env.str("CELERY_QUEUE", default="celery")
# Prefork on Redis. On the filesystem transport prefork children read one shared pipe under one lock:
# a child killed while holding it wedged the whole pool. The threads pool has no such lock; a dead worker
# process is restarted by the stack runner, and its lost message is re-sent by the job reconcilers.
CELERY_WORKER_POOL = env.str("WORKER_POOL", default="prefork" if REDIS_URL else "threads")
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
CELERY_TASK_IGNORE_RESULT = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_TASK_ACKS_LATE = False
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_TIMEZONE = TIME_ZONE
CELERY_BEAT_SCHEDULE_FILENAME = str(DATA_DIR / "celerybeat-schedule")
# Promotion jobs: a running job older than PROMOTION_STALE_SECONDS whose worker is gone is re-queued
# (or failed after PROMOTION_MAX_ATTEMPTS); the REST promote call waits PROMOTION_WAIT_SECONDS, then 202.
PROMOTION_STALE_SECONDS = env.float("PROMOTION_STALE_SECONDS", default=120.0)
PROMOTION_MAX_ATTEMPTS = env.int("PROMOTION_MAX_ATTEMPTS", default=3)
PROMOTION_WAIT_SECONDS = env.float("PROMOTION_WAIT_SECONDS", default=60.0)
PROMOTION_RECONCILE_SECONDS = env.float("PROMOTION_RECONCILE_SECONDS", default=60.0)
CELERY_BEAT_SCHEDULE = {
    "expire-stale-uploads": {"task": "repos.expire_stale_uploads", "schedule": 3600.0},
    "reconcile-promotions": {"task": "repos.reconcile_promotions", "schedule": PROMOTION_RECONCILE_SECONDS},
    "reconcile-builds": {"task": "builds.reconcile", "schedule": BUILD_RECONCILE_SECONDS},
    "reconcile-smoke-tests": {"task": "insights.smoke_tests_reconcile", "schedule": SMOKE_TEST_RECONCILE_SECONDS},
    "garbage-collect": {"task": "repos.garbage_collect", "schedule": REGISTRY_GC_INTERVAL_SECONDS},
    "apply-retention": {"task": "repos.apply_retention", "schedule": REGISTRY_RETENTION_INTERVAL_SECONDS},
}

REST_FRAMEWORK = {
    # `Authorization: Bearer <API token>`, Basic (password or API token), the browser session (CSRF).
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "accounts.authentication.BearerApiTokenAuthentication",
        "accounts.authentication.BasicCredentialsAuthentication",
        "rest_framework.authentication.SessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticatedOrReadOnly"],
    "DEFAULT_PAGINATION_CLASS": "repos.api.pagination.StandardPagination",
    "PAGE_SIZE": 50,
    "DEFAULT_FILTER_BACKENDS": ["django_filters.rest_framework.DjangoFilterBackend"],
    "DEFAULT_SCHEMA_CLASS": "config.api_errors.AutoSchema",
    # Every REST error in one envelope: {"errors": [{"status", "code", "message", "detail"}]}.
    "EXCEPTION_HANDLER": "config.api_errors.api_exception_handler",
}
SPECTACULAR_SETTINGS = {
    "TITLE": "Multi-arch repository manager API",
    "VERSION": "0.1.0",
    "SERVE_INCLUDE_SCHEMA": False,
    # Swagger UI and Redoc served from the sidecar package: the registry often runs offline.
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    # Deep links put a link inside each operation's expand button (nested controls, unusable by keyboard).
    "SWAGGER_UI_SETTINGS": {"deepLinking": False, "persistAuthorization": True},
    # One name per choice set shared by several serializers.
    "ENUM_NAME_OVERRIDES": {
        "RepositoryKindEnum": ["local", "remote", "virtual"],
        "ProvenanceKindEnum": ["pushed", "built", "promoted"],
        "PermissionEnum": ["read", "write", "delete", "promote", "admin"],
    },
}

# LOG_FORMAT=json: one JSON object per line. Every line carries the request id (X-Request-ID) and
# credentials are masked wherever they would appear (config/request_log.py).
LOG_FORMAT = env.str("LOG_FORMAT", default="plain")
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "filters": {
        "request_id": {"()": "config.request_log.RequestIdFilter"},
        "redact": {"()": "config.request_log.RedactSecretsFilter"},
    },
    "formatters": {
        "plain": {"format": "%(asctime)s %(levelname)s %(name)s [%(request_id)s] %(message)s"},
        "json": {"()": "config.request_log.JsonFormatter"},
    },
    "handlers": {
        "console": {
            "class": "logging.StreamHandler",
            "formatter": "json" if LOG_FORMAT == "json" else "plain",
            "filters": ["request_id", "redact"],
        }
    },
    "root": {"handlers": ["console"], "level": env.str("LOG_LEVEL", default="INFO")},
    # One line per request (method, path without the query, status, time); LOG_REQUESTS=false silences it.
    "loggers": {"registry.requests": {"level": "INFO" if env.bool("LOG_REQUESTS", default=True) else "WARNING"}},
}
# Optional: require `Authorization: Bearer <METRICS_TOKEN>` on /metrics.
METRICS_TOKEN = env.str("METRICS_TOKEN", default="")
