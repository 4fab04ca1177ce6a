"""Fault injection (docs/RELIABILITY.md, "Faults"): skipped by `make bench` unless FAULTS=1, as it takes 15-25
minutes and needs root (tmpfs, a throwaway PostgreSQL cluster). Runs bench/faults/run_all.py."""

import json
import os
import subprocess
import sys
from pathlib import Path

if __name__ == "__main__":
    if os.environ.get("FAULTS") != "1":
        print(json.dumps({"bench": "faults", "skipped": True, "reason": "set FAULTS=1 (15-25 min, needs root)"}))
        sys.exit(0)
    runner = Path(__file__).resolve().parent / "faults" / "run_all.py"
    sys.exit(subprocess.call([sys.executable, str(runner), *sys.argv[1:]]))
