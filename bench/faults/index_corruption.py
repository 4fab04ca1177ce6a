"""Fault 5: damage the current index version (truncated / overwritten Annoy file and feature arrays, a missing file,
a bad manifest, a garbage CURRENT pointer, the whole directory gone) and check that a web process answers 200
from the previous version, that index_status reports it, and that one command (rollback_index) repairs it.

Each case runs in its own process (a damaged Annoy file can kill a process: a crash is a result, not the end of the
run); the good version is restored before the next case. Prints one JSON line per case.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import common  # noqa: E402

SCENARIO = "index_corruption"
DATABASE = "lookaway_faults_index"
CASES = (
    "annoy_truncated",
    "annoy_garbage",
    "vectors_truncated",
    "spatial_garbage",
    "lookup_file_missing",
    "manifest_garbage",
    "pointer_garbage",
    "version_dir_deleted",
)


def main() -> None:
    common.ensure_templates()
    data_dir = common.BASE_DIR / "index"
    shutil.rmtree(data_dir, ignore_errors=True)
    database = common.recreate_database(DATABASE, template=common.TEMPLATE_EMBEDDED)
    env = common.scenario_env(database=database, data_dir=data_dir)
    build = "from django.core.management import call_command\nfor _ in range(2): call_command('build_index', trees=10)"
    result = common.run_python(env, build)
    if result.returncode:
        raise RuntimeError(result.stderr[-2000:])
    root = data_dir / "index"
    versions = sorted(p.name for p in (root / "versions").iterdir())
    previous, good = versions[-2], versions[-1]
    pristine = common.BASE_DIR / "index-pristine"
    shutil.rmtree(pristine, ignore_errors=True)
    shutil.copytree(root / "versions" / good, pristine)
    only = set(filter(None, os.environ.get("FAULTS_CASES", "").split(",")))
    for case in ("baseline", *CASES):
        if only and case not in only and case != "baseline":
            continue
        shutil.rmtree(root / "versions" / good, ignore_errors=True)
        shutil.copytree(pristine, root / "versions" / good)
        child = subprocess.run(
            [common.PYTHON, str(Path(__file__).with_name("corruption_child.py")), case, good],
            cwd=common.ROOT,
            env=env,
            capture_output=True,
            text=True,
            timeout=600,
        )
        if child.returncode != 0:
            common.emit(
                scenario=SCENARIO,
                case=case,
                what_happened=f"process died (exit {child.returncode})",
                lost=None,
                stderr=child.stderr[-400:],
            )
            continue
        fields = common.last_json(child.stdout)
        fields["expected_fallback"] = good if case == "pointer_garbage" else previous
        common.emit(scenario=SCENARIO, case=case, **fields)
    shutil.rmtree(pristine, ignore_errors=True)
    if not os.environ.get("FAULTS_KEEP"):
        common.drop_database(DATABASE)


if __name__ == "__main__":
    main()
