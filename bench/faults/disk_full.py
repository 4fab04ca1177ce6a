"""Fault 4: the index directory's disk fills up during an index build.

The index directory is a small tmpfs (30 MB, needs root for `mount`). A first build succeeds; then the disk is
filled until ~2 MB are free and build_index runs again: it must fail cleanly (no crash, nothing half-written left,
CURRENT untouched, readers still on the previous version). A second case disables the up-front space check so the
build really hits ENOSPC while writing. Recovery: free space, then one `manage.py build_index`.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import common  # noqa: E402

SCENARIO = "disk_full"
DATABASE = "lookaway_faults_disk"
MOUNT = Path(os.environ.get("FAULTS_TMPFS", "/mnt/lookaway-full"))
TMPFS_SIZE = "30m"

# Build with the space check switched off: the build meets ENOSPC (or SIGBUS) in the middle of writing.
UNCHECKED_BUILD = """
from unittest import mock
from embeddings.services import index_builder
from embeddings.services.embedding import current_backbone_version
with mock.patch.object(index_builder, "check_disk_space", lambda *a, **k: None):
    try:
        index_builder.index_build(backbone_version=current_backbone_version(), trees=10)
        print(json.dumps({"outcome": "built"}))
    except Exception as exc:
        print(json.dumps({"outcome": f"{type(exc).__name__}: {exc}"[:300]}))
"""


def mount_tmpfs() -> str | None:
    if os.geteuid() != 0:
        return "mounting a tmpfs needs root"
    MOUNT.mkdir(parents=True, exist_ok=True)
    subprocess.run(["umount", str(MOUNT)], capture_output=True)
    result = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", f"size={TMPFS_SIZE}", "tmpfs", str(MOUNT)], capture_output=True, text=True
    )
    return None if result.returncode == 0 else f"mount failed: {result.stderr.strip()}"


def fill(leave_bytes: int) -> Path:
    filler = MOUNT / "filler"
    free = shutil.disk_usage(MOUNT).free
    with open(filler, "ab") as handle:
        remaining = max(0, free - leave_bytes)
        block = b"\0" * (1 << 20)
        while remaining > 0:
            try:
                handle.write(block[: min(len(block), remaining)])
                handle.flush()
            except OSError:
                break
            remaining -= min(len(block), remaining)
    return filler


def state(root: Path) -> dict:
    versions = root / "versions"
    dirs = sorted(p.name for p in versions.iterdir()) if versions.exists() else []
    pointer = (root / "CURRENT").read_text() if (root / "CURRENT").exists() else ""
    return {"dirs": dirs, "current": common.json.loads(pointer)["version"] if pointer else None}


def main() -> None:
    reason = mount_tmpfs()
    if reason:
        common.skip(SCENARIO, reason)
    try:
        run()
    finally:
        subprocess.run(["umount", str(MOUNT)], capture_output=True)


def run() -> None:
    common.ensure_templates()
    data_dir = common.BASE_DIR / "disk"
    shutil.rmtree(data_dir, ignore_errors=True)
    database = common.recreate_database(DATABASE, template=common.TEMPLATE_EMBEDDED)
    root = MOUNT / "index"
    env = common.scenario_env(database=database, data_dir=data_dir, LOOKAWAY_INDEX_DIR=str(root))
    common.manage(env, "build_index", "--trees", "10")
    first = state(root)
    version_dir = root / "versions" / first["current"]
    arrays = sum(p.stat().st_size for p in version_dir.glob("*.npy"))
    cases = (
        ("space_check", 2 << 20, None),
        ("enospc_writing_arrays", arrays // 2, UNCHECKED_BUILD),
        ("enospc_writing_annoy", arrays + (64 << 10), UNCHECKED_BUILD),
    )
    for case, leave, code in cases:
        filler = fill(leave)
        free_mb = round(shutil.disk_usage(MOUNT).free / 1e6, 1)
        if code is None:
            result = common.manage(env, "build_index", "--trees", "10", check=False)
            outcome = (result.stdout + result.stderr).strip().splitlines()[-1:]
            exit_code = result.returncode
        else:
            result = common.run_python(env, code)
            exit_code = result.returncode
            outcome = (
                [common.last_json(result.stdout)["outcome"]]
                if exit_code == 0
                else [f"process died (exit {exit_code}, signal {-exit_code if exit_code < 0 else ''})"]
            )
        after = state(root)
        status = common.manage(env, "index_status", check=False)
        filler.unlink()
        timer = common.Timer()
        fix = common.manage(env, "build_index", "--trees", "10", check=False)
        seconds = timer()
        fixed = state(root)
        common.emit(
            scenario=SCENARIO,
            case=case,
            free_mb_before_build=free_mb,
            build_exit=exit_code,
            what_happened=outcome,
            current_unchanged=after["current"] == first["current"],
            leftover_dirs=sorted(set(after["dirs"]) - set(first["dirs"])),
            index_status_exit=status.returncode,
            lost=0 if after["current"] == first["current"] else None,
            recovery="free space, then manage.py build_index",
            recovery_exit=fix.returncode,
            seconds_to_recover=seconds,
            new_current=fixed["current"] != first["current"],
            dirs_after_fix=len(fixed["dirs"]),
        )
        first = fixed
    if not os.environ.get("FAULTS_KEEP"):
        common.drop_database(DATABASE)


if __name__ == "__main__":
    main()
