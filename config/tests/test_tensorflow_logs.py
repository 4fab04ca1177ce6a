"""TensorFlow's C++ log lines are silent by default in every entry point; LOOKAWAY_TF_LOG_LEVEL brings them back."""

import os
import subprocess
import sys
from pathlib import Path

import pytest

from config.tensorflow_logs import LEVEL_VARIABLE, tensorflow_log_level

ROOT = Path(__file__).resolve().parents[2]
# What the Celery worker, gunicorn (config.wsgi) and manage.py do before anything imports TensorFlow, then a first
# operation (CUDA probing happens there).
IMPORT_TF = (
    "import config.celery_app, sys; import tensorflow as tf; tf.constant(1) + 1; "
    "print('python stderr still works', file=sys.stderr)"
)


def _stderr_of(code: str, **env: str) -> list[str]:
    clean = {k: v for k, v in os.environ.items() if k not in {LEVEL_VARIABLE, "TF_CPP_MIN_LOG_LEVEL"}}
    result = subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, env={**clean, **env}, capture_output=True, text=True, timeout=180
    )
    assert result.returncode == 0, result.stderr[-3000:]
    return result.stderr.splitlines()


@pytest.mark.slow
def test_tensorflow_is_silent_by_default_and_loud_on_request():
    quiet = _stderr_of(IMPORT_TF)
    assert quiet == ["python stderr still works"]
    loud = _stderr_of(IMPORT_TF, **{LEVEL_VARIABLE: "0"})
    assert any("oneDNN" in line or "cuda" in line.lower() for line in loud), loud
    assert loud[-1] == "python stderr still works"


@pytest.mark.slow
def test_an_explicit_tf_cpp_min_log_level_wins():
    loud = _stderr_of(IMPORT_TF, TF_CPP_MIN_LOG_LEVEL="0")
    assert len(loud) > 1, loud


@pytest.mark.parametrize("raw, level", [(None, 3), ("0", 0), (" 2 ", 2)])
def test_level_is_read_from_the_environment(monkeypatch, raw, level):
    if raw is None:
        monkeypatch.delenv(LEVEL_VARIABLE, raising=False)
    else:
        monkeypatch.setenv(LEVEL_VARIABLE, raw)
    assert tensorflow_log_level() == level


@pytest.mark.parametrize("raw", ["loud", "4", "-1", ""])
def test_a_bad_level_names_the_variable(monkeypatch, raw):
    monkeypatch.setenv(LEVEL_VARIABLE, raw)
    with pytest.raises(ValueError, match=LEVEL_VARIABLE):
        tensorflow_log_level()
