"""Scale-out demonstration on loopback (JSON lines): two web processes and two Celery workers sharing one
PostgreSQL database, one Redis broker and one data directory (media + index versions).

What it shows, each as a JSON line:
- import: ~400 products imported; their embedding batches are queued on the `embeddings` queue;
- kill: worker w2 is SIGKILLed (whole process group) after it has finished a few batches; the batch it held is
  redelivered after the visibility timeout and w1 finishes everything;
- embed: every image embedded, tasks per worker counted from the worker logs;
- rebuild: with both workers up, two rebuild requests are sent at once: one builds, the other finds the lock taken
  or nothing left to do (one new version, one IndexVersion row);
- web: both gunicorn processes notice the new CURRENT version without restart (same worker pids; the version's
  files appear in /proc/<pid>/maps) and answer /api/v1/products/<id>/similar/ identically.

Everything it starts runs in its own process group and is killed on exit (normal end, error, Ctrl-C, SIGTERM).
Resources: PostgreSQL database `lookaway_scale` (dropped and re-created), Redis db 5 (flushed), /tmp/lookaway-scaleout.

Usage: .venv/bin/python bench/scaleout_demo.py [--products 400] [--keep]   (a few minutes on 2 cores)
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import signal
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
VENV = ROOT / ".venv" / "bin"
DB_NAME = "lookaway_scale"
BROKER = "redis://127.0.0.1:6379/5"
DATA = Path("/tmp/lookaway-scaleout")
PORTS = (8711, 8712)
WORKERS = ("w1", "w2")
BATCH = 16  # images per embedding task: ~25 tasks for 400 products, enough to spread over two workers
VISIBILITY = 60  # seconds before a dead worker's unacknowledged batch is handed out again

ENV = {
    **os.environ,
    "DJANGO_SETTINGS_MODULE": "scaleout_settings",
    "PYTHONPATH": f"{ROOT / 'bench'}:{ROOT}",
    "DATABASE_URL": f"postgres://postgres@127.0.0.1:5432/{DB_NAME}",
    "CELERY_BROKER_URL": BROKER,
    "REDIS_URL": BROKER,
    "LOOKAWAY_DATA_DIR": str(DATA),
    "LOOKAWAY_MODEL_DIR": os.environ.get("LOOKAWAY_MODEL_DIR", "/work/models"),
    "LOOKAWAY_EMBED_BATCH_SIZE": str(BATCH),
    "LOOKAWAY_INDEX_REBUILD_DELAY": "5",
    "CELERY_VISIBILITY_TIMEOUT": str(VISIBILITY),
    "LOOKAWAY_TF_INTRA_OP_THREADS": "1",
    "OMP_NUM_THREADS": "1",
    "OPENBLAS_NUM_THREADS": "1",
    "DEBUG": "false",
}

started: dict[str, subprocess.Popen] = {}  # everything this script started, by name; each leads its process group


def emit(**record) -> None:
    print(json.dumps(record), flush=True)


def run(*args: str, **kwargs) -> str:
    """Run a command to completion in the demo's environment; its stdout."""
    out = subprocess.run(args, env=ENV, cwd=ROOT, check=True, capture_output=True, text=True, **kwargs)
    return out.stdout


def manage(*args: str) -> str:
    return run(str(VENV / "python"), "manage.py", *args)


def sql(query: str) -> list[str]:
    """Rows of a query on the demo's database (psql, one line per row, columns separated by |)."""
    out = run("psql", "-h", "127.0.0.1", "-U", "postgres", "-d", DB_NAME, "-Atc", query)
    return [line for line in out.splitlines() if line]


def images_done() -> int:
    return int(sql("select count(*) from catalog_productimage where embedding_status = 'done'")[0])


def index_versions() -> list[str]:
    return sql("select version from embeddings_indexversion order by version")


