"""Standalone mode: the catalog folder read directly, features from the cache, exact search (no database)."""

from __future__ import annotations

import re
from pathlib import Path

from embeddings.engine.config import EngineConfig
from embeddings.engine.index.exact import ExactCatalogView
from embeddings.engine.recommender import Recommender
from evaluation.data import EvalCatalog, load_catalog_dir, load_or_embed_features


def features_cache_path(cache_dir: str | Path, backbone_version: str) -> Path:
    """Where the features of one backbone version are cached."""
    return Path(cache_dir) / f"features-{re.sub(r'[^A-Za-z0-9_.-]', '_', backbone_version)}.npz"


def build_standalone(
    catalog_dir: str | Path, backbone, cache_dir: str | Path, config: EngineConfig
) -> tuple[Recommender, EvalCatalog]:
    """A Recommender over an ExactCatalogView of the folder's products, and the evaluation catalog."""
    catalog = load_catalog_dir(catalog_dir)
    arrays = load_or_embed_features(catalog, backbone, features_cache_path(cache_dir, backbone.version))
    view = ExactCatalogView(arrays["product_ids"], arrays["vectors"], arrays["spatial"], arrays["colours"])
    return Recommender(backbone=backbone, catalog=view, config=config), catalog
