"""One index-corruption case in a fresh process: make `good` current, damage it, then act as a web process, run
index_status, repair with rollback_index and check again. Prints one JSON object (see index_corruption.py)."""

from __future__ import annotations

import io
import json
import logging
import os
import shutil
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

import django  # noqa: E402

django.setup()

from django.core.management import CommandError, call_command  # noqa: E402
from django.test import Client  # noqa: E402

from catalog.models import Product  # noqa: E402
from embeddings.services.index_versions import index_activate, index_store  # noqa: E402
from embeddings.serving.catalog_reloader import get_catalog_view, reset_catalog_view  # noqa: E402


def garbage(path: Path, *, at: float = 0.4, fraction: float = 0.2) -> None:
    size = path.stat().st_size
    with open(path, "r+b") as handle:
        handle.seek(int(size * at))
        handle.write(os.urandom(max(64, int(size * fraction))))


def truncate(path: Path) -> None:
    os.truncate(path, path.stat().st_size // 2)


DAMAGE = {
    "baseline": lambda d, root: None,
    "annoy_truncated": lambda d, root: truncate(d / "index.ann"),
    "annoy_garbage": lambda d, root: garbage(d / "index.ann"),
    "vectors_truncated": lambda d, root: truncate(d / "vectors.npy"),
    "spatial_garbage": lambda d, root: garbage(d / "spatial.npy", at=0.5, fraction=0.05),
    "lookup_file_missing": lambda d, root: (d / "lookup_ids.npy").unlink(),
    "manifest_garbage": lambda d, root: (d / "manifest.json").write_text('{"version": '),
    "pointer_garbage": lambda d, root: (root / "CURRENT").write_bytes(b"\x00\xffnot json"),
    "version_dir_deleted": lambda d, root: shutil.rmtree(d),
}


class Errors(logging.Handler):
    def __init__(self) -> None:
        super().__init__(level=logging.ERROR)
        self.lines: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.lines.append(record.getMessage()[:200])


def serve(ids: list[int]) -> dict:
    """What a freshly started web process does: load the view, answer the similar-products API."""
    reset_catalog_view()
    client = Client(raise_request_exception=False)
    statuses = [client.get(f"/api/v1/products/{pk}/similar/?k=5").status_code for pk in ids]
    return {"statuses": statuses, "served": get_catalog_view().version}


def command(*args) -> tuple[int, str]:
    out = io.StringIO()
    try:
        call_command(*args, stdout=out, stderr=out)
        return 0, out.getvalue()
    except CommandError as exc:
        return 1, out.getvalue() + f"CommandError: {exc}"


def main() -> None:
    case, good = sys.argv[1], sys.argv[2]
    store = index_store()
    index_activate(version=good)
    errors = Errors()
    logging.getLogger().addHandler(errors)
    ids = list(Product.objects.order_by("id").values_list("id", flat=True)[:5])
    DAMAGE[case](store.version_dir(good), store.root)
    seen = serve(ids)
    status_exit, status_out = command("index_status")
    reader_errors = list(errors.lines)
    started = time.monotonic()
    fix_exit, fix_out = command("rollback_index") if case != "baseline" else (0, "")
    seconds = round(time.monotonic() - started, 2)
    after = serve(ids)
    after_exit, _ = command("index_status")
    degraded = next((line for line in status_out.splitlines() if "DEGRADED" in line), "")
    print(
        json.dumps(
            {
                "what_happened": f"HTTP {sorted(set(seen['statuses']))}, served {seen['served'] or 'exact search'}",
                "served": seen["served"],
                "http_500": sum(1 for code in seen["statuses"] if code >= 500),
                "logged": reader_errors[:2],
                "index_status_exit": status_exit,
                "index_status_says": degraded[:200],
                "lost": 0 if not any(code >= 500 for code in seen["statuses"]) else None,
                "recovery": "manage.py rollback_index" if case != "baseline" else "",
                "recovery_exit": fix_exit,
                "recovery_output": fix_out.strip().splitlines()[-1:],
                "seconds_to_recover": seconds,
                "after_fix_served": after["served"],
                "after_fix_statuses": sorted(set(after["statuses"])),
                "after_fix_index_status_exit": after_exit,
                "loadavg": [round(x, 2) for x in os.getloadavg()],
            }
        )
    )


if __name__ == "__main__":
    main()
