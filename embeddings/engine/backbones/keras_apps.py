"""keras.applications backbones with ImageNet weights from a local file, Keras's cache, or a bounded download."""

from __future__ import annotations

import contextlib
import hashlib
import os
import socket
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

from embeddings.engine.backbones.tensorflow_backbone import BackboneSpec, BackboneUnavailable, TensorFlowBackbone
from embeddings.engine.cell_shapes import SHAPES_TAG

# A blocked network must not hang a worker's start-up: the weights download gives up after this many seconds.
DOWNLOAD_TIMEOUT_SECONDS = 20
_GCS = "https://storage.googleapis.com/"
_KERAS_APPS_URL = _GCS + "tensorflow/keras-applications/"


@dataclass(frozen=True)
class KerasApp:
    """How to build one keras.applications model without its classifier, and where its no-top weights live."""

    spec: BackboneSpec
    module: str
    constructor: str
    file_name: str
    origin: str
    hash_source: Callable[[object], str]
    extra: tuple[tuple[str, object], ...] = ()


KERAS_APPS: dict[str, KerasApp] = {
    app.spec.name: app
    for app in [
        KerasApp(
            BackboneSpec("resnet50", 224, 7, 2048), "resnet", "ResNet50",
            "resnet50_weights_tf_dim_ordering_tf_kernels_notop.h5",
            _KERAS_APPS_URL + "resnet/resnet50_weights_tf_dim_ordering_tf_kernels_notop.h5",
            lambda m: m.WEIGHTS_HASHES["resnet50"][1],
        ),
        KerasApp(
            BackboneSpec("inception_v3", 299, 8, 2048), "inception_v3", "InceptionV3",
            "inception_v3_weights_tf_dim_ordering_tf_kernels_notop.h5",
            _KERAS_APPS_URL + "inception_v3/inception_v3_weights_tf_dim_ordering_tf_kernels_notop.h5",
            lambda m: "bcbd6486424b2319ff4ef7d526e38f63",
        ),
        KerasApp(
            BackboneSpec("efficientnet_b0", 224, 7, 1280), "efficientnet", "EfficientNetB0",
            "efficientnetb0_notop.h5", _GCS + "keras-applications/efficientnetb0_notop.h5",
            lambda m: m.WEIGHTS_HASHES["b0"][1],
        ),
        KerasApp(
            BackboneSpec("mobilenet_v3_large", 224, 7, 960), "mobilenet_v3", "MobileNetV3Large",
            "weights_mobilenet_v3_large_224_1.0_float_no_top_v2.h5",
            _KERAS_APPS_URL + "mobilenet_v3/weights_mobilenet_v3_large_224_1.0_float_no_top_v2.h5",
            lambda m: m.WEIGHTS_HASHES["large_224_1.0_float"][1],
            (("include_preprocessing", True),),
        ),
    ]
}  # fmt: skip

_timeout_lock = threading.Lock()


def keras_cache_dir() -> Path:
    """Keras's cache root, resolved now (KERAS_HOME, else ~/.keras): weights live in its models/ folder."""
    return Path(os.environ.get("KERAS_HOME") or Path.home() / ".keras")


@contextlib.contextmanager
def _socket_timeout(seconds: float) -> Iterator[None]:
    with _timeout_lock:
        previous = socket.getdefaulttimeout()
        socket.setdefaulttimeout(seconds)
        try:
            yield
        finally:
            socket.setdefaulttimeout(previous)


def _missing_weights_message(app: KerasApp, cache: Path, reason: str) -> str:
    return (
        f"ImageNet weights for backbone {app.spec.name!r} are not available ({reason}). Fix one of: "
        f"(1) download {app.origin} and set LOOKAWAY_BACKBONE_WEIGHTS to the file's path; "
        f"(2) copy it to {cache / 'models' / app.file_name} (Keras cache, KERAS_HOME); "
        f"(3) give this machine network access to storage.googleapis.com; "
        f"(4) use LOOKAWAY_BACKBONE=efficientnet_lite0, whose weights ship with the Python package."
    )


def resolve_weights(app: KerasApp, weights_path: str | Path | None, *, allow_download: bool = True) -> Path:
    """The local no-top weights file for `app`: the configured file, else the Keras cache (downloading once)."""
    import importlib

    from keras.utils import get_file

    if weights_path:
        path = Path(weights_path)
        if not path.is_file():
            raise BackboneUnavailable(
                f"LOOKAWAY_BACKBONE_WEIGHTS points to {path}, which does not exist: fix the path or unset it"
            )
        return path
    cache = keras_cache_dir()
    cached = cache / "models" / app.file_name
    if cached.is_file():
        return cached
    if not allow_download:
        raise BackboneUnavailable(_missing_weights_message(app, cache, f"{cached} not found, downloads disabled"))
    try:
        file_hash = app.hash_source(importlib.import_module(f"keras.src.applications.{app.module}"))
    except (ImportError, AttributeError, KeyError):
        file_hash = None
    try:
        with _socket_timeout(DOWNLOAD_TIMEOUT_SECONDS):
            downloaded = get_file(
                app.file_name, app.origin, cache_subdir="models", file_hash=file_hash, cache_dir=str(cache)
            )
    except Exception as exc:  # keras wraps URL/HTTP/timeout errors in plain Exception
        with contextlib.suppress(OSError):
            cached.unlink()
        raise BackboneUnavailable(_missing_weights_message(app, cache, f"download failed: {exc}")) from exc
    return Path(downloaded)


def file_tag(path: Path) -> str:
    """First 8 hex digits of the file's SHA-256: identifies the weights in the backbone version."""
    digest = hashlib.sha256()
    with open(path, "rb") as file:
        for chunk in iter(lambda: file.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()[:8]


def wrap(app: KerasApp, weights: str | None, version: str) -> TensorFlowBackbone:
    """Build the keras.applications trunk (weights: a local file, or None for an untrained architecture check)."""
    import importlib

    import keras

    module = importlib.import_module(f"keras.applications.{app.module}")
    constructor = getattr(keras.applications, app.constructor)
    size = app.spec.input_size
    try:
        trunk = constructor(include_top=False, weights=weights, input_shape=(size, size, 3), **dict(app.extra))
    except (ValueError, OSError) as exc:
        raise BackboneUnavailable(f"cannot load {app.spec.name} weights from {weights}: {exc}") from exc
    return TensorFlowBackbone(spec=app.spec, version=version, trunk=trunk, normalise=module.preprocess_input)


def load(name: str, *, weights_path: str | Path | None = None, allow_download: bool = True) -> TensorFlowBackbone:
    """Build a keras.applications backbone (no classifier) with ImageNet weights; never random weights."""
    app = KERAS_APPS[name]
    path = resolve_weights(app, weights_path, allow_download=allow_download)
    return wrap(app, str(path), version=f"{name}/{file_tag(path)}/{SHAPES_TAG}")
