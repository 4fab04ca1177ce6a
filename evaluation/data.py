"""The evaluation's catalog: product attributes from styles.csv and cached features / shopper images."""

from __future__ import annotations

import csv
import logging
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from PIL import Image

logger = logging.getLogger(__name__)

EMBED_BATCH = 32  # images per forward pass when filling the feature cache


@dataclass(frozen=True)
class EvalCatalog:
    """Products with their attributes (articleType, gender, baseColour) and image paths."""

    product_ids: np.ndarray  # (n,) int64
    article_type: np.ndarray  # (n,) str
    gender: np.ndarray
    colour: np.ndarray
    paths: np.ndarray  # (n,) str, image file of each product

    def path(self, product_id: int) -> str:
        """The product's image file."""
        rows = self.__dict__.get("_rows")
        if rows is None:
            rows = {int(p): i for i, p in enumerate(self.product_ids)}
            object.__setattr__(self, "_rows", rows)
        return str(self.paths[rows[int(product_id)]])

    def attribute_codes(self) -> np.ndarray:
        """(n, 3) int codes of articleType, gender, baseColour (equal codes = equal values)."""
        cols = [np.unique(a, return_inverse=True)[1] for a in (self.article_type, self.gender, self.colour)]
        return np.stack(cols, axis=1).astype(np.int64)


def load_catalog_dir(catalog_dir: str | Path) -> EvalCatalog:
    """Read styles.csv of a catalog folder, keeping products whose image exists, sorted by id."""
    catalog_dir = Path(catalog_dir)
    rows = []
    with open(catalog_dir / "styles.csv", newline="", encoding="utf-8") as handle:
        for row in csv.DictReader(handle):
            if (catalog_dir / "images" / f"{row['id']}.jpg").exists():
                rows.append((int(row["id"]), row["articleType"], row["gender"], row["baseColour"]))
    rows.sort()
    return EvalCatalog(
        product_ids=np.array([r[0] for r in rows], dtype=np.int64),
        article_type=np.array([r[1] for r in rows]),
        gender=np.array([r[2] for r in rows]),
        colour=np.array([r[3] for r in rows]),
        paths=np.array([str(catalog_dir / "images" / f"{r[0]}.jpg") for r in rows]),
    )


def load_or_embed_features(catalog: EvalCatalog, backbone, cache_file: str | Path) -> dict[str, np.ndarray]:
    """Features of every catalog image from the real backbone, computed once and cached as an .npz."""
    cache_file = Path(cache_file)
    if cache_file.exists():
        with np.load(cache_file) as npz:
            if np.array_equal(npz["product_ids"], catalog.product_ids):
                return {name: npz[name] for name in npz.files}
    vectors, spatial, colours = [], [], []
    ids = catalog.product_ids
    for start in range(0, len(ids), EMBED_BATCH):
        batch = []
        for pid in ids[start : start + EMBED_BATCH]:
            with Image.open(catalog.path(pid)) as img:
                batch.append(backbone.prepare(img.convert("RGB")))
        for feat in backbone.features(np.stack(batch)):
            vectors.append(feat.vector)
            spatial.append(feat.spatial)
            colours.append(feat.colours)
        if start % (EMBED_BATCH * 20) == 0:
            logger.info("embedded %d / %d", start + len(batch), len(ids))
    arrays = {
        "product_ids": ids,
        "vectors": np.stack(vectors).astype(np.float32),
        "spatial": np.stack(spatial).astype(np.float16),
        "colours": np.stack(colours).astype(np.float16),
    }
    cache_file.parent.mkdir(parents=True, exist_ok=True)
    np.savez(cache_file, **arrays)
    return arrays
