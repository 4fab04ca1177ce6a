"""Django side of the engine: one Recommender per process, built from settings, the backbone and the index."""

from __future__ import annotations

import dataclasses
import threading
from typing import Any

from django.conf import settings

from embeddings.engine.recommender import EngineConfig, Recommender

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
    from embeddings.backbone import get_backbone

    from embeddings.search import get_catalog_view

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
