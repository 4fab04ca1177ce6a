#!/usr/bin/env bash
# Production-like serving: gunicorn with config/gunicorn.conf.py (workers warmed before they accept requests).
#
#   scripts/serve.sh                         # 127.0.0.1:8000, settings from DJANGO_SETTINGS_MODULE (default local)
#   GUNICORN_BIND=0.0.0.0:8000 GUNICORN_WORKERS=4 scripts/serve.sh
#   scripts/serve.sh --access-logfile -      # extra arguments go to gunicorn
#
# The environment carries the rest (DATABASE_URL, REDIS_URL, LOOKAWAY_DATA_DIR, LOOKAWAY_MODEL_DIR, SECRET_KEY ...);
# see docs/OPERATIONS.md, section "Serving".
set -euo pipefail
cd "$(dirname "$0")/.."

export DJANGO_SETTINGS_MODULE="${DJANGO_SETTINGS_MODULE:-config.settings.local}"
# The development settings turn DEBUG on (which records every SQL query): serve with it off unless asked.
export DEBUG="${DEBUG:-false}"
# Static files (CSS, JS) are served by the web server in front in production; here, WhiteNoise is not used, so
# collect them once for a reverse proxy to serve from STATIC_ROOT.
if [[ "${SERVE_COLLECTSTATIC:-1}" == "1" ]]; then
  .venv/bin/python manage.py collectstatic --noinput -v 0
fi
exec .venv/bin/gunicorn config.wsgi:application -c config/gunicorn.conf.py "$@"
