"""Catalog reads: product lists and details with their images prefetched (no N+1), and what shoppers may see."""

from collections.abc import Mapping, Sequence

from django.db.models import OuterRef, Prefetch, Q, QuerySet, Subquery

from catalog.models import EmbeddingStatus, ImportJob, Product, ProductImage

# Exact-match filters accepted by product_list (case-insensitive), besides q (name search).
PRODUCT_FILTERS = ("gender", "master_category", "sub_category", "article_type", "base_colour")


def _with_images(queryset: QuerySet[Product]) -> QuerySet[Product]:
    images = Prefetch("images", queryset=ProductImage.objects.order_by("position", "id"))
    return queryset.prefetch_related(images)


def products_recommendable() -> QuerySet[Product]:
    """Products shoppers may see: active, and their primary photo (the first by position) has an embedding.

    "Has an embedding": embedded, or pending again only because the backbone changed (embedded_with kept, the
    current index still serves it). A failed, missing or never-embedded photo can never be recommended.
    The rule is one filter on correlated subqueries: no extra query for the pages that use it.
    """
    primary = ProductImage.objects.filter(product=OuterRef("pk")).order_by("position", "id")
    embedded = Q(photo_status=EmbeddingStatus.DONE) | (Q(photo_status=EmbeddingStatus.PENDING) & ~Q(photo_model=""))
    return (
        Product.objects.filter(is_active=True)
        .alias(
            photo_status=Subquery(primary.values("embedding_status")[:1]),
            photo_model=Subquery(primary.values("embedded_with")[:1]),
        )
        .filter(embedded)
    )


def product_hidden_reason(*, product: Product) -> str:
    """Why shoppers do not see this product (the rule of products_recommendable), or "" when they do."""
    image = product.primary_image
    if not product.is_active:
        return "inactive"
    if image is None:
        return "no photo"
    if image.embedding_status == EmbeddingStatus.FAILED:
        return f"photo failed: {image.embedding_error}".strip()
    if image.embedding_status != EmbeddingStatus.DONE and not image.embedded_with:
        return "photo pending"
    return ""


def _products(*, include_inactive: bool, recommendable_only: bool) -> QuerySet[Product]:
    if recommendable_only:
        return products_recommendable()
    return Product.objects.all() if include_inactive else Product.objects.filter(is_active=True)


def product_list(
    *, filters: Mapping[str, str] | None = None, include_inactive: bool = False, recommendable_only: bool = False
) -> QuerySet[Product]:
    """Active products (all with include_inactive, only recommendable ones with recommendable_only) matching the
    filters, images prefetched, in id order."""
    queryset = _products(include_inactive=include_inactive, recommendable_only=recommendable_only)
    for name, value in (filters or {}).items():
        if not value:
            continue
        if name == "q":
            for word in str(value).split():
                queryset = queryset.filter(name__icontains=word)
        elif name in PRODUCT_FILTERS:
            queryset = queryset.filter(**{f"{name}__iexact": value})
        else:
            raise ValueError(f"unknown product filter {name!r}")
    return _with_images(queryset.order_by("id"))


def product_get(*, product_id: int, include_inactive: bool = False, recommendable_only: bool = False) -> Product:
    """One product with its images; Product.DoesNotExist when unknown (or inactive, or not recommendable)."""
    queryset = _products(include_inactive=include_inactive, recommendable_only=recommendable_only)
    return _with_images(queryset).get(pk=product_id)


def product_list_by_ids(*, product_ids: Sequence[int], include_inactive: bool = False) -> list[Product]:
    """Products in the order of `product_ids` (unknown or inactive ids left out), images prefetched: for slates."""
    queryset = Product.objects.all() if include_inactive else Product.objects.filter(is_active=True)
    by_id = {p.pk: p for p in _with_images(queryset.filter(pk__in=list(product_ids)))}
    return [by_id[pk] for pk in product_ids if pk in by_id]


def import_job_get(*, job_id: int) -> ImportJob:
    """One import job; ImportJob.DoesNotExist when unknown."""
    return ImportJob.objects.select_related("created_by").get(pk=job_id)
