"""Malformed-request fuzzing of the JSON API on a live server; prints JSON lines.

Starts gunicorn on a free port against a small catalog (imported, embedded and indexed first if the database has
no products), then sends:
1. schemathesis-generated requests (positive and negative data for every operation of /api/schema/, fixed seed),
   with a browser-like session (session cookie + X-CSRFToken) and real session/product/feedback ids in the paths so
   the requests reach the validation code instead of stopping at CSRF or a 404;
2. the hand-made bad requests of bench/fuzz_cases.py (bad masks, bombs, huge bodies, nested JSON...).

After every rejected write to a session it checks the session's state did not change. Every 5xx, every 4xx without
a JSON body naming a field (or `detail`), every hand-made case answered outside its expected statuses and every
state change is a failure: exit status 1. schemathesis' own checks (not_a_server_error, status_code_conformance,
content_type_conformance) are reported as "schema-check" without failing the run. 414 is gunicorn's own answer to a
request line over 4094 bytes (before Django): it is counted but not required to be JSON.

Output, one JSON object per line: per phase (schemathesis, handmade) the requests sent, the status histogram, the
5xx count and the distinct failures with examples; then a total with the load average and the server log's path.

Usage (one command; the defaults use the lookaway_api database and /work/api-data):
    DATABASE_URL=postgres://postgres@127.0.0.1:5432/lookaway_api LOOKAWAY_DATA_DIR=/work/api-data \
        LOOKAWAY_MODEL_DIR=/work/models .venv/bin/python bench/fuzz_api.py [--examples 60] [--seed 20261121]
"""

from __future__ import annotations

import argparse
import collections
import json
import os
import socket
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

import requests
from requests.adapters import HTTPAdapter
from urllib3.util.retry import Retry

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
from bench import fuzz_cases  # noqa: E402

PYTHON = str(ROOT / ".venv" / "bin" / "python")
WRITE_METHODS = {"POST", "PUT", "PATCH", "DELETE"}
# Answered by gunicorn itself (request line over --limit-request-line, 4094 bytes), before Django: not JSON.
SERVER_FRONT_STATUSES = {414}


# --- the live server ---------------------------------------------------------------------------------------------


def server_env(args: argparse.Namespace) -> dict[str, str]:
    """Environment of the server and the setup commands: local settings, DEBUG off, one thread per library."""
    env = dict(os.environ)
    env.update(
        DJANGO_SETTINGS_MODULE="config.settings.local",
        DATABASE_URL=args.database_url,
        LOOKAWAY_DATA_DIR=args.data_dir,
        LOOKAWAY_MODEL_DIR=args.model_dir,
        DEBUG="false",
        ALLOWED_HOSTS="127.0.0.1,localhost",
        CELERY_BROKER_URL="",
        REDIS_URL=args.redis_url,
        OMP_NUM_THREADS="1",
        OPENBLAS_NUM_THREADS="1",
        TF_NUM_INTRAOP_THREADS="1",
        LOOKAWAY_TF_INTRA_OP_THREADS="1",
        TF_CPP_MIN_LOG_LEVEL="3",
    )
    return env


def manage(env: dict[str, str], *command: str) -> str:
    """Run a manage.py command; its stdout."""
    done = subprocess.run(
        [PYTHON, "manage.py", *command], cwd=ROOT, env=env, capture_output=True, text=True, check=True
    )
    return done.stdout


def ensure_catalog(env: dict[str, str], args: argparse.Namespace) -> int:
    """Migrate; import, embed and index `--limit` products when the database has none. Returns the product count."""
    manage(env, "migrate", "--no-input", "-v", "0")
    count_code = "from catalog.models import Product; print(Product.objects.count())"
    count = int(manage(env, "shell", "--no-imports", "-c", count_code).strip() or 0)
    if count == 0:
        manage(env, "import_catalog", args.catalog, "--limit", str(args.limit), "--no-embed")
        manage(env, "embed_images")
        manage(env, "build_index")
        count = int(manage(env, "shell", "--no-imports", "-c", count_code).strip())
    return count


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def start_server(env: dict[str, str], port: int, log_path: Path) -> subprocess.Popen:
    """gunicorn with 2 workers x 2 threads (as in production, scaled down); waits until it answers."""
    log = log_path.open("w")
    command = [
        str(ROOT / ".venv" / "bin" / "gunicorn"),
        "config.wsgi",
        "-b",
        f"127.0.0.1:{port}",
        "-w",
        "2",
        "--threads",
        "2",
        "--timeout",
        "120",
    ]
    process = subprocess.Popen(command, cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT)
    deadline = time.monotonic() + 120
    try:
        while time.monotonic() < deadline:
            if process.poll() is not None:
                raise RuntimeError(f"gunicorn exited with {process.returncode}; see {log_path}")
            try:
                requests.get(f"http://127.0.0.1:{port}/api/v1/products/", timeout=60)
                return process
            except (requests.ConnectionError, requests.Timeout):
                time.sleep(0.5)
        raise RuntimeError("gunicorn did not answer within 120 s")
    except BaseException:
        process.terminate()
        process.wait(timeout=30)
        raise


