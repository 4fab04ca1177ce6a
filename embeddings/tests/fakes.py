"""Test helpers: a deterministic fake embedder and products made from real catalog photos."""

from __future__ import annotations

import shutil
from pathlib import Path

import numpy as np
from django.conf import settings
from PIL import Image

from catalog.models import Product, ProductImage
from config.shared import SHARED_CATALOG_IMAGES
from embeddings.engine.types import ImageFeatures

CATALOG_IMAGES = SHARED_CATALOG_IMAGES
FAKE_DIM = 1280


class FakeBackbone:
    """Stands in for the TF backbone: a fixed random projection of a tiny thumbnail (similar photos get close)."""

    dim = FAKE_DIM
    grid = 7

    def __init__(self, version: str = "fake-v1"):
        self.version = version
        self._projection = np.random.default_rng(42).normal(size=(8 * 8 * 3, FAKE_DIM)).astype(np.float32)

    def features(self, path: str) -> ImageFeatures:
        with Image.open(path) as image:
            small = np.asarray(image.convert("RGB").resize((8, 8)), dtype=np.float32) / 255.0
            grid = np.asarray(image.convert("RGB").resize((7, 7)), dtype=np.float16)
        vector = (small.reshape(-1) - 0.5) @ self._projection
        vector /= np.linalg.norm(vector)
        spatial = np.repeat(grid[:, :, :1], 128, axis=2).astype(np.float16)
        return ImageFeatures(vector=vector.astype(np.float32), spatial=spatial, colours=grid)


def fake_run_embedder(backbone: FakeBackbone, sources: list, batch_size: int):
    """Same contract as embed_files: (i, ImageFeatures | Exception) per source."""
    for i, source in enumerate(sources):
        try:
            yield i, backbone.features(source)
        except Exception as exc:  # noqa: BLE001 - the contract reports per-image failures
            yield i, exc


def catalog_ids(n: int, offset: int = 0) -> list[str]:
    """The first n catalog image ids (sorted), after `offset`."""
    return sorted(p.stem for p in CATALOG_IMAGES.glob("*.jpg"))[offset : offset + n]


def make_product(external_id: str, *, image_bytes: bytes | None = None, position: int = 0) -> ProductImage:
    """A product with one image copied from the shared catalog (or given bytes) into media storage."""
    product, _ = Product.objects.get_or_create(external_id=external_id, defaults={"name": f"Product {external_id}"})
    target = Path(settings.MEDIA_ROOT) / "products" / f"{external_id}-{position}.jpg"
    target.parent.mkdir(parents=True, exist_ok=True)
    if image_bytes is None:
        shutil.copyfile(CATALOG_IMAGES / f"{external_id}.jpg", target)
    else:
        target.write_bytes(image_bytes)
    return ProductImage.objects.create(product=product, position=position, file=f"products/{target.name}")


def make_products(n: int, offset: int = 0) -> list[ProductImage]:
    """n products with real catalog photos."""
    return [make_product(external_id) for external_id in catalog_ids(n, offset)]
