"""The ML core must never import Django or Celery: walk every module's imports (static) and import it (dynamic)."""

import ast
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[3]
ENGINE_DIR = ROOT / "embeddings" / "engine"
# The evaluation package (simulated shoppers, baselines, gallery) is framework-free too; its tests may use Django.
EVALUATION_DIR = ROOT / "evaluation"


def _package_files(package_dir: Path) -> list[Path]:
    return sorted(p for p in package_dir.rglob("*.py") if "tests" not in p.relative_to(package_dir).parts)


FORBIDDEN = ("django", "celery", "rest_framework", "drf_spectacular", "config")


def _imported_modules(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(), filename=str(path))
    names = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.add(node.module)
            names.update(f"{node.module}.{alias.name}" for alias in node.names)
    return names


@pytest.mark.parametrize("package_dir", [ENGINE_DIR, EVALUATION_DIR], ids=["engine", "evaluation"])
def test_sources_do_not_import_frameworks(package_dir):
    offenders = {}
    files = _package_files(package_dir)
    assert len(files) >= 8
    for path in files:
        bad = sorted(n for n in _imported_modules(path) if n.split(".")[0] in FORBIDDEN)
        if bad:
            offenders[str(path.relative_to(package_dir))] = bad
    assert offenders == {}


@pytest.mark.parametrize("package_dir", [ENGINE_DIR, EVALUATION_DIR], ids=["engine", "evaluation"])
def test_imports_pull_in_no_framework_at_run_time(package_dir):
    modules = sorted(
        ".".join(p.relative_to(ROOT).with_suffix("").parts).removesuffix(".__init__")
        for p in _package_files(package_dir)
    )
    code = (
        "import importlib, sys\n"
        f"for name in {modules!r}:\n"
        "    importlib.import_module(name.removesuffix('.'))\n"
        f"bad = sorted(m for m in sys.modules if m.split('.')[0] in {FORBIDDEN!r})\n"
        "print(bad)\n"
        "sys.exit(1 if bad else 0)\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", code],
        capture_output=True,
        text=True,
        timeout=120,
        cwd=ROOT,
        env={"PYTHONPATH": str(ROOT), "PATH": ""},
    )
    assert result.returncode == 0, result.stdout + result.stderr[-2000:]


def test_ranking_does_not_reach_up_into_the_recommender():
    """The ranking parts take an EngineConfig (engine/config.py); only the Recommender composes them."""
    ranking = sorted((ENGINE_DIR / "ranking").glob("*.py"))
    assert ranking
    upward = {
        str(path.relative_to(ENGINE_DIR)): "embeddings.engine.recommender"
        for path in ranking
        if "embeddings.engine.recommender" in _imported_modules(path)
    }
    assert upward == {}
