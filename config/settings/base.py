"""Settings shared by every environment, read from the environment with django-environ."""

from pathlib import Path

import environ

BASE_DIR = Path(__file__).resolve().parents[2]

env = environ.Env()
env_file = BASE_DIR / ".env"
if env_file.exists():
    environ.Env.read_env(str(env_file))

DEVELOPMENT_SECRET_KEY = "django-insecure-lookaway-development-key-do-not-use-in-production"
SECRET_KEY = env("SECRET_KEY", default=DEVELOPMENT_SECRET_KEY)
DEBUG = env.bool("DEBUG", default=False)
ALLOWED_HOSTS = env.list("ALLOWED_HOSTS", default=["127.0.0.1", "localhost"])

# Everything the app writes (SQLite file, media, vectors, index files) lives under one directory.
DATA_DIR = Path(env("LOOKAWAY_DATA_DIR", default=str(BASE_DIR / "var"))).resolve()
MEDIA_ROOT = Path(env("MEDIA_ROOT", default=str(DATA_DIR / "media"))).resolve()
MEDIA_URL = "/media/"
STATIC_URL = "/static/"
STATIC_ROOT = Path(env("STATIC_ROOT", default=str(DATA_DIR / "static"))).resolve()
STATICFILES_DIRS = [BASE_DIR / "static"]

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "rest_framework",
    "drf_spectacular",
    "catalog",
    "embeddings",
    "feedback",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "config.middleware.SecurityHeadersMiddleware",
    "config.middleware.ApiJsonOnlyMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    # After CommonMiddleware, so a missing trailing slash still redirects (it turns 404 answers into redirects).
    "config.middleware.ShopNotFoundMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
]

ROOT_URLCONF = "config.urls"
WSGI_APPLICATION = "config.wsgi.application"
ASGI_APPLICATION = "config.asgi.application"

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

DATABASES = {"default": env.db("DATABASE_URL", default=f"sqlite:///{DATA_DIR / 'db.sqlite3'}")}
DATABASES["default"]["ATOMIC_REQUESTS"] = False
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # Wait for a lock instead of failing at once when the web process and an in-process task write together.
    DATABASES["default"].setdefault("OPTIONS", {})["timeout"] = 30
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

# Uploads through the admin import page (CSV + zip of images).
DATA_UPLOAD_MAX_MEMORY_SIZE = 10 * 1024 * 1024
FILE_UPLOAD_MAX_MEMORY_SIZE = 10 * 1024 * 1024
# Largest request body of one admin import (CSV 200 MiB + zip 4 GiB + form), refused from its Content-Length before
# it is read; keep the reverse proxy's limit in step (nginx: client_max_body_size 4300m; docs/OPERATIONS.md).
LOOKAWAY_IMPORT_MAX_UPLOAD_BYTES = env.int("LOOKAWAY_IMPORT_MAX_UPLOAD_BYTES", default=4300 * 1024**2)

# --- Security (production.py adds HTTPS-only settings) ----------------------------------------------
# Largest JSON body the API parses (a 2 MB mask data URL plus framing); larger ones get 413 unread.
LOOKAWAY_API_MAX_BODY_BYTES = env.int("LOOKAWAY_API_MAX_BODY_BYTES", default=2_621_440)
# Anonymous POST /api/v1/sessions/ per client IP (DRF rate, e.g. "120/minute"); empty: unlimited. Counted in the
# default cache. production.py defaults it to 120/minute; load tests leave it empty.
LOOKAWAY_API_SESSION_CREATE_RATE = env("LOOKAWAY_API_SESSION_CREATE_RATE", default="") or None
# No inline scripts anywhere (the storefront loads ES modules from static/; templates keep a few inline styles).
# Add the media host to img-src when photos are served from another origin (CDN, bucket).
LOOKAWAY_CONTENT_SECURITY_POLICY = env(
    "LOOKAWAY_CONTENT_SECURITY_POLICY",
    default="default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data: blob:; "
    "font-src 'self'; connect-src 'self'; object-src 'none'; base-uri 'self'; form-action 'self'; "
    "frame-ancestors 'none'",
)
# The Swagger UI (/api/docs/) loads its script and styles from the jsDelivr CDN.
LOOKAWAY_CSP_OVERRIDES = {
    "/api/docs/": "default-src 'self'; script-src 'self' https://cdn.jsdelivr.net; "
    "style-src 'self' 'unsafe-inline' https://cdn.jsdelivr.net; img-src 'self' data: https://cdn.jsdelivr.net; "
    "connect-src 'self'; object-src 'none'; base-uri 'self'; frame-ancestors 'none'",
}
LOOKAWAY_PERMISSIONS_POLICY = env(
    "LOOKAWAY_PERMISSIONS_POLICY", default="camera=(), microphone=(), geolocation=(), payment=(), usb=()"
)
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
SECURE_CROSS_ORIGIN_OPENER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"