# --- results -----------------------------------------------------------------------------------------------------


@dataclass
class Tally:
    """Requests sent in one phase: status histogram and failures (5xx, unclear 4xx, state changes, checks)."""

    phase: str
    statuses: collections.Counter = field(default_factory=collections.Counter)
    failures: dict[str, list[dict]] = field(default_factory=dict)
    failure_kinds: collections.Counter = field(default_factory=collections.Counter)
    # Distinct failures: (kind, request, status, what) -> how many times.
    distinct: collections.Counter = field(default_factory=collections.Counter)

    def record(self, status: int) -> None:
        self.statuses[status] += 1

    def fail(self, kind: str, *, request: str, status: int = 0, what: str = "", **details) -> None:
        self.failure_kinds[kind] += 1
        key = (kind, request, status, what)
        self.distinct[key] += 1
        examples = self.failures.setdefault(kind, [])
        if self.distinct[key] == 1 and len(examples) < 10:
            examples.append({"request": request, "status": status, "what": what, **details})

    def line(self, **extra) -> dict:
        return {
            "phase": self.phase,
            "requests": sum(self.statuses.values()),
            "statuses": {str(code): n for code, n in sorted(self.statuses.items())},
            "server_errors": sum(n for code, n in self.statuses.items() if code >= 500),
            "failure_kinds": dict(self.failure_kinds),
            "distinct_failures": [
                {"kind": k, "request": r, "status": s, "what": w, "count": n}
                for (k, r, s, w), n in sorted(self.distinct.items(), key=lambda item: -item[1])[:40]
            ],
            "failure_examples": self.failures,
            **extra,
        }


def clear_error(response: requests.Response) -> str | None:
    """None if a 4xx answer is JSON naming the field(s) or giving a `detail`; otherwise what is wrong with it."""
    try:
        body = response.json()
    except ValueError:
        return f"not JSON: {response.headers.get('Content-Type')} {response.text[:80]!r}"
    if not isinstance(body, dict) or not body:
        return f"not a JSON object naming a field: {str(body)[:80]}"
    return None


# --- the shopper ------------------------------------------------------------------------------------------------


class Shopper:
    """A browser-like API client: cookie jar, CSRF token on writes, its own sessions and feedback."""

    def __init__(self, base: str) -> None:
        self.base = base
        self.http = requests.Session()
        # A server answering 413 before reading a huge body closes the connection: retry the next GET on a new one.
        retry = Retry(total=3, connect=3, read=3, status=0, allowed_methods={"GET"}, backoff_factor=0.1)
        self.http.mount("http://", HTTPAdapter(max_retries=retry))
        self.http.headers["Accept"] = "application/json"
        self.product_ids: list[int] = []
        self.session_id = ""
        self.feedback_id = 0
        self.seed: dict = {}
        self.aimed = 0  # generated cases aimed so far

    @property
    def csrf(self) -> str:
        return self.http.cookies.get("csrftoken", "")

    def write_headers(self) -> dict[str, str]:
        return {"X-CSRFToken": self.csrf, "Referer": self.base + "/"}

    def setup(self) -> None:
        """Product ids, the CSRF cookie, a session on a seed and one feedback on it (a real mask)."""
        page = self.http.get(f"{self.base}/api/v1/products/", params={"page_size": 100}, timeout=30).json()
        self.product_ids = [card["id"] for card in page["results"]]
        self.http.get(f"{self.base}/api/v1/products/{self.product_ids[0]}/similar/", timeout=30)
        state = self.post("/api/v1/sessions/", {"seed_id": self.product_ids[0]}).json()
        self.session_id, self.seed = state["id"], state["seed"]
        body = {"rle": fuzz_cases.box_rle(self.seed["width"], self.seed["height"]), **self.size()}
        state = self.post(f"/api/v1/sessions/{self.session_id}/feedback/", body).json()
        self.feedback_id = state["feedback"][-1]["id"]

    def size(self) -> dict[str, int]:
        return {"width": self.seed["width"], "height": self.seed["height"]}

    def post(self, path: str, body: object) -> requests.Response:
        response = self.http.post(self.base + path, json=body, headers=self.write_headers(), timeout=120)
        response.raise_for_status()
        return response

    def snapshot(self, session_id: str) -> dict | None:
        """What a rejected request must not change: seed, visited, filters and the feedback history."""
        response = self.http.get(f"{self.base}/api/v1/sessions/{session_id}/", params={"k": 1}, timeout=60)
        if response.status_code != 200:
            return None
        state = response.json()
        return {
            "seed": (state["seed"] or {}).get("id"),
            "visited": state["visited"],
            "filters": state["filters"],
            "feedback": [(f["id"], f["active"]) for f in state["feedback"]],
        }


