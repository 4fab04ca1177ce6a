"""Serving under real HTTP load: gunicorn (config/gunicorn.conf.py) loaded by wrk with simulated shoppers.

Starts gunicorn on a free port against the configured database and index, waits for every worker to warm up, creates
one browser (cookies + CSRF token) per simulated shopper, then runs wrk (bench/http/shopper.lua, one connection per
shopper, no think time unless --think-ms) per scenario and concurrency. Prints JSON lines: one per (scenario,
concurrency, request kind) with p50/p95/p99, requests/s and errors, and one per run with the server's CPU time per
request.

Scenarios (see bench/http/shopper.lua):
  shop    new session on a random seed, then (feedback with a painted PNG mask, click a slate item) x 6, repeat
  browse  GET products/{id}/similar/, a new session on it, then 4 clicks on slate items (seed changes), repeat

Usage (the database needs an embedded, indexed catalog; the 9,000-product bench database for the published figures):
  DJANGO_SETTINGS_MODULE=config.settings.local DATABASE_URL=postgres://postgres@127.0.0.1:5432/lookaway_bench \\
  LOOKAWAY_DATA_DIR=/work/bench-data LOOKAWAY_MODEL_DIR=/work/models REDIS_URL=redis://127.0.0.1:6379/3 \\
  .venv/bin/python bench/bench_http.py                       # ~3 min: concurrency 1 and 4, 15 s each
  ... bench/bench_http.py --full                               # the sweep: 1,2,4,8,16 shoppers, 30 s each
  ... bench/bench_http.py --concurrency 4 --duration 60 --scenarios shop --workers 3 --threads 1

Skips with a JSON line (exit 0) when wrk is not installed or the catalog has no index.
"""

from __future__ import annotations

import argparse
import base64
import io
import json
import os
import random
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
SCRIPT = ROOT / "bench" / "http" / "shopper.lua"
KINDS = ("create", "feedback", "seed", "similar")


def emit(row: dict) -> None:
    print(json.dumps(row), flush=True)


def load_avg() -> list[float]:
    return [round(x, 2) for x in os.getloadavg()]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


# --- catalog -------------------------------------------------------------------------------------------------------


def indexed_products(limit: int, seed: int) -> tuple[list[int], dict[str, int]]:
    """Up to `limit` random active products of the current index version, and how many the index holds."""
    import django

    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.local")
    django.setup()
    from django.conf import settings

    from catalog.models import Product
    from embeddings.engine.index.store import IndexStore

    store = IndexStore(settings.LOOKAWAY_INDEX_DIR)
    version = store.current_version()
    if version is None:
        return [], {"indexed": 0}
    ids = np.load(store.version_dir(version) / "ids.npy", mmap_mode="r")
    sample = random.Random(seed).sample(range(len(ids)), min(len(ids), limit * 3))
    wanted = [int(ids[i]) for i in sample]
    active = set(Product.objects.filter(pk__in=wanted, is_active=True).values_list("pk", flat=True))
    return [pid for pid in wanted if pid in active][:limit], {"indexed": int(len(ids)), "version": version}


def photo_sizes(product_ids: list[int]) -> set[tuple[int, int]]:
    from catalog.models import ProductImage

    rows = ProductImage.objects.filter(product_id__in=product_ids).values_list("width", "height")
    return {(w, h) for w, h in rows if w and h}


def painted_masks(width: int, height: int, count: int, rng: random.Random) -> list[str]:
    """PNG data URLs like the storefront's canvas.toDataURL(): transparent, a red rectangle or blob, 10-30% painted."""
    from PIL import Image, ImageDraw

    urls = []
    for i in range(count):
        area = rng.uniform(0.10, 0.30) * width * height
        w = int(min(width - 1, max(1, (area**0.5) * rng.uniform(0.7, 1.4))))
        h = int(min(height - 1, max(1, area / w)))
        left, top = rng.randint(0, width - w), rng.randint(0, height - h)
        image = Image.new("RGBA", (width, height), (0, 0, 0, 0))
        draw = ImageDraw.Draw(image)
        box = (left, top, left + w, top + h)
        if i % 2:
            draw.ellipse(box, fill=(239, 68, 68, 255))  # a blob (an ellipse covers pi/4 of its box)
        else:
            draw.rectangle(box, fill=(239, 68, 68, 255))
        buffer = io.BytesIO()
        image.save(buffer, format="PNG")
        urls.append("data:image/png;base64," + base64.b64encode(buffer.getvalue()).decode("ascii"))
    return urls


