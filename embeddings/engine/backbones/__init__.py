"""Registry of image backbones: the EfficientNet-Lite0 port (default) and keras.applications models."""

from __future__ import annotations

from pathlib import Path

from embeddings.engine.backbones.runtime import configure_tensorflow
from embeddings.engine.backbones.tensorflow_backbone import BackboneSpec, BackboneUnavailable, TensorFlowBackbone

DEFAULT_BACKBONE = "efficientnet_lite0"
KERAS_APPLICATION_NAMES = ("resnet50", "inception_v3", "efficientnet_b0", "mobilenet_v3_large")
BACKBONE_NAMES = (DEFAULT_BACKBONE, *KERAS_APPLICATION_NAMES)

__all__ = [
    "BACKBONE_NAMES",
    "DEFAULT_BACKBONE",
    "BackboneSpec",
    "BackboneUnavailable",
    "TensorFlowBackbone",
    "build_backbone",
    "configure_tensorflow",
]


def build_backbone(
    name: str = DEFAULT_BACKBONE,
    *,
    model_dir: Path,
    weights_path: str | Path | None = None,
    allow_download: bool = True,
) -> TensorFlowBackbone:
    """Build a backbone by name with real ImageNet weights, or raise BackboneUnavailable saying what to do.

    model_dir: where converted weights are cached (the Lite0 port converts the PyTorch file there once).
    weights_path: a local weights file (.pth for efficientnet_lite0, Keras no-top .h5 for the others).
    """
    if name == DEFAULT_BACKBONE:
        from embeddings.engine.backbones import lite0

        return lite0.load(model_dir=Path(model_dir), weights_path=weights_path)
    if name in KERAS_APPLICATION_NAMES:
        from embeddings.engine.backbones import keras_apps

        return keras_apps.load(name, weights_path=weights_path, allow_download=allow_download)
    raise BackboneUnavailable(f"unknown backbone {name!r}: choose one of {', '.join(BACKBONE_NAMES)}")
