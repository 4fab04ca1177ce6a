"""Pipeline benchmark (JSON lines): import + embed + index the catalog from scratch on a temporary SQLite database.

Each step runs as the operator would run it (a `manage.py` process), so model loading is included in the embed and
index steps. The index's aligned vectors are kept in the bench cache for bench_index.py (real-data recall).

Usage: .venv/bin/python bench/bench_pipeline.py [--catalog ../shared/catalog] [--limit N]
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from config.shared import SHARED_CATALOG as SHARED_CATALOG_DIR

ROOT = Path(__file__).resolve().parents[1]
CACHE = Path(tempfile.gettempdir()) / "lookaway-bench"


def step(name: str, args: list[str], env: dict[str, str], items: int | None = None) -> float:
    """Run one manage.py command, print its timing as a JSON line and return the seconds."""
    started = time.perf_counter()
    result = subprocess.run([sys.executable, "manage.py", *args], cwd=ROOT, env=env, capture_output=True, text=True)
    seconds = time.perf_counter() - started
    if result.returncode != 0:
        print(json.dumps({"bench": "pipeline", "step": name, "error": result.stderr[-2000:]}), flush=True)
        raise SystemExit(1)
    record = {"bench": "pipeline", "step": name, "seconds": round(seconds, 1)}
    if items:
        record["items_per_s"] = round(items / seconds, 1)
    record["output"] = result.stdout.strip().splitlines()[-1:] if result.stdout.strip() else []
    print(json.dumps(record), flush=True)
    return seconds


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--catalog", default=str(SHARED_CATALOG_DIR))
    parser.add_argument("--limit", type=int, default=None, help="import only the first N rows")
    args = parser.parse_args()
    count = args.limit or sum(1 for _ in open(Path(args.catalog) / "styles.csv")) - 1
    with tempfile.TemporaryDirectory(prefix="lookaway-bench-pipeline-") as tmp:
        env = {
            **os.environ,
            "DJANGO_SETTINGS_MODULE": "config.settings.local",
            "LOOKAWAY_DATA_DIR": tmp,
            "DATABASE_URL": f"sqlite:///{tmp}/db.sqlite3",
            "CELERY_BROKER_URL": "",
            "REDIS_URL": "",
            "LOOKAWAY_MODEL_DIR": os.environ.get(
                "LOOKAWAY_MODEL_DIR", str(Path(tempfile.gettempdir()) / "lookaway-models")
            ),
        }
        total = step("migrate", ["migrate", "--noinput"], env)
        limit = ["--limit", str(args.limit)] if args.limit else []
        total += step("import", ["import_catalog", args.catalog, "--no-embed", *limit], env, count)
        total += step("embed", ["embed_images"], env, count)
        total += step("index", ["build_index"], env, count)
        print(json.dumps({"bench": "pipeline", "step": "total", "products": count, "seconds": round(total, 1)}))
        pointer = json.loads((Path(tmp) / "index" / "CURRENT").read_text())
        version_dir = Path(tmp) / "index" / "versions" / pointer["version"]
        manifest = json.loads((version_dir / "manifest.json").read_text())
        CACHE.mkdir(parents=True, exist_ok=True)
        target = CACHE / f"catalog-{manifest['backbone_version'].replace('/', '_')}.npy"
        if not args.limit:
            shutil.copyfile(version_dir / "vectors.npy", target)


if __name__ == "__main__":
    main()
