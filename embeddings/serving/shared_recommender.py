"""The Recommender a process shares: EngineConfig from settings, rebuilt when backbone or index change; warm-up."""

from __future__ import annotations

import dataclasses
import threading
import time
from collections.abc import Callable
from typing import Any

import numpy as np
from django.conf import settings
from PIL import Image

from embeddings.engine.config import EngineConfig
from embeddings.engine.recommender import Recommender
from embeddings.serving.backbone import get_backbone
from embeddings.serving.catalog_reloader import get_catalog_view

_lock = threading.Lock()
_cached: tuple[int, int, Recommender] | None = None


def engine_config(overrides: dict[str, Any] | None = None) -> EngineConfig:
    """EngineConfig from settings.LOOKAWAY_ENGINE (a dict of field overrides); unknown keys are an error."""
    values = dict(getattr(settings, "LOOKAWAY_ENGINE", {}) or {})
    values.update(overrides or {})
    known = {f.name for f in dataclasses.fields(EngineConfig)}
    unknown = sorted(set(values) - known)
    if unknown:
        raise ValueError(f"unknown LOOKAWAY_ENGINE settings: {', '.join(unknown)}")
    return EngineConfig(**values)


def get_recommender() -> Recommender:
    """The process-wide Recommender; rebuilt when the backbone or the catalog view (index version) changes."""
    global _cached
    backbone, catalog = get_backbone(), get_catalog_view()
    with _lock:
        if _cached is None or _cached[0] != id(backbone) or _cached[1] != id(catalog):
            recommender = Recommender(backbone=backbone, catalog=catalog, config=engine_config())
            _cached = (id(backbone), id(catalog), recommender)
        return _cached[2]


def reset_recommender() -> None:
    """Forget the cached Recommender (tests, settings changes)."""
    global _cached
    with _lock:
        _cached = None


def warm_up(*, notify: Callable[[], object] = lambda: None) -> dict[str, Any]:
    """Build the process's engine and run one of each request's paths, so the first shopper is not the slow one.

    Loads the backbone (one blank forward pass) and the catalog view (index mapping + fresh set), answers one
    `similar` and one feedback step for an indexed product, resolves the URL patterns, then closes the database
    connections it opened. `notify` is called between steps (gunicorn's worker heartbeat). Returns timings.
    """
    from django.db import connections
    from django.urls import get_resolver

    timings: dict[str, Any] = {}
    began = time.perf_counter()
    try:
        get_resolver().url_patterns  # noqa: B018 - imports every view module (DRF, serializers, schema)
        timings["urls_s"] = round(time.perf_counter() - began, 2)
        notify()
        recommender = get_recommender()
        timings["engine_s"] = round(time.perf_counter() - began, 2)
        notify()
        product_id = _any_indexed_product(recommender.catalog)
        if product_id is not None:
            recommender.similar(product_id=product_id, k=8)
            size = recommender.backbone.input_size
            mask = np.zeros((size, size), dtype=bool)
            mask[size // 4 : size // 2, size // 4 : 3 * size // 4] = True
            image = Image.new("RGB", (size, size), (255, 255, 255))
            signal = recommender.derive_feedback(seed_id=product_id, seed_image=image, mask=mask)
            recommender.recommend(seed_id=product_id, feedback=[signal], k=8)
        timings["product"] = product_id
        timings["total_s"] = round(time.perf_counter() - began, 2)
    finally:
        connections.close_all()  # warm-up ran outside a request: do not leave its connection to a request thread
    return timings


def _any_indexed_product(catalog: object) -> int | None:
    """One product id of the catalog view (its first indexed or fresh item), None for an empty catalog."""
    for part in (getattr(catalog, "index", None), getattr(catalog, "fresh", None)):
        ids = getattr(part, "ids", None) if part is not None else None
        ids = ids if ids is not None else getattr(part, "product_ids", None)
        if ids is not None and len(ids):
            for pid in np.asarray(ids[:50]).tolist():
                if pid in catalog:
                    return int(pid)
    return None
