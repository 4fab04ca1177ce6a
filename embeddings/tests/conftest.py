"""Shared fixtures for the embeddings tests: the real backbone (built once per session) and catalog paths."""

import hashlib
import os
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from config.shared import SHARED_CATALOG as SHARED_CATALOG_DIR
from config.shared import SHARED_REFERENCE

CATALOG_DIR = SHARED_CATALOG_DIR
CATALOG_IMAGES = CATALOG_DIR / "images"
GOLDEN_FILE = SHARED_REFERENCE / "efficientnet_lite0_golden.npz"


def catalog_image_path(product_id: int) -> Path:
    """Path of a shared catalog photo (224x224 JPEG)."""
    return CATALOG_IMAGES / f"{product_id}.jpg"


def catalog_square(product_id: int) -> np.ndarray:
    """A catalog photo as a (224, 224, 3) uint8 array, exactly as decoded by Pillow."""
    with Image.open(catalog_image_path(product_id)) as image:
        return np.asarray(image.convert("RGB"), dtype=np.uint8)


@pytest.fixture(scope="session")
def backbone():
    """The real default backbone from settings; per-process cached, so every test (and app) shares one model.

    Other apps can get the same instance without this fixture: `embeddings.serving.backbone.get_backbone()`.
    """
    from embeddings.serving.backbone import get_backbone

    return get_backbone()


@pytest.fixture(scope="session")
def golden() -> dict[str, np.ndarray]:
    """The reference outputs of the PyTorch EfficientNet-Lite0 for 64 catalog images."""
    with np.load(GOLDEN_FILE) as npz:
        return {name: npz[name] for name in npz.files}


@pytest.fixture(scope="session")
def catalog_ids() -> list[int]:
    """All product ids with a photo in the shared catalog, sorted."""
    return sorted(int(path.stem) for path in CATALOG_IMAGES.glob("*.jpg"))


TEST_CACHE_DIR = Path(os.environ.get("LOOKAWAY_TEST_CACHE", str(Path.home() / ".cache" / "lookaway-tests")))


@pytest.fixture(scope="session")
def catalog_vectors(backbone, catalog_ids) -> tuple[np.ndarray, np.ndarray]:
    """(ids, L2-normalised vectors) of every shared catalog photo, computed by the real backbone.

    Embedding 9,000 photos takes a few minutes on 2 cores, so the result is cached on disk, keyed by the backbone
    version and the catalog's file list and sizes: a new model or a changed catalog computes afresh.
    """
    from embeddings.engine.pipeline import embed_files

    listing = "\n".join(f"{i}:{catalog_image_path(i).stat().st_size}" for i in catalog_ids)
    key = hashlib.sha256(f"{backbone.version}\n{listing}".encode()).hexdigest()[:16]
    cache = TEST_CACHE_DIR / f"catalog-vectors-{key}.npz"
    if cache.exists():
        with np.load(cache) as npz:
            return npz["ids"], npz["vectors"]
    paths = [catalog_image_path(i) for i in catalog_ids]
    results = dict(embed_files(backbone, paths, batch_size=32))
    failed = [catalog_ids[i] for i, r in results.items() if isinstance(r, Exception)]
    assert not failed, f"catalog photos failed to embed: {failed[:5]}"
    ids = np.asarray(catalog_ids, dtype=np.int64)
    vectors = np.stack([results[i].vector for i in range(len(paths))]).astype(np.float32)
    cache.parent.mkdir(parents=True, exist_ok=True)
    tmp = cache.with_suffix(".tmp.npz")
    np.savez(tmp, ids=ids, vectors=vectors)
    os.replace(tmp, cache)
    return ids, vectors
