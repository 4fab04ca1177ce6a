"""TensorFlowBackbone: one compiled forward pass giving the L2-normalised embedding, plus the per-cell pixel grids."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np
from PIL import Image

from embeddings.engine.preprocess import prepare_square
from embeddings.engine.cell_shapes import shape_grid
from embeddings.engine.spatial import colour_grid
from embeddings.engine.types import ImageFeatures


class BackboneUnavailable(RuntimeError):
    """A backbone cannot be built (unknown name, missing weights, ...); the message says what to do."""


@dataclass(frozen=True)
class BackboneSpec:
    """Static description of a backbone: what goes in and what comes out."""

    name: str
    input_size: int
    grid: int
    dim: int


class TensorFlowBackbone:
    """A TensorFlow image model wrapped for the engine (a types.Backbone): uint8 squares in, vectors + maps out."""

    def __init__(
        self,
        *,
        spec: BackboneSpec,
        version: str,
        trunk,
        normalise: Callable,
        classifier=None,
    ) -> None:
        import tensorflow as tf

        self.spec = spec
        self.name = spec.name
        self.version = version
        self.input_size = spec.input_size
        self.grid = spec.grid
        self.dim = spec.dim
        self.trunk = trunk
        self.classifier = classifier
        self._normalise = normalise
        signature = [tf.TensorSpec([None, spec.input_size, spec.input_size, 3], tf.uint8, name="images")]
        self._forward = tf.function(self._forward_graph, input_signature=signature, reduce_retracing=False)
        self._classify = tf.function(self._classify_graph, input_signature=signature) if classifier else None

    def __repr__(self) -> str:
        return f"<TensorFlowBackbone {self.version} input={self.input_size} grid={self.grid} dim={self.dim}>"

    def _forward_graph(self, images):
        import tensorflow as tf

        feature_maps = self.trunk(self._normalise(tf.cast(images, tf.float32)), training=False)
        pooled = tf.reduce_mean(feature_maps, axis=[1, 2])
        return tf.math.l2_normalize(pooled, axis=-1), feature_maps

    def _classify_graph(self, images):
        import tensorflow as tf

        feature_maps = self.trunk(self._normalise(tf.cast(images, tf.float32)), training=False)
        return self.classifier(tf.reduce_mean(feature_maps, axis=[1, 2]), training=False)

    def _check_batch(self, batch: np.ndarray) -> np.ndarray:
        batch = np.asarray(batch)
        size = self.input_size
        if batch.ndim == 3:
            batch = batch[None]
        if batch.dtype != np.uint8 or batch.shape[1:] != (size, size, 3):
            raise ValueError(
                f"{self.name} expects uint8 batches of shape (N, {size}, {size}, 3), got {batch.dtype} {batch.shape}"
            )
        return batch

    def prepare(self, image: Image.Image) -> np.ndarray:
        """Fit an RGB image into the model's input square (aspect kept, white padding): (S, S, 3) uint8."""
        return prepare_square(image, self.input_size)

    def forward(self, batch: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """One pass over uint8 (N, S, S, 3): (vectors (N, D) float32 L2-normalised, feature maps (N, G, G, C))."""
        batch = self._check_batch(batch)
        vectors, feature_maps = self._forward(batch)
        return vectors.numpy(), feature_maps.numpy()

    def classify(self, batch: np.ndarray) -> np.ndarray:
        """ImageNet logits (N, 1000) for backbones that keep their classifier (used to verify ports)."""
        if self._classify is None:
            raise BackboneUnavailable(f"{self.name} has no classifier head")
        return self._classify(self._check_batch(batch)).numpy()

    def logits(self, feature_maps: np.ndarray) -> np.ndarray:
        """ImageNet logits (N, 1000) from feature maps already computed by forward (no second pass)."""
        if self.classifier is None:
            raise BackboneUnavailable(f"{self.name} has no classifier head")
        pooled = np.asarray(feature_maps, dtype=np.float32).mean(axis=(1, 2))
        return np.asarray(self.classifier(pooled, training=False))

    def features(
        self,
        batch: np.ndarray,
        colours: Sequence[np.ndarray] | None = None,
        shapes: Sequence[np.ndarray] | None = None,
    ) -> list[ImageFeatures]:
        """Vector, shape grid and colour grid for each square of a uint8 batch (N, S, S, 3).

        colours, shapes: the squares' grids if already computed (the pipeline does it in its decode threads).
        """
        batch = self._check_batch(batch)
        vectors = self._forward(batch)[0].numpy()
        if colours is None:
            colours = [colour_grid(square, self.grid) for square in batch]
        if shapes is None:
            shapes = [shape_grid(square, self.grid) for square in batch]
        return [
            ImageFeatures(
                vector=vectors[i],
                spatial=np.asarray(shapes[i], dtype=np.float16),
                colours=np.asarray(colours[i], dtype=np.float16),
            )
            for i in range(len(vectors))
        ]

    def warm_up(self) -> None:
        """Run one blank image through the compiled graph so the first real request is not slow."""
        self.forward(np.full((1, self.input_size, self.input_size, 3), 255, dtype=np.uint8))
