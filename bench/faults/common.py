"""Shared plumbing of the fault scenarios: throwaway servers, scenario databases, a worker, JSON lines.

Each scenario runs in its own process (bench/faults/run_all.py starts them), with its own database and data dir under
/tmp/lookaway-faults/, so the machine's shared PostgreSQL (5432) and Redis (6379) are never restarted: the restart
scenarios use a throwaway Redis on port 6390 and a separate PostgreSQL cluster on port 5433.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import time
import uuid
from pathlib import Path

import psycopg2
import redis

ROOT = Path(__file__).resolve().parents[2]
PYTHON = str(ROOT / ".venv" / "bin" / "python") if (ROOT / ".venv" / "bin" / "python").exists() else sys.executable
CELERY = str(Path(PYTHON).with_name("celery"))
BASE_DIR = Path(os.environ.get("FAULTS_DIR", "/tmp/lookaway-faults"))
MEDIA_ROOT = BASE_DIR / "media"  # shared by every scenario (content-addressed photos)
CATALOG = Path(os.environ.get("FAULTS_CATALOG", "/work/shared/catalog"))
MODEL_DIR = os.environ.get("LOOKAWAY_MODEL_DIR", "/work/models")
PRODUCTS = int(os.environ.get("FAULTS_PRODUCTS", "300"))
SHARED_PG = "127.0.0.1:5432"
FAULT_PG_PORT = 5433
FAULT_REDIS_PORT = 6390
FAULT_REDIS_URL = f"redis://127.0.0.1:{FAULT_REDIS_PORT}/0"
TEMPLATE_EMPTY = "lookaway_faults_empty"
TEMPLATE_IMPORTED = "lookaway_faults_imported"
TEMPLATE_EMBEDDED = "lookaway_faults_embedded"
THREADS = {"OMP_NUM_THREADS": "1", "OPENBLAS_NUM_THREADS": "1", "TF_NUM_INTRAOP_THREADS": "1"}


def emit(**fields) -> dict:
    """Print one JSON line (with the load average) and return it."""
    fields.setdefault("loadavg", [round(x, 2) for x in os.getloadavg()])
    print(json.dumps(fields), flush=True)
    return fields


def skip(scenario: str, reason: str) -> None:
    emit(scenario=scenario, skipped=True, reason=reason)
    sys.exit(0)


class Timer:
    def __init__(self) -> None:
        self.start = time.monotonic()

    def __call__(self) -> float:
        return round(time.monotonic() - self.start, 2)


def wait_until(condition, *, timeout: float, step: float = 0.25) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            if condition():
                return True
        except Exception:  # noqa: BLE001 - servers may be down while we poll
            pass
        time.sleep(step)
    return False


# --- servers ---------------------------------------------------------------------------------------------------


def fault_redis(*, appendonly: bool = False, port: int = FAULT_REDIS_PORT) -> redis.Redis:
    """A throwaway Redis (6390 unless told; started if not running), emptied."""
    client = redis.Redis(port=port, socket_connect_timeout=2)
    try:
        client.ping()
    except redis.exceptions.ConnectionError:
        start_fault_redis(appendonly=appendonly, port=port)
    client.flushall()
    return client


def start_fault_redis(*, appendonly: bool = False, port: int = FAULT_REDIS_PORT) -> None:
    if not shutil.which("redis-server"):
        raise RuntimeError("redis-server not installed")
    workdir = BASE_DIR / f"redis-{port}"
    workdir.mkdir(parents=True, exist_ok=True)
    subprocess.run(
        [
            "redis-server",
            "--port",
            str(port),
            "--bind",
            "127.0.0.1",
            "--save",
            "",
            "--appendonly",
            "yes" if appendonly else "no",
            "--dir",
            str(workdir),
            "--daemonize",
            "yes",
            "--pidfile",
            str(workdir / "redis.pid"),
            "--logfile",
            str(workdir / "redis.log"),
        ],
        check=True,
    )
    client = redis.Redis(port=port)
    if not wait_until(client.ping, timeout=10):
        raise RuntimeError("throwaway Redis did not start")


def stop_fault_redis(port: int = FAULT_REDIS_PORT) -> None:
    try:
        redis.Redis(port=port).shutdown(nosave=True)
    except redis.exceptions.ConnectionError:
        pass


def fault_pg_available() -> str | None:
    """None if the throwaway PostgreSQL cluster can be used, else the reason."""
    if not shutil.which("pg_createcluster"):
        return "pg_createcluster not installed (postgresql-common)"
    if os.geteuid() != 0:
        return "creating a PostgreSQL cluster needs root (pg_createcluster)"
    return None


def _pg_version() -> str:
    versions = sorted(p.name for p in Path("/usr/lib/postgresql").iterdir() if p.name.isdigit())
    return versions[-1]


def fault_pg_start() -> None:
    """The throwaway PostgreSQL cluster `faults` on 5433 (created on first use, trust auth on loopback), running."""
    version = _pg_version()
    conf = Path(f"/etc/postgresql/{version}/faults")
    if not conf.exists():
        subprocess.run(
            ["pg_createcluster", version, "faults", "--port", str(FAULT_PG_PORT)], check=True, capture_output=True
        )
        hba = conf / "pg_hba.conf"
        hba.write_text("local all all trust\nhost all all 127.0.0.1/32 trust\nhost all all ::1/128 trust\n")
        with open(conf / "postgresql.conf", "a") as handle:
            handle.write("\nfsync = off\nshared_buffers = 32MB\nmax_connections = 40\n")
    subprocess.run(["pg_ctlcluster", version, "faults", "start"], capture_output=True)
    if not wait_until(lambda: _pg_connect(f"127.0.0.1:{FAULT_PG_PORT}", "postgres").close() or True, timeout=30):
        raise RuntimeError("throwaway PostgreSQL did not start")


def fault_pg_restart(*, immediate: bool = True) -> None:
    """Restart the throwaway cluster: `-m immediate` drops every connection like a crash."""
    args = ["pg_ctlcluster", _pg_version(), "faults", "restart"]
    if immediate:
        args += ["-m", "immediate"]
    subprocess.run(args, check=True, capture_output=True)


def fault_pg_stop() -> None:
    if Path(f"/etc/postgresql/{_pg_version()}/faults").exists():
        subprocess.run(["pg_ctlcluster", _pg_version(), "faults", "stop", "-m", "fast"], capture_output=True)


# --- databases -------------------------------------------------------------------------------------------------


def _pg_connect(hostport: str, dbname: str):
    host, port = hostport.split(":")
    conn = psycopg2.connect(host=host, port=int(port), user="postgres", dbname=dbname, connect_timeout=3)
    conn.autocommit = True
    return conn


def database_url(name: str, hostport: str = SHARED_PG) -> str:
    return f"postgres://postgres@{hostport}/{name}"


def database_exists(name: str, hostport: str = SHARED_PG) -> bool:
    with _pg_connect(hostport, "postgres") as conn, conn.cursor() as cur:
        cur.execute("SELECT 1 FROM pg_database WHERE datname = %s", [name])
        return cur.fetchone() is not None


def recreate_database(name: str, *, hostport: str = SHARED_PG, template: str | None = None) -> str:
    """Drop and create a scenario database (optionally as a copy of a template); return its URL."""
    conn = _pg_connect(hostport, "postgres")
    with conn.cursor() as cur:
        cur.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        cur.execute(f'CREATE DATABASE "{name}"' + (f' TEMPLATE "{template}"' if template else ""))
    conn.close()
    return database_url(name, hostport)


def drop_database(name: str, *, hostport: str = SHARED_PG) -> None:
    conn = _pg_connect(hostport, "postgres")
    with conn.cursor() as cur:
        cur.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    conn.close()


def scenario_env(*, database: str, data_dir: Path, broker: str | None = None, **extra: str) -> dict[str, str]:
    """Environment of every process of one scenario (commands, workers, the scenario's own Django)."""
    env = {
        **os.environ,
        **THREADS,
        "DJANGO_SETTINGS_MODULE": "config.settings.local",
        "DATABASE_URL": database,
        "LOOKAWAY_DATA_DIR": str(data_dir),
        "MEDIA_ROOT": str(MEDIA_ROOT),
        "LOOKAWAY_INDEX_DIR": str(data_dir / "index"),
        "LOOKAWAY_MODEL_DIR": MODEL_DIR,
        "LOOKAWAY_ANNOY_TREES": "10",
        "LOG_LEVEL": "WARNING",
        "ALLOWED_HOSTS": "testserver,127.0.0.1,localhost",
        "CELERY_BROKER_URL": broker or "",
        "REDIS_URL": broker or "",
        **extra,
    }
    return env


def run_python(env: dict[str, str], code: str, *, timeout: float = 300) -> subprocess.CompletedProcess:
    """Run a Python snippet in a fresh process with the scenario's Django set up (a new web process, say)."""
    prelude = f"import django, json, sys; sys.path.insert(0, {str(ROOT)!r}); django.setup()\n"
    return subprocess.run(
        [PYTHON, "-c", prelude + code], cwd=ROOT, env=env, capture_output=True, text=True, timeout=timeout
    )


def last_json(text: str) -> dict:
    """The last JSON object line of a process's output."""
    for line in reversed(text.strip().splitlines()):
        if line.startswith("{"):
            return json.loads(line)
    raise ValueError(f"no JSON line in:\n{text[-2000:]}")


def manage(env: dict[str, str], *args: str, check: bool = True, timeout: float = 900) -> subprocess.CompletedProcess:
    result = subprocess.run(
        [PYTHON, "manage.py", *args], cwd=ROOT, env=env, capture_output=True, text=True, timeout=timeout
    )
    if check and result.returncode != 0:
        raise RuntimeError(f"manage.py {' '.join(args)} failed:\n{result.stdout[-2000:]}\n{result.stderr[-3000:]}")
    return result


def ensure_templates() -> None:
    """Three template databases on the shared server: migrated (empty), PRODUCTS imported (pending), embedded.

    Made once (about a minute: the real model embeds the photos) and copied by each scenario in under a second.
    """
    data_dir = BASE_DIR / "templates"
    data_dir.mkdir(parents=True, exist_ok=True)
    marker = BASE_DIR / f"templates-{PRODUCTS}.ready"
    names = (TEMPLATE_EMPTY, TEMPLATE_IMPORTED, TEMPLATE_EMBEDDED)
    if marker.exists() and all(database_exists(name) for name in names):
        return
    env = scenario_env(database=recreate_database(TEMPLATE_EMPTY), data_dir=data_dir)
    manage(env, "migrate", "--noinput")
    env = scenario_env(database=recreate_database(TEMPLATE_IMPORTED, template=TEMPLATE_EMPTY), data_dir=data_dir)
    manage(env, "import_catalog", str(CATALOG), "--limit", str(PRODUCTS), "--no-embed")
    env = scenario_env(database=recreate_database(TEMPLATE_EMBEDDED, template=TEMPLATE_IMPORTED), data_dir=data_dir)
    manage(env, "embed_images")
    marker.write_text("ok\n")


def setup_django(env: dict[str, str]) -> None:
    """Configure this process's Django from a scenario environment (call once, before any ORM use)."""
    os.environ.update(env)
    sys.path.insert(0, str(ROOT))
    import django

    django.setup()


# --- workers ---------------------------------------------------------------------------------------------------


class Worker:
    """A `celery worker` process group that can be SIGKILLed and restarted."""

    def __init__(self, env: dict[str, str], log_path: Path, queues: str = "embeddings,default"):
        self.env, self.log_path, self.queues = env, log_path, queues
        self.proc: subprocess.Popen | None = None

    def start(self, *, wait_ready: bool = True, timeout: float = 180) -> None:
        offset = self.log_path.stat().st_size if self.log_path.exists() else 0
        with open(self.log_path, "ab") as log:
            self.proc = subprocess.Popen(
                [
                    CELERY,
                    "-A",
                    "config",
                    "worker",
                    "-Q",
                    self.queues,
                    "-c",
                    "1",
                    "--without-gossip",
                    "--without-mingle",
                    "-l",
                    "info",
                    "-n",
                    f"faults-{uuid.uuid4().hex[:6]}@%h",
                ],
                cwd=ROOT,
                env={**self.env, "LOG_LEVEL": "INFO"},
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        if wait_ready and not wait_until(lambda: " ready." in self.log_since(offset), timeout=timeout):
            raise RuntimeError(f"worker not ready:\n{self.log_since(offset)[-3000:]}")

    def log_since(self, offset: int = 0) -> str:
        return self.log_path.read_bytes()[offset:].decode(errors="replace")

    def kill(self) -> None:
        if self.proc and self.proc.poll() is None:
            os.killpg(self.proc.pid, signal.SIGKILL)
            self.proc.wait(timeout=30)

    def stop(self) -> None:
        if self.proc and self.proc.poll() is None:
            os.killpg(self.proc.pid, signal.SIGTERM)
            try:
                self.proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.kill()
