"""Run every fault scenario (each in its own process) and print their JSON lines, then one summary line.

    .venv/bin/python bench/faults/run_all.py                  # all five (about 15-25 minutes on 2 busy cores)
    .venv/bin/python bench/faults/run_all.py index_corruption disk_full

Needs root for the tmpfs (disk_full) and the throwaway PostgreSQL cluster (pg_restart); those scenarios print a
`skipped` line otherwise. Never touches the shared PostgreSQL (5432) or Redis (6379) servers beyond creating and
dropping its own `lookaway_faults_*` databases: restarts happen on throwaway servers (Redis 6390-6392, PostgreSQL
5433). Data under /tmp/lookaway-faults/ (FAULTS_DIR); FAULTS_PRODUCTS (300) sets the catalog size.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
import common  # noqa: E402

SCENARIOS = ("worker_kill", "redis_restart", "pg_restart", "disk_full", "index_corruption")
TIMEOUT_SECONDS = 1800


def run(name: str) -> list[dict]:
    started = time.monotonic()
    try:
        result = subprocess.run(
            [common.PYTHON, str(HERE / f"{name}.py")],
            cwd=common.ROOT,
            capture_output=True,
            text=True,
            timeout=TIMEOUT_SECONDS,
        )
    except subprocess.TimeoutExpired:
        return [common.emit(scenario=name, error=f"timed out after {TIMEOUT_SECONDS} s")]
    lines = []
    for line in result.stdout.splitlines():
        if line.startswith("{"):
            print(line, flush=True)
            lines.append(json.loads(line))
    if result.returncode != 0:
        tail = result.stderr.strip().splitlines()[-3:]
        lines.append(common.emit(scenario=name, error=f"exit {result.returncode}", stderr=tail))
    lines.append({"scenario": name, "wall_seconds": round(time.monotonic() - started, 1)})
    return lines


def _label(result: dict) -> str:
    return f"{result['scenario']}/{result.get('case') or result.get('variant')}"


def main() -> None:
    chosen = sys.argv[1:] or list(SCENARIOS)
    unknown = set(chosen) - set(SCENARIOS)
    if unknown:
        sys.exit(f"unknown scenario(s): {', '.join(sorted(unknown))}; known: {', '.join(SCENARIOS)}")
    results = [line for name in chosen for line in run(name)]
    cases = [r for r in results if "lost" in r]
    common.emit(
        scenario="summary",
        cases=len(cases),
        skipped=[r["scenario"] for r in results if r.get("skipped")],
        errors=[r["scenario"] for r in results if r.get("error")],
        lost_total=sum(r["lost"] or 0 for r in cases if isinstance(r.get("lost"), int)),
        cases_with_unknown_loss=[_label(r) for r in cases if r["lost"] is None],
        wall_seconds={r["scenario"]: r["wall_seconds"] for r in results if "wall_seconds" in r},
        products=common.PRODUCTS,
        machine=os.uname().nodename,
    )


if __name__ == "__main__":
    main()
