"""Redis-backed coordination of index rebuilds: a dirty flag, one scheduled rebuild at a time, one lock."""

from __future__ import annotations

import fcntl
import functools
import logging
import threading
from contextlib import contextmanager
from pathlib import Path

import redis
from django.conf import settings

DIRTY_KEY = "lookaway:index:dirty"
SCHEDULED_KEY = "lookaway:index:rebuild-scheduled"
LOCK_KEY = "lookaway:index:rebuild-lock"
# A dead holder's lock frees itself after this long; a live one renews it every third of it.
LOCK_TTL_SECONDS = 300
# Without Redis, builds on one machine exclude each other with an flock on this file in the index directory.
BUILD_LOCK_FILE = ".build.lock"

logger = logging.getLogger(__name__)


class RebuildInProgress(Exception):
    """Another process holds the rebuild lock."""


@functools.cache
def _client_for(url: str) -> redis.Redis:
    return redis.Redis.from_url(url, socket_timeout=10, socket_connect_timeout=5)


def redis_client() -> redis.Redis | None:
    """The Redis client for coordination, or None when no Redis is configured (single-process demo)."""
    url = getattr(settings, "REDIS_URL", None)
    return _client_for(url) if url else None


def index_mark_dirty() -> None:
    """Record that embeddings changed since the last build."""
    client = redis_client()
    if client is not None:
        client.set(DIRTY_KEY, "1")


def index_claim_schedule(*, ttl_seconds: int) -> bool:
    """True for exactly one caller until the scheduled rebuild starts (SET NX): that caller enqueues it."""
    client = redis_client()
    if client is None:
        return True
    return bool(client.set(SCHEDULED_KEY, "1", nx=True, ex=max(1, ttl_seconds)))


def index_release_schedule() -> None:
    """The scheduled rebuild has started: later changes may schedule another one."""
    client = redis_client()
    if client is not None:
        client.delete(SCHEDULED_KEY)


def index_take_dirty() -> bool:
    """Clear the dirty flag, returning whether it was set."""
    client = redis_client()
    if client is None:
        return True
    return bool(client.getdel(DIRTY_KEY))


def index_is_dirty() -> bool:
    """Whether embeddings changed since the last build started."""
    client = redis_client()
    return bool(client is not None and client.exists(DIRTY_KEY))


@contextmanager
def _local_build_lock(*, blocking: bool):
    """Without Redis (one machine): an flock on a file in the index directory, released when the process dies."""
    path = Path(settings.LOOKAWAY_INDEX_DIR) / BUILD_LOCK_FILE
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "a") as handle:
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | (0 if blocking else fcntl.LOCK_NB))
        except BlockingIOError as exc:
            raise RebuildInProgress("another index build is running on this machine") from exc
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


@contextmanager
def rebuild_lock(*, timeout_seconds: int = LOCK_TTL_SECONDS, blocking: bool = False):
    """Hold the cluster-wide rebuild lock, or raise RebuildInProgress.

    Without Redis, a file lock on this machine stands in. The Redis lock expires `timeout_seconds` after its holder
    stops renewing it: a heartbeat thread renews it while the
    build runs, so a long build keeps it and a killed worker's lock frees itself within minutes.
    """
    client = redis_client()
    if client is None:
        with _local_build_lock(blocking=blocking):
            yield
        return
    lock = client.lock(LOCK_KEY, timeout=timeout_seconds, blocking=blocking, thread_local=False)
    if not lock.acquire():
        raise RebuildInProgress("another index rebuild is running")
    stop = threading.Event()

    def heartbeat() -> None:
        while not stop.wait(timeout_seconds / 3):
            try:
                lock.reacquire()
            except (redis.exceptions.RedisError, redis.exceptions.LockError):
                logger.warning("could not renew the index rebuild lock", exc_info=True)

    renewer = threading.Thread(target=heartbeat, name="rebuild-lock-heartbeat", daemon=True)
    renewer.start()
    try:
        yield
    finally:
        stop.set()
        renewer.join(timeout=5)
        try:
            lock.release()
        except redis.exceptions.LockError:
            pass  # expired (could not be renewed): nothing to release
