"""The process's image backbone, built once from settings (thread-safe) for web requests, workers and commands."""

from __future__ import annotations

import threading

from django.conf import settings

from embeddings.engine.backbones import TensorFlowBackbone, build_backbone, configure_tensorflow

_lock = threading.Lock()
_backbones: dict[tuple[str, str, str], TensorFlowBackbone] = {}


def backbone_config() -> dict:
    """The settings that pick the backbone: name, weights file, model (conversion cache) directory."""
    return {
        "name": settings.LOOKAWAY_BACKBONE,
        "weights_path": settings.LOOKAWAY_BACKBONE_WEIGHTS or None,
        "model_dir": settings.LOOKAWAY_MODEL_DIR,
    }


def get_backbone() -> TensorFlowBackbone:
    """The configured backbone, built (and warmed up) on first use, then shared by every thread of the process.

    Raises embeddings.engine.backbones.BackboneUnavailable with instructions when weights are missing.
    """
    config = backbone_config()
    key = (config["name"], str(config["weights_path"] or ""), str(config["model_dir"]))
    backbone = _backbones.get(key)
    if backbone is not None:
        return backbone
    with _lock:
        backbone = _backbones.get(key)
        if backbone is None:
            configure_tensorflow(
                getattr(settings, "LOOKAWAY_TF_INTRA_OP_THREADS", 0) or None,
                getattr(settings, "LOOKAWAY_TF_INTER_OP_THREADS", 0) or None,
            )
            backbone = build_backbone(
                config["name"], model_dir=config["model_dir"], weights_path=config["weights_path"]
            )
            backbone.warm_up()
            _backbones[key] = backbone
    return backbone
