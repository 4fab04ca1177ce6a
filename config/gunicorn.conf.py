"""Gunicorn settings for the web tier: a few workers sharing the memory-mapped index, each warmed before it serves.

Every value can be overridden from the environment (GUNICORN_*) or the command line (`gunicorn -c ... -w 3`).
TensorFlow is never imported before the fork: the master only loads this file, and each worker builds its own
model in post_worker_init (TensorFlow's thread pools do not survive a fork).
"""

from __future__ import annotations

import os
import sys
import threading
import time

bind = os.environ.get("GUNICORN_BIND", "127.0.0.1:8000")
# CPU-bound requests (a masked forward pass, numpy re-ranking) on a 2-core machine: one worker per core, plus
# threads so a request waiting on PostgreSQL does not idle the core (TensorFlow and numpy release the GIL).
workers = int(os.environ.get("GUNICORN_WORKERS", "2"))
threads = int(os.environ.get("GUNICORN_THREADS", "2"))
worker_class = "gthread"
# Model build + warm-up takes a few seconds per worker (longer on a busy machine); requests are well under 1 s.
timeout = int(os.environ.get("GUNICORN_TIMEOUT", "60"))
graceful_timeout = 30
# Idle keep-alive connections are parked in the poller (no thread held). Longer than a shopper's pause between
# clicks, or a proxy's upstream keep-alive: a connection closed under a client costs it a reconnect and a retry.
keepalive = int(os.environ.get("GUNICORN_KEEPALIVE", "30"))
# Recycle workers now and then (jitter avoids restarting them all at once); 0 disables.
max_requests = int(os.environ.get("GUNICORN_MAX_REQUESTS", "0"))
max_requests_jitter = max_requests // 10
preload_app = False  # each worker imports Django itself; nothing heavy (and never TensorFlow) in the master
# No control socket: its default path is per user, so two servers on one machine (a bench next to the demo) collide.
control_socket_disable = True
accesslog = os.environ.get("GUNICORN_ACCESS_LOG") or None
errorlog = "-"
loglevel = os.environ.get("GUNICORN_LOG_LEVEL", "info")

# One thread per worker for TensorFlow and BLAS: requests run in parallel across workers, not inside one op.
# Set in the master's environment, so the forked workers start with them (before numpy or TensorFlow load).
for _var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_var, "1")
os.environ.setdefault("LOOKAWAY_TF_INTRA_OP_THREADS", "1")
os.environ.setdefault("LOOKAWAY_TF_INTER_OP_THREADS", "1")
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")


def persistent_connections(url: str, max_age: int) -> str:
    """DATABASE_URL with conn_max_age (and health checks) added, unless it sets them itself or max_age is 0.

    Without it Django opens a new PostgreSQL connection per request (a backend process fork plus authentication:
    several milliseconds of CPU on a 2-core machine). Each worker thread keeps its own connection, so PostgreSQL
    sees workers x threads connections per machine.
    """
    if max_age <= 0 or not url.startswith(("postgres://", "postgresql://", "pgsql://")) or "conn_max_age" in url:
        return url
    return f"{url}{'&' if '?' in url else '?'}conn_max_age={max_age}&conn_health_checks=true"


if os.environ.get("DATABASE_URL"):
    os.environ["DATABASE_URL"] = persistent_connections(
        os.environ["DATABASE_URL"], int(os.environ.get("GUNICORN_DB_CONN_MAX_AGE", "300"))
    )


def when_ready(server) -> None:
    """The master is listening; make sure nothing imported TensorFlow in it (it must happen after the fork)."""
    if "tensorflow" in sys.modules:
        server.log.warning("TensorFlow was imported in the gunicorn master: workers may inherit a broken runtime")


def post_worker_init(worker) -> None:
    """Load the model and the catalog view (and run one query through each) before the worker accepts requests."""
    began = time.perf_counter()
    done = threading.Event()

    def heartbeat() -> None:  # loading TensorFlow can outlast `timeout` on a busy machine: keep telling the master
        while not done.wait(2.0):
            worker.notify()

    threading.Thread(target=heartbeat, name="warm-up-heartbeat", daemon=True).start()
    try:
        from embeddings.serving.shared_recommender import warm_up

        details = warm_up(notify=worker.notify)
    except Exception:  # a worker that cannot warm up still serves (and answers 409/500 with a clear log)
        worker.log.exception("worker %s: warm-up failed", worker.pid)
        return
    finally:
        done.set()
    worker.log.info("worker %s warmed up in %.1f s: %s", worker.pid, time.perf_counter() - began, details)
