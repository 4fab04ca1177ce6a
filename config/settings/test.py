"""Test settings: the database comes from DATABASE_URL (PostgreSQL in CI, SQLite by default)."""

import tempfile
from pathlib import Path

from config.settings.base import *  # noqa: F403
from config.settings.base import CELERY_BROKER_TRANSPORT_OPTIONS, env

DEBUG = False
PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
# Each test run writes media, vectors and index files to its own temporary directory.
_TEST_DATA_DIR = Path(env("LOOKAWAY_TEST_DATA_DIR", default=tempfile.mkdtemp(prefix="lookaway-test-")))
DATA_DIR = _TEST_DATA_DIR
MEDIA_ROOT = _TEST_DATA_DIR / "media"
LOOKAWAY_INDEX_DIR = _TEST_DATA_DIR / "index"
# Converted model weights are expensive to produce: share them between test runs.
LOOKAWAY_MODEL_DIR = Path(
    env("LOOKAWAY_MODEL_DIR", default=str(Path(tempfile.gettempdir()) / "lookaway-models"))
).resolve()
# Tests decide per test whether a broker is used; by default tasks run in-process.
CELERY_BROKER_URL = env("TEST_CELERY_BROKER_URL", default="") or None
# Real-worker tests start `celery worker` with these settings and TEST_CELERY_EAGER=false.
CELERY_TASK_ALWAYS_EAGER = env.bool("TEST_CELERY_EAGER", default=True)
# Such workers look for unacknowledged messages of dead workers every 2 s (kombu default: every 10 s, scanning every
# 10th time), so a killed worker's batch is redelivered right after CELERY_VISIBILITY_TIMEOUT; a worker killed while
# scanning leaves the scan mutex behind for unacked_mutex_expire (default 300 s).
CELERY_BROKER_TRANSPORT_OPTIONS = {
    **CELERY_BROKER_TRANSPORT_OPTIONS,
    "unacked_restore_interval": 2,
    "unacked_restore_throttle": 1,
    "unacked_mutex_expire": 10,
}
REDIS_URL = env("TEST_REDIS_URL", default="redis://127.0.0.1:6379/15")