CACHES = {"default": env.cache("CACHE_URL", default="locmemcache://")}

# --- Celery --------------------------------------------------------------------------------------
# With no broker configured, tasks run in-process (eagerly), so the one-command demo needs no server.
CELERY_BROKER_URL = env("CELERY_BROKER_URL", default=env("REDIS_URL", default="")) or None
CELERY_TASK_ALWAYS_EAGER = CELERY_BROKER_URL is None
CELERY_TASK_EAGER_PROPAGATES = True
CELERY_RESULT_BACKEND = None
CELERY_TASK_IGNORE_RESULT = True
CELERY_ACCEPT_CONTENT = ["json"]
CELERY_TASK_SERIALIZER = "json"
CELERY_TIMEZONE = TIME_ZONE
CELERY_TASK_DEFAULT_QUEUE = "default"
CELERY_TASK_ROUTES = {
    "embeddings.tasks.embed_images_task": {"queue": "embeddings"},
    "embeddings.tasks.rebuild_index_task": {"queue": "default"},
    "embeddings.tasks.requeue_stale_embeddings_task": {"queue": "default"},
}
# TensorFlow work is heavy and long: take one message at a time, acknowledge after the work is done.
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
# A killed worker's unacknowledged message is handed out again once it is visibility_timeout old. Kombu's defaults
# look for such messages only every 10 x 10 s and keep a crashed scanner's mutex for 300 s: scan every 10 s and let
# the mutex expire after 60 s instead (the scan takes milliseconds). docs/RELIABILITY.md has the measurements.
CELERY_BROKER_TRANSPORT_OPTIONS = {
    "visibility_timeout": env.int("CELERY_VISIBILITY_TIMEOUT", default=3600),
    "unacked_restore_interval": env.int("CELERY_UNACKED_RESTORE_INTERVAL", default=10),
    "unacked_restore_throttle": env.int("CELERY_UNACKED_RESTORE_THROTTLE", default=1),
    "unacked_mutex_expire": env.int("CELERY_UNACKED_MUTEX_EXPIRE", default=60),
}
REDIS_URL = env("REDIS_URL", default=CELERY_BROKER_URL or "") or None
# A killed worker's batch would wait for the visibility timeout. Instead, each worker records the embedding batches
# it receives and renews a heartbeat key (TTL LOOKAWAY_EMBED_STALE_SECONDS, renewed every quarter of it by a thread,
# however long a batch takes); a sweep on Celery beat queues again the pending images of batches whose worker's key
# expired. A false alarm (a worker frozen that long) costs one redone batch, skipped or upserted: no duplicates.
LOOKAWAY_EMBED_STALE_SECONDS = env.int("LOOKAWAY_EMBED_STALE_SECONDS", default=60)
# How often beat runs the sweep (0: never). Worst case from a kill to the batch queued again: the two added up.
LOOKAWAY_EMBED_SWEEP_SECONDS = env.int("LOOKAWAY_EMBED_SWEEP_SECONDS", default=60)
CELERY_BEAT_SCHEDULE = (
    {
        "requeue-stale-embeddings": {
            "task": "embeddings.tasks.requeue_stale_embeddings_task",
            "schedule": float(LOOKAWAY_EMBED_SWEEP_SECONDS),
            # A sweep nobody ran in time is dropped: the next one does the same work.
            "options": {"expires": LOOKAWAY_EMBED_SWEEP_SECONDS},
        }
    }
    if LOOKAWAY_EMBED_SWEEP_SECONDS > 0
    else {}
)

# --- REST framework ------------------------------------------------------------------------------
REST_FRAMEWORK = {
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    "DEFAULT_PAGINATION_CLASS": "rest_framework.pagination.PageNumberPagination",
    "PAGE_SIZE": 24,
    "DEFAULT_RENDERER_CLASSES": [
        "rest_framework.renderers.JSONRenderer",
        "rest_framework.renderers.BrowsableAPIRenderer",
    ],
    # Expected domain errors (bad masks, unknown ids, products not indexed yet) become 4xx JSON answers.
    "EXCEPTION_HANDLER": "feedback.api.exceptions.api_exception_handler",
    # JSON only, size-limited (LOOKAWAY_API_MAX_BODY_BYTES); anonymous session creation rate-limited.
    "DEFAULT_PARSER_CLASSES": ["feedback.api.parsers.LimitedJSONParser"],
    "DEFAULT_THROTTLE_CLASSES": ["feedback.api.throttling.SessionCreateThrottle"],
    "NUM_PROXIES": env.int("NUM_PROXIES", default=None),
}
SPECTACULAR_SETTINGS = {
    "TITLE": "Lookaway API",
    "DESCRIPTION": "Visual product recommendations steered by region feedback on product photos.",
    "VERSION": "1.0.0",
    "SERVE_INCLUDE_SCHEMA": False,
    "POSTPROCESSING_HOOKS": [
        "drf_spectacular.hooks.postprocess_schema_enums",
        "config.schema.add_common_error_responses",
    ],
}

