#!/usr/bin/env bash
# Run the test suite. Uses DATABASE_URL when set (PostgreSQL in CI), else SQLite.
# Browser tests need Debian's chromium: installed here when missing and we may use apt.
# Usage: bash scripts/test.sh [pytest args...]
set -euo pipefail
cd "$(dirname "$0")/.."

bash scripts/setup.sh
if ! command -v chromium >/dev/null 2>&1 && [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
  echo "==> installing chromium (Debian package) for the browser tests"
  (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null) \
    || echo "!! chromium could not be installed: browser tests will be skipped"
fi
export LOOKAWAY_MODEL_DIR=${LOOKAWAY_MODEL_DIR:-$PWD/var/models}
exec .venv/bin/python -m pytest "$@"
