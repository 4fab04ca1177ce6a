#!/usr/bin/env bash
# One command for a fresh machine: set up, import the sample catalog, embed, index and serve on 127.0.0.1:8000.
# Usage: bash scripts/demo.sh [CATALOG_PATH]   (default: ../shared/catalog)
set -euo pipefail
cd "$(dirname "$0")/.."
CATALOG=${1:-../shared/catalog}

bash scripts/setup.sh
export DJANGO_SETTINGS_MODULE=${DJANGO_SETTINGS_MODULE:-config.settings.local}
PY=.venv/bin/python

echo "==> database"
$PY manage.py migrate --noinput
echo "==> model weights (converted once, cached in var/models)"
$PY manage.py convert_weights
echo "==> importing $CATALOG"
$PY manage.py import_catalog "$CATALOG" --no-embed
echo "==> embedding images (in-process unless CELERY_BROKER_URL is set)"
$PY manage.py embed_images
echo "==> building the index"
$PY manage.py build_index
$PY manage.py demo_admin
echo "==> serving on http://127.0.0.1:8000/  (admin: http://127.0.0.1:8000/admin/)"
exec $PY manage.py runserver 127.0.0.1:8000
