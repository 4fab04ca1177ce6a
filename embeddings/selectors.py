"""Read-side queries of the embeddings app: neighbours, embedding progress, index versions."""

from __future__ import annotations

from django.db.models import Count

from catalog.models import ProductImage
from embeddings.models import IndexVersion
from embeddings.serving.catalog_reloader import get_catalog_view


def nearest_products(*, product_id: int, k: int = 10) -> list[tuple[int, float]]:
    """The k active products whose stored vectors are nearest to this product's, as (product_id, similarity)."""
    view = get_catalog_view()
    features = view.features([product_id])
    if not len(features.product_ids):
        return []
    ids, sims = view.search(features.vectors[0], k + 1)
    return [(int(pid), float(sim)) for pid, sim in zip(ids, sims, strict=True) if pid != product_id][:k]


def embedding_progress() -> list[dict]:
    """Image counts by embedding status and backbone version (embedded_with), for the admin and index_status."""
    rows = ProductImage.objects.values("embedding_status", "embedded_with").annotate(n=Count("id"))
    return sorted(rows, key=lambda row: (row["embedded_with"], row["embedding_status"]))


def index_versions(*, limit: int = 20) -> list[IndexVersion]:
    """The most recent index versions, newest first."""
    return list(IndexVersion.objects.order_by("-created_at")[:limit])