# --- server --------------------------------------------------------------------------------------------------------


class Server:
    """gunicorn with config/gunicorn.conf.py on a free port, in its own process group; stopped on exit."""

    def __init__(self, *, workers: int, threads: int, log_path: Path) -> None:
        self.port = free_port()
        self.workers, self.threads = workers, threads
        self.log_path = log_path
        env = dict(os.environ)
        env.update(
            GUNICORN_BIND=f"127.0.0.1:{self.port}",
            GUNICORN_WORKERS=str(workers),
            GUNICORN_THREADS=str(threads),
            DEBUG=os.environ.get("DEBUG", "false"),
        )
        env.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.local")
        command = [
            str(Path(sys.executable).parent / "gunicorn"),
            "config.wsgi:application",
            "-c",
            str(ROOT / "config" / "gunicorn.conf.py"),
        ]
        self.log = open(log_path, "w")  # noqa: SIM115 - closed in stop()
        self.process = subprocess.Popen(
            command, cwd=ROOT, env=env, stdout=self.log, stderr=subprocess.STDOUT, start_new_session=True
        )

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def wait_ready(self, timeout: float) -> list[dict]:
        """Wait until every worker logged its warm-up; returns the warm-up timings."""
        deadline = time.monotonic() + timeout
        pattern = re.compile(r"worker (\d+) warmed up in ([\d.]+) s")
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"gunicorn exited ({self.process.returncode}); see {self.log_path}")
            found = pattern.findall(self.log_path.read_text(errors="replace"))
            if len(found) >= self.workers:
                return [{"pid": int(pid), "warm_up_s": float(s)} for pid, s in found]
            time.sleep(0.5)
        raise RuntimeError(f"gunicorn workers not ready after {timeout} s; see {self.log_path}")

    def worker_pids(self) -> list[int]:
        children = Path(f"/proc/{self.process.pid}/task/{self.process.pid}/children")
        try:
            return [int(pid) for pid in children.read_text().split()]
        except OSError:
            return []

    def cpu_seconds(self) -> float:
        """User + system CPU of the workers so far (Linux /proc)."""
        total = 0
        for pid in self.worker_pids():
            try:
                fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
            except OSError:
                continue
            total += int(fields[11]) + int(fields[12])  # utime, stime (clock ticks)
        return total / os.sysconf("SC_CLK_TCK")

    def stop(self) -> None:
        """Graceful stop of the whole process group; killed if it lingers or if we are interrupted meanwhile."""
        try:
            if self.process.poll() is None:
                os.killpg(self.process.pid, signal.SIGTERM)
                self.process.wait(timeout=30)
        except (subprocess.TimeoutExpired, KeyboardInterrupt):
            os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait()
        finally:
            self.log.close()


class External(Server):
    """A server started elsewhere: nothing to wait for or stop; its workers' CPU is measured if its pid is given."""

    def __init__(self, url: str, pid: int | None = None) -> None:
        self.url_ = url.rstrip("/")
        self.pid = pid

    @property
    def url(self) -> str:
        return self.url_

    def wait_ready(self, timeout: float) -> list[dict]:
        return []

    def worker_pids(self) -> list[int]:
        if self.pid is None:
            return []
        children = Path(f"/proc/{self.pid}/task/{self.pid}/children")
        return [int(pid) for pid in children.read_text().split()] if children.exists() else []

    def cpu_seconds(self) -> float:
        return super().cpu_seconds() if self.pid is not None else float("nan")

    def stop(self) -> None:
        pass


def make_browsers(base_url: str, seeds: list[int], count: int) -> list[dict]:
    """One browser per shopper: GET similar (sets csrftoken), POST a session (sets sessionid)."""
    import requests

    browsers = []
    for i in range(count):
        client = requests.Session()
        seed = seeds[i % len(seeds)]
        client.get(f"{base_url}/api/v1/products/{seed}/similar/", timeout=60).raise_for_status()
        token = client.cookies["csrftoken"]
        answer = client.post(
            f"{base_url}/api/v1/sessions/", json={"seed_id": seed}, headers={"X-CSRFToken": token}, timeout=60
        )
        answer.raise_for_status()
        browsers.append({"sessionid": client.cookies["sessionid"], "csrftoken": token})
    return browsers


