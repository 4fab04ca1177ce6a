"""Re-render the markdown report of a committed run from its JSON lines: `python -m evaluation.digest FILE.jsonl.gz`.

Reads the header, summary, improvement and seen rows the run wrote (the episodes are the evidence behind them).
"""

from __future__ import annotations

import gzip
import json
import sys
from pathlib import Path

from evaluation.tables import markdown_report


def read_rows(path: str | Path) -> list[dict]:
    """Every JSON line of a run's file (gzip when it ends in .gz)."""
    path = Path(path)
    opener = gzip.open if path.suffix == ".gz" else open
    with opener(path, "rt", encoding="utf-8") as handle:
        return [json.loads(line) for line in handle if line.strip()]


def report_from_rows(rows: list[dict], title: str = "") -> str:
    """The markdown report of the first run in the rows."""
    header = next(r for r in rows if r["kind"] == "header")
    by_kind: dict[str, list[dict]] = {"summary": [], "improvement": [], "seen": []}
    for row in rows:
        if row["kind"] in by_kind:
            by_kind[row["kind"]].append(row)
    meta = {key: value for key, value in header.items() if key != "kind"}
    title = title or f"Seed {meta['random seed']}, {meta['episodes per run']} episodes"
    return markdown_report(title, meta, by_kind["summary"], by_kind["improvement"], by_kind["seen"])


if __name__ == "__main__":
    sys.stdout.write(report_from_rows(read_rows(sys.argv[1]), " ".join(sys.argv[2:])))
