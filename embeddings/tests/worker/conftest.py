"""A real `celery worker` subprocess against the test Redis and the test PostgreSQL database."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
import uuid
from pathlib import Path

import pytest
import redis
from celery import Celery

BROKER_URL = os.environ.get("TEST_CELERY_BROKER_URL", "redis://127.0.0.1:6379/3")
CELERY_BIN = Path(sys.executable).with_name("celery")
READY_TIMEOUT = 90


def wait_for(condition, *, timeout: float, worker: WorkerProcess, what: str, poll_seconds: float = 0.25) -> None:
    """Poll `condition` until it holds; fail with the worker's log after `timeout` seconds."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return
        time.sleep(poll_seconds)
    pytest.fail(f"timed out after {timeout:.0f} s waiting for {what}; worker log:\n{worker.log()}")


class WorkerProcess:
    """One worker process group (prefork parent + child) that can be started, SIGKILLed and restarted."""

    def __init__(self, env: dict[str, str], log_path: Path, extra_args: tuple[str, ...] = ()):
        self.env = env
        self.log_path = log_path
        self.extra_args = extra_args
        self.proc: subprocess.Popen | None = None

    def start(self) -> None:
        offset = self.log_path.stat().st_size if self.log_path.exists() else 0
        log = open(self.log_path, "ab")  # noqa: SIM115 - closed with the process
        command = [
            str(CELERY_BIN),
            "-A",
            "config",
            "worker",
            "-Q",
            "embeddings,default",
            "-c",
            "1",
            "--pool",
            "prefork",
            "--without-gossip",
            "--without-mingle",
            "--without-heartbeat",
            "-l",
            "info",
            "-n",
            f"h3-test-{uuid.uuid4().hex[:6]}@%h",
            *self.extra_args,
        ]
        self.proc = subprocess.Popen(
            command,
            env=self.env,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
            cwd=Path(__file__).resolve().parents[3],
        )
        log.close()
        deadline = time.monotonic() + READY_TIMEOUT
        while time.monotonic() < deadline:
            text = self.log_path.read_bytes()[offset:].decode(errors="replace")
            if " ready." in text:
                return
            if self.proc.poll() is not None:
                raise RuntimeError(f"celery worker exited early:\n{text[-3000:]}")
            time.sleep(0.2)
        raise RuntimeError(f"celery worker not ready after {READY_TIMEOUT} s")

    def kill(self) -> None:
        """SIGKILL the whole worker (parent and pool child): no chance to ack or requeue anything."""
        if self.proc and self.proc.poll() is None:
            os.killpg(self.proc.pid, signal.SIGKILL)
            self.proc.wait(timeout=30)

    def stop(self) -> None:
        if self.proc and self.proc.poll() is None:
            os.killpg(self.proc.pid, signal.SIGTERM)
            try:
                self.proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                self.kill()

    def log(self) -> str:
        return self.log_path.read_text(errors="replace")[-4000:]


@pytest.fixture(scope="module")
def broker() -> redis.Redis:
    """The test Redis db (emptied): broker queues and coordination keys of these tests only."""
    client = redis.Redis.from_url(BROKER_URL)
    try:
        client.ping()
    except redis.exceptions.ConnectionError:
        pytest.skip(f"worker tests need Redis at {BROKER_URL}")
    client.flushdb()
    yield client
    client.flushdb()


@pytest.fixture(scope="module")
def sender(broker) -> Celery:
    """A client app that only sends tasks to the test broker (the project app stays eager in this process)."""
    app = Celery("h3-test-sender", broker=BROKER_URL)
    app.conf.task_routes = {"embeddings.tasks.embed_images_task": {"queue": "embeddings"}}
    yield app
    app.close()


@pytest.fixture(scope="module")
def worker_data_dir(tmp_path_factory) -> Path:
    return tmp_path_factory.mktemp("worker-data")


@pytest.fixture
def worker_settings(settings, worker_data_dir, transactional_db):
    """This process and the worker share the database, media and index directories."""
    settings.MEDIA_ROOT = worker_data_dir / "media"
    settings.LOOKAWAY_INDEX_DIR = worker_data_dir / "index"
    settings.REDIS_URL = BROKER_URL
    settings.LOOKAWAY_FRESH_CHECK_SECONDS = 0
    return settings


def worker_env(data_dir: Path, **overrides: str) -> dict[str, str]:
    """Environment of a worker process seeing the test database, the test Redis and `data_dir`."""
    from django.conf import settings

    db = settings.DATABASES["default"]
    if db["ENGINE"] != "django.db.backends.postgresql":
        pytest.skip("worker tests need PostgreSQL (set DATABASE_URL): a worker process cannot see a SQLite test DB")
    host = f"{db['HOST'] or '127.0.0.1'}:{db['PORT'] or 5432}"
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "config.settings.test",
        "DATABASE_URL": f"postgres://{db['USER'] or 'postgres'}@{host}/{db['NAME']}",
        "TEST_CELERY_BROKER_URL": BROKER_URL,
        "TEST_CELERY_EAGER": "false",
        "TEST_REDIS_URL": BROKER_URL,
        "LOOKAWAY_TEST_DATA_DIR": str(data_dir),
        "LOOKAWAY_INDEX_REBUILD_DELAY": "2",
    }
    env.pop("CELERY_VISIBILITY_TIMEOUT", None)
    return {**env, **overrides}


@pytest.fixture(scope="module")
def worker(django_db_setup, broker, worker_data_dir):
    """One worker for the module (the model loads once), seeing the test database; stopped at the end.

    Visibility timeout 8 s: a killed worker's unacknowledged batch is redelivered within seconds.
    """
    process = WorkerProcess(worker_env(worker_data_dir, CELERY_VISIBILITY_TIMEOUT="8"), worker_data_dir / "worker.log")
    process.start()
    yield process
    process.stop()
