"""Redis-backed coordination: index rebuilds (a dirty flag, one scheduled rebuild, one lock) and which worker holds
which embedding batch (claims and per-worker heartbeats)."""

from __future__ import annotations

import fcntl
import functools
import json
import logging
import os
import socket
import threading
import time
import uuid
from contextlib import contextmanager
from dataclasses import dataclass
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


# --- Embedding batches held by workers ---------------------------------------------------------------------------
# A worker records each embedding batch it receives (running, prefetched or waiting for a retry) under its own
# token, and keeps a per-worker key alive with a heartbeat thread. A SIGKILLed worker stops the heartbeat: once its
# key expires, the sweep queues its batches again instead of waiting for the broker's visibility timeout (1 hour).
EMBED_CLAIMS_KEY = "lookaway:embed:claims"
WORKER_ALIVE_KEY = "lookaway:embed:worker:{token}"


@dataclass(frozen=True)
class EmbedClaim:
    """An embedding batch received by a worker: the task id, the images, whether forced, who holds it and since."""

    task_id: str
    image_ids: list[int]
    force: bool
    worker: str
    claimed_at: float


@functools.cache
def _worker_token(pid: int) -> str:
    return f"{socket.gethostname()}:{pid}:{uuid.uuid4().hex[:8]}"


def worker_token() -> str:
    """This worker process's identity for claims: host, pid and a random part (a restarted worker is a new one)."""
    return _worker_token(os.getpid())


def worker_alive(*, ttl_seconds: int) -> None:
    """Say that this worker is alive for the next `ttl_seconds` (the heartbeat)."""
    client = redis_client()
    if client is not None:
        client.set(WORKER_ALIVE_KEY.format(token=worker_token()), "1", ex=max(1, ttl_seconds))


def worker_gone() -> None:
    """This worker stops cleanly: its batches are anybody's once it is gone (the sweep queues them again)."""
    client = redis_client()
    if client is not None:
        client.delete(WORKER_ALIVE_KEY.format(token=worker_token()))


class WorkerHeartbeat:
    """A daemon thread renewing this worker's alive key every quarter of its TTL until stopped."""

    def __init__(self, *, ttl_seconds: int):
        self.ttl_seconds = ttl_seconds
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="embed-worker-heartbeat", daemon=True)

    def start(self) -> None:
        worker_alive(ttl_seconds=self.ttl_seconds)
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(timeout=5)

    def _run(self) -> None:
        while not self._stop.wait(self.ttl_seconds / 4):
            try:
                worker_alive(ttl_seconds=self.ttl_seconds)
            except redis.exceptions.RedisError:
                logger.warning("could not renew this worker's heartbeat", exc_info=True)


def embed_claim(*, task_id: str, image_ids: list[int], force: bool, ttl_seconds: int) -> None:
    """Record that this worker holds this embedding batch (and that it is alive)."""
    client = redis_client()
    if client is None:
        return
    claim = {"ids": [int(i) for i in image_ids], "force": bool(force), "worker": worker_token(), "at": time.time()}
    pipe = client.pipeline(transaction=True)
    pipe.hset(EMBED_CLAIMS_KEY, task_id, json.dumps(claim))
    pipe.set(WORKER_ALIVE_KEY.format(token=claim["worker"]), "1", ex=max(1, ttl_seconds))
    pipe.execute()


def embed_release(*, task_id: str) -> None:
    """The batch is finished (stored, failed or handed to a retry): nobody needs to redo it."""
    client = redis_client()
    if client is not None:
        client.hdel(EMBED_CLAIMS_KEY, task_id)


def embed_claims_orphaned(*, older_than_seconds: float) -> list[EmbedClaim]:
    """Claims older than this whose worker's alive key has expired (the worker died without finishing them)."""
    client = redis_client()
    if client is None:
        return []
    claims = []
    for task_id, raw in client.hgetall(EMBED_CLAIMS_KEY).items():
        try:
            data = json.loads(raw)
            claim = EmbedClaim(
                task_id.decode(), [int(i) for i in data["ids"]], bool(data["force"]), data["worker"], float(data["at"])
            )
        except (ValueError, KeyError, TypeError):
            logger.warning("dropping an unreadable embedding claim %r: %r", task_id, raw)
            client.hdel(EMBED_CLAIMS_KEY, task_id)
            continue
        if time.time() - claim.claimed_at >= older_than_seconds:
            claims.append(claim)
    if not claims:
        return []
    pipe = client.pipeline(transaction=False)
    for claim in claims:
        pipe.exists(WORKER_ALIVE_KEY.format(token=claim.worker))
    alive = pipe.execute()
    return [claim for claim, is_alive in zip(claims, alive, strict=True) if not is_alive]


def embed_claim_take(*, task_id: str) -> bool:
    """Remove an orphaned claim; True for exactly one caller (HDEL), who then queues its images again."""
    client = redis_client()
    return bool(client is not None and client.hdel(EMBED_CLAIMS_KEY, task_id))