# --- phase 1: schemathesis --------------------------------------------------------------------------------------


def run_schemathesis(shopper: Shopper, args: argparse.Namespace) -> Tally:
    """Positive and negative cases for every operation, `--examples` of each per operation, fixed seed."""
    import hypothesis
    import schemathesis
    from hypothesis import HealthCheck, Phase
    from schemathesis.checks import not_a_server_error
    from schemathesis.specs.openapi.checks import content_type_conformance, status_code_conformance

    tally = Tally("schemathesis")
    raw = shopper.http.get(f"{shopper.base}/api/schema/", params={"format": "json"}, timeout=30).json()
    schema = schemathesis.openapi.from_dict(raw)
    checks = [not_a_server_error, status_code_conformance, content_type_conformance]
    operations = [result.ok() for result in schema.get_all_operations()]
    for operation in operations:
        for mode in (schemathesis.GenerationMode.POSITIVE, schemathesis.GenerationMode.NEGATIVE):
            strategy = operation.as_strategy(generation_mode=mode)
            test = hypothesis.given(case=strategy)(_sender(shopper, mode.value, tally, checks))
            test = hypothesis.settings(
                max_examples=args.examples,
                database=None,
                deadline=None,
                suppress_health_check=list(HealthCheck),
                phases=[Phase.explicit, Phase.generate],
                report_multiple_bugs=False,
            )(test)
            hypothesis.seed(args.seed)(test)()
    return tally


def _sender(shopper: Shopper, mode: str, tally: Tally, checks: list):
    def send(case) -> None:
        _send_case(shopper, case, mode, tally, checks)

    return send


def _aim(shopper: Shopper, case) -> None:
    """Point most generated cases at this shopper's real session, feedback and products (the rest stay random)."""
    params = case.path_parameters or {}
    shopper.aimed += 1
    pick = shopper.aimed % 10  # the n-th generated case: the same choice on every run with the same seed
    if "session_id" in params and pick < 8:
        params["session_id"] = shopper.session_id
    if "feedback_id" in params and pick < 6:
        params["feedback_id"] = shopper.feedback_id
    if "id" in params and pick < 8:
        params["id"] = shopper.product_ids[pick % len(shopper.product_ids)]


def _send_case(shopper: Shopper, case, mode: str, tally: Tally, checks: list) -> None:
    _aim(shopper, case)
    method = case.method.upper()
    session_id = (case.path_parameters or {}).get("session_id")
    watched = method in WRITE_METHODS and session_id == shopper.session_id
    before = shopper.snapshot(shopper.session_id) if watched else None
    label = f"{method} {case.path} ({mode})"
    try:
        response = case.call(base_url=shopper.base, session=shopper.http, headers=shopper.write_headers(), timeout=120)
    except requests.RequestException as exc:
        tally.record(0)
        tally.fail("connection", request=label, what=type(exc).__name__, error=repr(exc)[:200])
        return
    status = response.status_code
    tally.record(status)
    if status >= 500:
        tally.fail("5xx", request=label, status=status, curl=case.as_curl_command()[:400])
    elif 400 <= status < 500 and status not in SERVER_FRONT_STATUSES and (problem := clear_error(response)):
        tally.fail("unclear-4xx", request=label, status=status, what=problem[:60], curl=case.as_curl_command()[:300])
    try:
        case.validate_response(response, checks=checks)
    except (Exception, BaseExceptionGroup) as exc:  # schemathesis raises a FailureGroup of check failures
        titles = [line.strip("- ") for line in str(exc).splitlines() if line.startswith("- ")]
        tally.fail("schema-check", request=label, status=status, what="; ".join(titles)[:120])
    if watched and status >= 400 and before is not None:
        after = shopper.snapshot(shopper.session_id)
        if after != before:
            tally.fail(
                "state-changed",
                request=label,
                status=status,
                curl=case.as_curl_command()[:400],
                before=before,
                after=after,
                body=response.text[:200],
            )


