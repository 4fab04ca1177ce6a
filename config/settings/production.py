"""Production settings: refuse to start without a real secret key; HTTPS-only cookies and headers by default.

Every HTTPS setting can be changed from the environment (e.g. SECURE_SSL_REDIRECT=false when the proxy redirects
itself), but the defaults are the safe ones: `manage.py check --deploy --fail-level WARNING` passes with only
SECRET_KEY, ALLOWED_HOSTS and DATABASE_URL set (config/tests/test_deploy_check.py).
"""

from django.core.exceptions import ImproperlyConfigured

from config.settings.base import *  # noqa: F403
from config.settings.base import DEVELOPMENT_SECRET_KEY, SECRET_KEY, env

if not SECRET_KEY or SECRET_KEY == DEVELOPMENT_SECRET_KEY or len(SECRET_KEY) < 50 or len(set(SECRET_KEY)) < 5:
    raise ImproperlyConfigured("Set SECRET_KEY to a long random value (50+ characters) for production.")

DEBUG = False
if env.bool("DEBUG", default=False):
    raise ImproperlyConfigured("DEBUG must not be enabled with the production settings.")

# TLS ends at the proxy, which must set X-Forwarded-Proto (and strip it from client requests).
SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
SECURE_SSL_REDIRECT = env.bool("SECURE_SSL_REDIRECT", default=True)
SESSION_COOKIE_SECURE = env.bool("SESSION_COOKIE_SECURE", default=True)
CSRF_COOKIE_SECURE = env.bool("CSRF_COOKIE_SECURE", default=True)
SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SAMESITE = "Lax"
CSRF_COOKIE_SAMESITE = "Lax"
# https://shop.example.com for each host (needed by Django's CSRF check behind an HTTPS proxy on other ports).
CSRF_TRUSTED_ORIGINS = env.list("CSRF_TRUSTED_ORIGINS", default=[])
SECURE_HSTS_SECONDS = env.int("SECURE_HSTS_SECONDS", default=60 * 60 * 24 * 365)
SECURE_HSTS_INCLUDE_SUBDOMAINS = env.bool("SECURE_HSTS_INCLUDE_SUBDOMAINS", default=True)
SECURE_HSTS_PRELOAD = env.bool("SECURE_HSTS_PRELOAD", default=True)
SECURE_CONTENT_TYPE_NOSNIFF = True
X_FRAME_OPTIONS = "DENY"

# Anonymous session creation is rate-limited by default in production (per client IP; see base.py).
LOOKAWAY_API_SESSION_CREATE_RATE = env("LOOKAWAY_API_SESSION_CREATE_RATE", default="120/minute") or None