def spawn(name: str, *args: str) -> subprocess.Popen:
    log = open(DATA / "logs" / f"{name}.log", "w")  # noqa: SIM115 - closed with the process at exit
    proc = subprocess.Popen(args, env=ENV, cwd=ROOT, stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
    started[name] = proc
    return proc


def kill(name: str, sig: int = signal.SIGTERM) -> None:
    """Signal the process group of one process this script started."""
    proc = started.get(name)
    if proc is None or proc.poll() is not None:
        return
    try:
        os.killpg(proc.pid, sig)
    except ProcessLookupError:
        return


def cleanup(*_args) -> None:
    """Stop everything this script started (TERM, then KILL what is left)."""
    for name in started:
        kill(name)
    deadline = time.monotonic() + 15
    for name, proc in started.items():
        try:
            proc.wait(timeout=max(0.1, deadline - time.monotonic()))
        except subprocess.TimeoutExpired:
            kill(name, signal.SIGKILL)
            proc.wait()
    for proc in started.values():  # pool children share the group: make sure none outlives its leader
        try:
            os.killpg(proc.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass


def wait_for(what: str, check, timeout: float, every: float = 1.0):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = check()
        if value:
            return value
        time.sleep(every)
    raise TimeoutError(f"gave up waiting for {what} after {timeout:.0f} s")


def http_json(port: int, path: str) -> tuple[int, dict]:
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}{path}", timeout=60) as resp:
            return resp.status, json.loads(resp.read())
    except urllib.error.HTTPError as exc:
        return exc.code, {}
    except (urllib.error.URLError, ConnectionError):
        return 0, {}


def task_ids(name: str, task: str, event: str) -> list[str]:
    """Ids of `task` ("embed_images_task", "rebuild_index_task") with this log event in one worker's log.

    event: "received", "succeeded" (any result), "built" (a rebuild that returned a version), "none" (a rebuild
    with nothing to do), "retry" (a rebuild that found the lock taken and will try again).
    """
    text = (DATA / "logs" / f"{name}.log").read_text(errors="replace")
    tail = {
        "received": r"received",
        "succeeded": r"succeeded",
        "built": r"succeeded in [\d.]+s: '",
        "none": r"succeeded in [\d.]+s: None",
        "retry": r"retry",
    }[event]
    return re.findall(rf"Task embeddings\.tasks\.{task}\[([0-9a-f-]+)\] {tail}", text)


def tally(names: tuple[str, ...], task: str, event: str) -> dict[str, int]:
    return {name: len(task_ids(name, task, event)) for name in names}


def unacked_task_ids(task: str) -> set[str]:
    """Ids of `task` messages delivered to some worker and not yet acknowledged (kombu's `unacked` hash in Redis)."""
    import redis

    headers = [json.loads(raw)[0]["headers"] for raw in redis.Redis.from_url(BROKER).hvals("unacked")]
    return {h["id"] for h in headers if h["task"] == f"embeddings.tasks.{task}"}


def web_worker_pids(name: str) -> list[int]:
    """The gunicorn workers (children) of one gunicorn master started here."""
    master = started[name].pid
    children = Path(f"/proc/{master}/task/{master}/children").read_text().split()
    return sorted(int(pid) for pid in children)


def mapped_versions(pid: int) -> list[str]:
    """Index versions whose Annoy file this process has memory-mapped."""
    maps = Path(f"/proc/{pid}/maps").read_text()
    return sorted(set(re.findall(r"/versions/([^/\s]+)/index\.ann", maps)))


def similar(port: int, product_ids: list[int]) -> list[list]:
    out = []
    for pid in product_ids:
        status, body = http_json(port, f"/api/v1/products/{pid}/similar/?k=8")
        out.append([status, [(r["product"]["id"], round(r["score"], 5)) for r in body.get("results", [])]])
    return out


def web_state(product_ids: list[int]) -> dict:
    """Ask both web servers for the same neighbours; then which version each worker process has mapped."""
    answers = {port: similar(port, product_ids) for port in PORTS}
    workers = {f"web{i + 1}": web_worker_pids(f"web{i + 1}") for i in range(len(PORTS))}
    versions = {name: {pid: mapped_versions(pid) for pid in pids} for name, pids in workers.items()}
    return {"answers": answers, "workers": workers, "versions": versions}


def memory_mb(pid: int) -> dict[str, int]:
    """RSS, PSS and the anonymous part of PSS of a process (from /proc/<pid>/smaps_rollup), MB."""
    fields = {}
    for line in Path(f"/proc/{pid}/smaps_rollup").read_text().splitlines()[1:]:
        key, _, value = line.partition(":")
        fields[key] = int(value.split()[0]) // 1024
    return {"rss": fields["Rss"], "pss": fields["Pss"], "pss_anon": fields.get("Pss_Anon", 0)}


def current_version() -> str | None:
    pointer = DATA / "index" / "CURRENT"
    return json.loads(pointer.read_text())["version"] if pointer.exists() else None


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--products", type=int, default=400)
    parser.add_argument("--catalog", type=Path, default=Path("/work/shared/catalog"))
    parser.add_argument("--kill-after", type=int, default=3, help="batches w2 finishes before it is killed")
    parser.add_argument(
        "--kill-holding-rebuild", action="store_true", help="kill w2 while it holds a scheduled (countdown) rebuild"
    )
    parser.add_argument("--keep", action="store_true", help="keep the database and data directory afterwards")
    args = parser.parse_args()
    t_start = time.monotonic()

    # ---- fresh shared resources
    shutil.rmtree(DATA, ignore_errors=True)
    (DATA / "logs").mkdir(parents=True)
    run("dropdb", "-h", "127.0.0.1", "-U", "postgres", "--if-exists", "--force", DB_NAME)
    run("createdb", "-h", "127.0.0.1", "-U", "postgres", DB_NAME)
    run("redis-cli", "-n", "5", "flushdb")
    manage("migrate", "--noinput")

    # ---- two workers (embeddings + default queues), two web processes
    for name in WORKERS:
        spawn(
            name,
            str(VENV / "celery"), "-A", "config", "worker", "-Q", "embeddings,default", "-c", "1",
            "--prefetch-multiplier", "1", "-n", f"{name}@%h", "--loglevel", "INFO", "--without-gossip",
            "--without-mingle",
        )  # fmt: skip
    for i, port in enumerate(PORTS):
        spawn(
            f"web{i + 1}",
            str(VENV / "gunicorn"), "config.wsgi", "-w", "1", "--threads", "2", "-b", f"127.0.0.1:{port}",
            "--timeout", "120",
        )  # fmt: skip
    wait_for("both web servers", lambda: all(http_json(p, "/api/v1/products/")[0] == 200 for p in PORTS), 120)
    wait_for(
        "both workers",
        lambda: all("ready." in (DATA / "logs" / f"{w}.log").read_text(errors="replace") for w in WORKERS),
        120,
    )
    emit(step="start", web_ports=PORTS, workers=WORKERS, database=DB_NAME, broker=BROKER, data_dir=str(DATA))

    # ---- import: queues the embedding batches on the broker
    t0 = time.monotonic()
    manage("import_catalog", str(args.catalog), "--limit", str(args.products))
    images = int(sql("select count(*) from catalog_productimage")[0])
    emit(step="import", products=args.products, images=images, seconds=round(time.monotonic() - t0, 1))

    # ---- kill w2 once it has finished a few batches; w1 must finish the rest (and w2's lost batch, redelivered)
    embed = "embed_images_task"

    def w2_mid_batch() -> bool:
        done, got = task_ids("w2", embed, "succeeded"), task_ids("w2", embed, "received")
        if args.kill_holding_rebuild:  # w2 holds a countdown rebuild (received, not started)
            waiting = set(task_ids("w2", "rebuild_index_task", "received"))
            return bool(waiting - set(task_ids("w2", "rebuild_index_task", "succeeded")))
        return len(done) >= args.kill_after and len(got) > len(done)

    wait_for("w2 to be mid-batch after a few batches", w2_mid_batch, 600, 0.2)
    in_flight = unacked_task_ids(embed)
    rebuilds_held = unacked_task_ids("rebuild_index_task")  # a countdown rebuild waits, unacknowledged, in a worker
    built_at_kill = len(task_ids("w1", "rebuild_index_task", "built"))
    kill("w2", signal.SIGKILL)
    started["w2"].wait()
    t_kill = time.monotonic()
    w2_done = set(task_ids("w2", embed, "succeeded"))
    # Held by w2 when it died: unacknowledged, not w1's (w1 gets a lost batch only after the visibility timeout).
    lost = in_flight - set(task_ids("w1", embed, "received")) - w2_done
    emit(
        step="kill",
        killed="w2 (SIGKILL to its process group: main process and pool child)",
        w2_batches_done=len(w2_done),
        w2_batches_lost_unacked=sorted(lost),
        w2_rebuild_requests_lost_unacked=sorted(rebuilds_held - set(task_ids("w1", "rebuild_index_task", "received"))),
        w1_batches_done=len(task_ids("w1", embed, "succeeded")),
        images_done=images_done(),
        images_total=images,
    )
    wait_for("all images embedded", lambda: images_done() >= images, 900, 2)
    # The worker logs a task's success just after its transaction commits: wait for the lines too.
    wait_for("w1 to log the lost batches", lambda: lost <= set(task_ids("w1", embed, "succeeded")), 60, 0.5)
    w1_done = task_ids("w1", embed, "succeeded")
    emit(
        step="embed",
        images_by_status=dict(
            row.split("|") for row in sql("select embedding_status, count(*) from catalog_productimage group by 1")
        ),  # fmt: skip
        seconds_after_kill=round(time.monotonic() - t_kill, 1),
        batches_by_worker={"w1": len(w1_done), "w2": len(w2_done)},
        batches_total=len(set(w1_done) | w2_done),
        w2_lost_batches_finished_by_w1=sorted(lost & set(w1_done)),
        index_builds_between_kill_and_last_batch=len(task_ids("w1", "rebuild_index_task", "built")) - built_at_kill,
        load_avg_1m=round(os.getloadavg()[0], 2),
    )

    # ---- the automatic coalesced rebuilds settle, then w2 comes back
    wait_for("an index version", current_version, 600, 2)
    spawn(
        "w2b",
        str(VENV / "celery"), "-A", "config", "worker", "-Q", "embeddings,default", "-c", "1",
        "--prefetch-multiplier", "1", "-n", "w2@%h", "--loglevel", "INFO", "--without-gossip", "--without-mingle",
    )  # fmt: skip
    wait_for("w2 back", lambda: "ready." in (DATA / "logs" / "w2b.log").read_text(errors="replace"), 120)

    def settled() -> bool:
        keys = ("lookaway:index:rebuild-scheduled", "lookaway:index:rebuild-lock", "lookaway:index:dirty")
        return run("redis-cli", "-n", "5", "exists", *keys).strip() == "0"

    wait_for("rebuilds to settle", settled, 600, 2)
    # Warm both workers up (a rebuild task with nothing to do loads the backbone), so the two requests below
    # really run at the same time instead of one waiting for its model to load.
    for _ in range(5):
        if task_ids("w2b", "rebuild_index_task", "none"):
            break
        manage("shell", "-c", "from embeddings.tasks import rebuild_index_task as t; t.delay(); t.delay()")
        time.sleep(15)
    rebuild, logs = "rebuild_index_task", ("w1", "w2", "w2b")
    auto_built, auto_none = tally(logs, rebuild, "built"), tally(logs, rebuild, "none")
    product_ids = [int(x) for x in sql("select id from catalog_product order by id")][::20]
    before = web_state(product_ids)
    version_before = current_version()
    emit(
        step="automatic_rebuilds",
        built=auto_built,
        nothing_to_do=auto_none,
        current_version=version_before,
        index_versions=index_versions(),
        web_mapped_versions=before["versions"],
    )

    # ---- two rebuild requests at once, both workers idle: the Redis lock lets exactly one build
    versions_before = index_versions()
    seen = {w: set(task_ids(w, rebuild, "received")) for w in ("w1", "w2b")}
    manage(
        "shell", "-c",
        "from embeddings.services import coordination; from embeddings.tasks import rebuild_index_task;"
        "coordination.index_mark_dirty(); rebuild_index_task.delay(); rebuild_index_task.delay()",
    )  # fmt: skip
    t0 = time.monotonic()

    def new_ids(event: str) -> dict[str, list[str]]:
        return {w: sorted(set(task_ids(w, rebuild, event)) - seen[w]) for w in ("w1", "w2b")}

    def finished() -> int:
        return sum(len(v) for v in new_ids("built").values()) + sum(len(v) for v in new_ids("none").values())

    wait_for("both rebuild requests handled", lambda: finished() >= 2, 600, 1)
    emit(
        step="double_rebuild_request",
        requests=2,
        received_by={w: len(v) for w, v in new_ids("received").items()},
        built_by={w: len(v) for w, v in new_ids("built").items()},
        nothing_to_do_by={w: len(v) for w, v in new_ids("none").items()},
        lock_taken_then_retried_by={w: len(v) for w, v in new_ids("retry").items()},
        new_versions=sorted(set(index_versions()) - set(versions_before)),
        seconds=round(time.monotonic() - t0, 1),
    )

    # ---- both web processes pick the new version up without restart and answer identically
    new_version = current_version()

    def picked_up():
        state = web_state(product_ids)
        mapped = [new_version in v for versions in state["versions"].values() for v in versions.values()]
        return state if all(mapped) else None

    t0 = time.monotonic()
    after_state = wait_for("both web processes on the new version", picked_up, 120, 1)
    answers = after_state["answers"]
    emit(
        step="web",
        new_version=new_version,
        seconds_to_pick_up=round(time.monotonic() - t0, 1),
        same_worker_pids=before["workers"] == after_state["workers"],
        worker_pids=after_state["workers"],
        mapped_versions=after_state["versions"],
        worker_memory_mb={name: [memory_mb(pid) for pid in pids] for name, pids in after_state["workers"].items()},
        products_compared=len(product_ids),
        all_200=all(a[0] == 200 for port in PORTS for a in answers[port]),
        identical_answers=answers[PORTS[0]] == answers[PORTS[1]],
        example=answers[PORTS[0]][0],
    )
    emit(step="done", seconds=round(time.monotonic() - t_start, 1), load_avg_1m=round(os.getloadavg()[0], 2))
    if not args.keep:
        cleanup()
        shutil.rmtree(DATA, ignore_errors=True)
        run("dropdb", "-h", "127.0.0.1", "-U", "postgres", "--if-exists", "--force", DB_NAME)
        run("redis-cli", "-n", "5", "flushdb")


if __name__ == "__main__":
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    try:
        main()
    finally:
        cleanup()