# --- Lookaway ------------------------------------------------------------------------------------
LOOKAWAY_INDEX_DIR = Path(env("LOOKAWAY_INDEX_DIR", default=str(DATA_DIR / "index"))).resolve()
LOOKAWAY_MODEL_DIR = Path(env("LOOKAWAY_MODEL_DIR", default=str(DATA_DIR / "models"))).resolve()
LOOKAWAY_BACKBONE = env("LOOKAWAY_BACKBONE", default="efficientnet_lite0")
# Local ImageNet weights file for keras.applications backbones (air-gapped shops); empty: Keras cache/download.
LOOKAWAY_BACKBONE_WEIGHTS = env("LOOKAWAY_BACKBONE_WEIGHTS", default="")
# 32 images fill the 2-core CPU without growing memory; GPU workers raise it (256-1024).
LOOKAWAY_EMBED_BATCH_SIZE = env.int("LOOKAWAY_EMBED_BATCH_SIZE", default=32)
# TensorFlow thread pools of each process (0: TensorFlow's default). Web processes embedding one image per request
# are fastest with 1 intra-op thread (docs/BACKBONES.md); embedding workers keep the default.
LOOKAWAY_TF_INTRA_OP_THREADS = env.int("LOOKAWAY_TF_INTRA_OP_THREADS", default=0)
LOOKAWAY_TF_INTER_OP_THREADS = env.int("LOOKAWAY_TF_INTER_OP_THREADS", default=0)
# Annoy index (see docs/PERFORMANCE.md for how these were chosen).
LOOKAWAY_ANNOY_TREES = env.int("LOOKAWAY_ANNOY_TREES", default=50)
LOOKAWAY_ANNOY_SEARCH_K = env.int("LOOKAWAY_ANNOY_SEARCH_K", default=5000)
# Index an N-d PCA projection (fitted at build time) and re-rank candidates exactly with the full vectors; 0: index
# the full vectors. 256 measured 10x the queries/s of full 1280-d at higher recall (docs/PERFORMANCE.md).
LOOKAWAY_INDEX_PCA_DIM = env.int("LOOKAWAY_INDEX_PCA_DIM", default=256)
LOOKAWAY_INDEX_RERANK = env.int("LOOKAWAY_INDEX_RERANK", default=100)
# Versions kept on disk (current + previous ones for rollback).
LOOKAWAY_INDEX_KEEP_VERSIONS = env.int("LOOKAWAY_INDEX_KEEP_VERSIONS", default=3)
# Seconds to wait after an embedding batch before rebuilding, so close batches share one rebuild.
LOOKAWAY_INDEX_REBUILD_DELAY = env.int("LOOKAWAY_INDEX_REBUILD_DELAY", default=30)
# How often a web process checks for embeddings newer than its index (the "fresh" set), in seconds.
LOOKAWAY_FRESH_CHECK_SECONDS = env.float("LOOKAWAY_FRESH_CHECK_SECONDS", default=2.0)
LOOKAWAY_SLATE_SIZE = env.int("LOOKAWAY_SLATE_SIZE", default=8)
# Overrides of the feedback engine's EngineConfig fields (embeddings/engine/config.py); defaults there were
# chosen by `manage.py evaluate` (docs/EVALUATION.md). Example: {"w_pattern": 1.0}.
LOOKAWAY_ENGINE: dict = env.json("LOOKAWAY_ENGINE", default={})

# Import limits: a product photo bigger than this is refused with a reason, never decoded.
LOOKAWAY_MAX_IMAGE_BYTES = env.int("LOOKAWAY_MAX_IMAGE_BYTES", default=20 * 1024 * 1024)
LOOKAWAY_MAX_IMAGE_PIXELS = env.int("LOOKAWAY_MAX_IMAGE_PIXELS", default=40_000_000)

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s: %(message)s"}},
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "plain"}},
    "root": {"handlers": ["console"], "level": env("LOG_LEVEL", default="INFO")},
}
