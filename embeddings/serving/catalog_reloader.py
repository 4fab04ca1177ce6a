"""The per-process reloader of the live catalog view: notices a new index version or fresh embeddings, no restart."""

from __future__ import annotations

import logging
import threading
import time

from django.conf import settings
from django.db.models import Count, Max

from embeddings.engine.index import AnnoyCatalogView, IndexStore
from embeddings.engine.types import CatalogView
from embeddings.models import ImageEmbedding
from embeddings.services.embedding import current_backbone_version
from embeddings.services.index_versions import index_choose_usable
from embeddings.serving.live_catalog import LiveCatalogView, fresh_since, load_fresh_view, without_indexed_copies

logger = logging.getLogger(__name__)


class CatalogReloader:
    """Per-process holder of the current LiveCatalogView; reloads when CURRENT or the fresh set changes."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._view: LiveCatalogView | None = None
        self._stamp: object = object()
        self._fresh_signature: object = None
        self._checked_at = 0.0

    def get(self) -> LiveCatalogView:
        """The current view; a cheap stat of the pointer decides whether to reload."""
        store = IndexStore(settings.LOOKAWAY_INDEX_DIR)
        stale_fresh = time.monotonic() - self._checked_at >= settings.LOOKAWAY_FRESH_CHECK_SECONDS
        if self._view is None or stale_fresh or store.pointer_stamp() != self._stamp:
            # One thread refreshes; the others keep answering from the view they have (no pause).
            if self._lock.acquire(blocking=self._view is None):
                try:
                    self._refresh(store)
                finally:
                    self._lock.release()
        return self._view  # type: ignore[return-value]

    def _refresh(self, store: IndexStore) -> None:
        backbone_version = current_backbone_version()
        view = self._view
        index = view.index if view is not None and view.backbone_version == backbone_version else None
        stamp = store.pointer_stamp()
        if stamp != self._stamp or view is None or view.backbone_version != backbone_version:
            index = self._load_index(store, backbone_version)
            self._stamp = stamp
            self._fresh_signature = None
        since = fresh_since(index)
        embeddings = ImageEmbedding.objects.filter(backbone_version=backbone_version)
        if since is not None:
            embeddings = embeddings.filter(created_at__gte=since)
        signature = (
            index.version if index else None,
            *embeddings.aggregate(n=Count("id"), last=Max("created_at")).values(),
        )
        if signature != self._fresh_signature or view is None:
            fresh = without_indexed_copies(load_fresh_view(backbone_version=backbone_version, since=since), index)
            self._fresh_signature = signature
        else:
            fresh = view.fresh
        unchanged = view is not None and view.index is index and view.fresh is fresh
        if not unchanged or view.backbone_version != backbone_version:
            # A new object only when something changed: callers may cache work keyed on the view's identity.
            self._view = LiveCatalogView(index=index, fresh=fresh, backbone_version=backbone_version)
        self._checked_at = time.monotonic()

    @staticmethod
    def _load_index(store: IndexStore, backbone_version: str) -> AnnoyCatalogView | None:
        """The verified current version; if it is damaged, an older verified one or None (exact search), logged."""
        choice = index_choose_usable(backbone_version=backbone_version, store=store)
        for problem in choice.problems:
            logger.error("%s", problem)
        if choice.degraded:
            serving = f"index version {choice.version}" if choice.view else "exact search over the database"
            logger.error(
                "index %s is damaged: serving %s; fix with manage.py rollback_index or manage.py build_index",
                choice.current or "pointer",
                serving,
            )
        elif choice.current is not None and choice.view is None:
            logger.warning("index %s was built by another backbone: searching the database exactly", choice.current)
        return choice.view


_views = CatalogReloader()


def get_catalog_view() -> CatalogView:
    """The process-wide catalog view (thread-safe; notices a new index version without restart)."""
    return _views.get()


def reset_catalog_view() -> None:
    """Forget the loaded view (tests, or after changing settings)."""
    global _views
    _views = CatalogReloader()
