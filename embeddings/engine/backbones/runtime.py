"""Process-wide TensorFlow runtime settings (thread pools), applied once before the first model is built."""

from __future__ import annotations

import logging
import threading

logger = logging.getLogger(__name__)
_lock = threading.Lock()
_configured: tuple[int | None, int | None] | None = None


def configure_tensorflow(intra_op_threads: int | None = None, inter_op_threads: int | None = None) -> bool:
    """Pin TensorFlow's thread pools (None or 0: TensorFlow's default); returns False if TF was already running.

    Call once per process before any model is built. Web workers serving one image at a time do best with 1 intra-op
    thread; batch workers with as many as the cores they own.
    """
    global _configured
    import tensorflow as tf

    with _lock:
        wanted = (intra_op_threads or None, inter_op_threads or None)
        if _configured == wanted:
            return True
        try:
            if intra_op_threads:
                tf.config.threading.set_intra_op_parallelism_threads(int(intra_op_threads))
            if inter_op_threads:
                tf.config.threading.set_inter_op_parallelism_threads(int(inter_op_threads))
        except RuntimeError as exc:  # the runtime is initialised: thread pools can no longer change
            logger.warning("TensorFlow threads not changed to %s: %s", wanted, exc)
            return False
        _configured = wanted
        return True