# --- phase 2: hand-made bad requests ---------------------------------------------------------------------------


def run_handmade(shopper: Shopper) -> Tally:
    """Every case of fuzz_cases.bad_requests: the expected 4xx family, a clear body, an unchanged session."""
    tally = Tally("handmade")
    shopper.setup()  # a fresh session (seed = first product, one feedback): schemathesis moved the old one around
    for case in fuzz_cases.bad_requests(shopper):
        before = shopper.snapshot(shopper.session_id) if case.method in WRITE_METHODS else None
        headers = {**shopper.write_headers(), **case.headers}
        try:
            response = shopper.http.request(
                case.method, shopper.base + case.path, data=case.body, headers=headers, timeout=300
            )
        except requests.RequestException as exc:
            tally.record(0)
            tally.fail("connection", request=case.name, what=type(exc).__name__, error=repr(exc)[:200])
            continue
        status = response.status_code
        tally.record(status)
        if status not in case.expect:
            tally.fail(
                "unexpected-status",
                request=case.name,
                status=status,
                expected=sorted(case.expect),
                body=response.text[:200],
            )
        if 400 <= status < 500 and (problem := clear_error(response)):
            tally.fail("unclear-4xx", request=case.name, status=status, what=problem[:60])
        if case.field and status == 400 and case.field not in response.text:
            tally.fail("field-not-named", request=case.name, status=status, what=case.field, body=response.text[:200])
        if before is not None and status >= 400 and shopper.snapshot(shopper.session_id) != before:
            tally.fail("state-changed", request=case.name, status=status)
    return tally


def server_tracebacks(log_path: Path) -> int:
    """Logged unexpected errors (the API's handler and Django's request logger both log 500s)."""
    text = log_path.read_text(errors="replace")
    return text.count("Traceback (most recent call last)")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument(
        "--database-url",
        default=os.environ.get("DATABASE_URL", "postgres://postgres@127.0.0.1:5432/lookaway_api"),
    )
    parser.add_argument("--data-dir", default=os.environ.get("LOOKAWAY_DATA_DIR", "/work/api-data"))
    parser.add_argument("--model-dir", default=os.environ.get("LOOKAWAY_MODEL_DIR", "/work/models"))
    parser.add_argument("--redis-url", default=os.environ.get("REDIS_URL", "redis://127.0.0.1:6379/4"))
    parser.add_argument("--catalog", default="/work/shared/catalog", help="imported when the database is empty")
    parser.add_argument("--limit", type=int, default=150, help="products to import when the database is empty")
    parser.add_argument("--examples", type=int, default=60, help="per operation and mode (positive, negative)")
    parser.add_argument("--seed", type=int, default=20261121)
    parser.add_argument("--skip-schemathesis", action="store_true")
    args = parser.parse_args()

    env = server_env(args)
    products = ensure_catalog(env, args)
    port = free_port()
    log_path = Path(tempfile.mkdtemp(prefix="lookaway-fuzz-")) / "server.log"
    began = time.monotonic()
    server = None
    try:
        server = start_server(env, port, log_path)
        shopper = Shopper(f"http://127.0.0.1:{port}")
        shopper.setup()
        tallies = [] if args.skip_schemathesis else [run_schemathesis(shopper, args)]
        tallies.append(run_handmade(shopper))
    finally:
        if server is not None:
            server.terminate()
            server.wait(timeout=30)
    elapsed = time.monotonic() - began
    failed = False
    for tally in tallies:
        line = tally.line(seed=args.seed, examples_per_operation_mode=args.examples)
        failed |= bool(line["server_errors"] or tally.failure_kinds.keys() - {"schema-check"})
        print(json.dumps(line))
    total = collections.Counter()
    for tally in tallies:
        total.update(tally.statuses)
    summary = {
        "phase": "total",
        "requests": sum(total.values()),
        "statuses": {str(code): n for code, n in sorted(total.items())},
        "server_errors": sum(n for code, n in total.items() if code >= 500),
        "server_tracebacks_logged": server_tracebacks(log_path),
        "server_log": str(log_path),
        "products": products,
        "seconds": round(elapsed, 1),
        "loadavg": [round(x, 2) for x in os.getloadavg()],
        "schemathesis": _version("schemathesis"),
    }
    print(json.dumps(summary))
    return 1 if failed or summary["server_tracebacks_logged"] else 0


def _version(name: str) -> str:
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version(name)
    except PackageNotFoundError:
        return "not installed"


if __name__ == "__main__":
    sys.exit(main())