# --- load ----------------------------------------------------------------------------------------------------------


def lua_value(value) -> str:
    """A Python value (dict, list, str, int, float) as a Lua literal."""
    if isinstance(value, dict):
        return "{" + ", ".join(f"[{lua_value(str(k))}] = {lua_value(v)}" for k, v in value.items()) + "}"
    if isinstance(value, list | tuple):
        return "{" + ", ".join(lua_value(v) for v in value) + "}"
    if isinstance(value, str):
        return json.dumps(value)  # JSON string escapes are valid Lua for the characters used here
    return repr(value)


def run_wrk(*, url: str, data: dict, concurrency: int, duration: int, work_dir: Path) -> tuple[dict, list[tuple]]:
    """One wrk run; returns wrk's totals and the per-request records (kind, status, latency_ms)."""
    out_dir = Path(tempfile.mkdtemp(dir=work_dir, prefix=f"{data['scenario']}-c{concurrency}-"))
    data_file = out_dir / "data.lua"
    data_file.write_text("return " + lua_value({**data, "out_dir": str(out_dir)}) + "\n")
    command = ["wrk", "-t", str(concurrency), "-c", str(concurrency), "-d", f"{duration}s", "--timeout", "10s"]
    command += ["-s", str(SCRIPT), url]
    env = {**os.environ, "LOOKAWAY_WRK_DATA": str(data_file)}
    result = subprocess.run(command, env=env, capture_output=True, text=True, timeout=duration + 60, check=False)
    totals = {}
    for line in result.stdout.splitlines():
        if line.startswith("{"):
            totals = json.loads(line)
    if result.returncode != 0 or not totals:
        raise RuntimeError(f"wrk failed ({result.returncode}): {result.stderr.strip() or result.stdout[-500:]}")
    records = []
    for path in sorted(out_dir.glob("thread-*.txt")):
        for line in path.read_text().splitlines():
            kind, status, micros = line.split()
            records.append((kind, int(status), int(micros) / 1000.0))
    return totals, records


def _round(value: float, digits: int = 1) -> float | None:
    return None if value != value else round(value, digits)  # NaN (CPU of an external server): null


def summarise(records: list[tuple], seconds: float) -> dict[str, dict]:
    rows = {}
    for kind in sorted({r[0] for r in records}):
        ok = np.array([ms for k, status, ms in records if k == kind and 200 <= status < 300])
        errors = sum(1 for k, status, _ in records if k == kind and not 200 <= status < 300)
        row = {"requests": int(len(ok) + errors), "errors": errors, "rps": round(len(ok) / seconds, 2)}
        if len(ok):
            row.update(
                p50_ms=round(float(np.percentile(ok, 50)), 1),
                p95_ms=round(float(np.percentile(ok, 95)), 1),
                p99_ms=round(float(np.percentile(ok, 99)), 1),
                mean_ms=round(float(ok.mean()), 1),
            )
        rows[kind] = row
    return rows


def _exit_on_sigterm(signum, frame) -> None:
    raise SystemExit(128 + signum)  # unwinds through `finally`, which stops the server


