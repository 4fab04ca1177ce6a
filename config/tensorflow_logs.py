"""Quiet TensorFlow's C++ log lines (CUDA probing, oneDNN, CPU flags) unless LOOKAWAY_TF_LOG_LEVEL asks for them.

Call `quiet_tensorflow_logs()` before TensorFlow is imported (manage.py, config/wsgi.py, config/celery_app.py).
LOOKAWAY_TF_LOG_LEVEL has the meaning of TF_CPP_MIN_LOG_LEVEL: 0 shows everything (TensorFlow's default), 1 hides
INFO, 2 hides WARNING too, 3 (the default here) hides ERROR lines too; real failures still raise Python exceptions.
An explicit TF_CPP_MIN_LOG_LEVEL wins. TensorFlow 2.21 prints its import-time lines through absl before reading that
variable ("All log messages before absl::InitializeLog() ..."), so at levels >= 1 the first `import tensorflow` also
runs with file descriptor 2 pointed at /dev/null (anything else the process writes to stderr in those few seconds is
lost too). TF_ENABLE_ONEDNN_OPTS, which changes numerics, is left alone.
"""

from __future__ import annotations

import importlib.abc
import importlib.util
import os
import sys
from contextlib import contextmanager

LEVEL_VARIABLE = "LOOKAWAY_TF_LOG_LEVEL"
DEFAULT_LEVEL = 3


def tensorflow_log_level() -> int:
    """The configured level (0-3), or ValueError naming the variable."""
    raw = os.environ.get(LEVEL_VARIABLE, str(DEFAULT_LEVEL)).strip()
    if raw not in {"0", "1", "2", "3"}:
        raise ValueError(f"{LEVEL_VARIABLE} must be 0, 1, 2 or 3 (got {raw!r})")
    return int(raw)


def quiet_tensorflow_logs() -> None:
    """Set TensorFlow's C++ log level and, unless it is 0, silence the first `import tensorflow` of this process."""
    level = tensorflow_log_level()
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", str(level))
    quiet = os.environ["TF_CPP_MIN_LOG_LEVEL"] != "0"
    if quiet and "tensorflow" not in sys.modules and not any(isinstance(f, _QuietImport) for f in sys.meta_path):
        sys.meta_path.insert(0, _QuietImport())


@contextmanager
def _stderr_to_devnull():
    sys.stderr.flush()
    saved = os.dup(2)
    devnull = os.open(os.devnull, os.O_WRONLY)
    try:
        os.dup2(devnull, 2)
        yield
    finally:
        os.dup2(saved, 2)
        os.close(saved)
        os.close(devnull)


class _QuietLoader(importlib.abc.Loader):
    """Runs the real loader of the `tensorflow` package with stderr silenced."""

    def __init__(self, loader: importlib.abc.Loader):
        self.loader = loader

    def create_module(self, spec):
        return self.loader.create_module(spec)

    def exec_module(self, module) -> None:
        module.__loader__ = module.__spec__.loader = self.loader  # the package sees its own loader
        with _stderr_to_devnull():
            self.loader.exec_module(module)


class _QuietImport(importlib.abc.MetaPathFinder):
    """Finds `tensorflow` once (through the other finders) and wraps its loader; then steps aside."""

    def find_spec(self, fullname, path=None, target=None):
        if fullname != "tensorflow":
            return None
        sys.meta_path.remove(self)
        spec = importlib.util.find_spec(fullname)
        if spec is not None and spec.loader is not None:
            spec.loader = _QuietLoader(spec.loader)
        return spec