def main() -> None:
    signal.signal(signal.SIGTERM, _exit_on_sigterm)
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--concurrency", default="1,4", help="comma-separated shopper counts (default 1,4)")
    parser.add_argument("--duration", type=int, default=15, help="seconds per run (default 15)")
    parser.add_argument("--scenarios", default="shop,browse")
    parser.add_argument("--full", action="store_true", help="the sweep: concurrency 1,2,4,8,16, 30 s per run")
    parser.add_argument("--workers", type=int, default=int(os.environ.get("GUNICORN_WORKERS", 2)))
    parser.add_argument("--threads", type=int, default=int(os.environ.get("GUNICORN_THREADS", 2)))
    parser.add_argument("--feedbacks-per-session", type=int, default=6)
    parser.add_argument(
        "--think-ms", type=float, default=0.0, help="mean think time between requests, ms (exponential; 0: none)"
    )
    parser.add_argument("--k", type=int, default=8, help="slate size asked for (the storefront's default)")
    parser.add_argument("--seeds", type=int, default=500, help="random indexed products used as seeds")
    parser.add_argument("--warm-up", type=int, default=5, help="seconds of unreported load before the runs")
    parser.add_argument("--random-seed", type=int, default=20261121)
    parser.add_argument("--keep", action="store_true", help="keep the work folder (wrk records, gunicorn log)")
    parser.add_argument("--url", help="load an already running server (e.g. scripts/serve.sh) instead of starting one")
    parser.add_argument("--server-pid", type=int, help="with --url: the gunicorn master's pid, to measure its CPU")
    args = parser.parse_args()
    if args.full:
        args.concurrency, args.duration = "1,2,4,8,16", 30
    levels = [int(c) for c in args.concurrency.split(",") if c.strip()]
    scenarios = [s.strip() for s in args.scenarios.split(",") if s.strip()]
    base = {"bench": "http", "load_avg": load_avg()}

    if shutil.which("wrk") is None:
        emit({**base, "skipped": "wrk is not installed (Debian: apt-get install -y wrk)"})
        return
    seeds, index = indexed_products(args.seeds, args.random_seed)
    if not seeds:
        emit(
            {**base, "skipped": "no indexed catalog: set DATABASE_URL / LOOKAWAY_DATA_DIR to an embedded, indexed one"}
        )
        return

    rng = random.Random(args.random_seed)
    sizes = photo_sizes(seeds) or {(224, 224)}
    masks = {f"{w}x{h}": painted_masks(w, h, 12, rng) for w, h in sorted(sizes)[:20]}
    work_dir = Path(tempfile.mkdtemp(prefix="lookaway-http-"))
    config = {"workers": args.workers, "threads": args.threads, "worker_class": "gthread"}
    if args.url:
        server, config = External(args.url, args.server_pid), {"url": args.url}
    else:
        server = Server(workers=args.workers, threads=args.threads, log_path=work_dir / "gunicorn.log")
    try:
        started = time.monotonic()
        warm = server.wait_ready(timeout=600)
        emit({**base, "event": "server_ready", "gunicorn": config, "ready_s": round(time.monotonic() - started, 1),
              "workers_warm_up_s": [w["warm_up_s"] for w in warm], "catalog": index, "seeds": len(seeds)})  # fmt: skip
        browsers = make_browsers(server.url, seeds, max(levels))
        data = {
            "seeds": seeds,
            "browsers": browsers,
            "masks": masks,
            "k": args.k,
            "feedbacks_per_session": args.feedbacks_per_session,
            "clicks_per_product": 4,
            "random_seed": args.random_seed,
            "think_ms": args.think_ms,
        }
        if args.warm_up > 0:
            for scenario in scenarios:
                run_wrk(url=server.url, data={**data, "scenario": scenario}, concurrency=min(2, max(levels)),
                        duration=args.warm_up, work_dir=work_dir)  # fmt: skip
        for scenario in scenarios:
            for concurrency in levels:
                before_load, cpu_before, began = load_avg(), server.cpu_seconds(), time.monotonic()
                totals, records = run_wrk(
                    url=server.url, data={**data, "scenario": scenario}, concurrency=concurrency,
                    duration=args.duration, work_dir=work_dir,
                )  # fmt: skip
                seconds = totals["wrk_duration_us"] / 1e6 or (time.monotonic() - began)
                cpu = server.cpu_seconds() - cpu_before
                run = {**base, "scenario": scenario, "concurrency": concurrency, "think_ms": args.think_ms,
                       "load_avg": before_load}  # fmt: skip
                kinds = summarise(records, seconds)
                for kind, row in kinds.items():
                    emit({**run, "kind": kind, **row})
                done = sum(row["requests"] for row in kinds.values())
                socket_errors = sum(v for k, v in totals["wrk_errors"].items() if k != "status")
                emit({**run, "kind": "all", "requests": done, "rps": round(done / seconds, 2),
                      "errors": sum(row["errors"] for row in kinds.values()) + socket_errors,
                      "socket_errors": totals["wrk_errors"],
                      "server_cpu_ms_per_request": _round(1000 * cpu / max(done, 1)),
                      "server_cpu_cores_busy": _round(cpu / seconds, 2), "seconds": round(seconds, 1),
                      "gunicorn": config, "load_avg_after": load_avg()})  # fmt: skip
    finally:
        server.stop()
        if args.keep:
            emit({**base, "event": "kept", "work_dir": str(work_dir)})
        else:
            shutil.rmtree(work_dir, ignore_errors=True)


if __name__ == "__main__":
    main()
