"""Catalog reads: product lists and details with their images prefetched (no N+1)."""

from collections.abc import Mapping, Sequence

from django.db.models import Prefetch, QuerySet

from catalog.models import ImportJob, Product, ProductImage

# Exact-match filters accepted by product_list (case-insensitive), besides q (name search).
PRODUCT_FILTERS = ("gender", "master_category", "sub_category", "article_type", "base_colour")


def _with_images(queryset: QuerySet[Product]) -> QuerySet[Product]:
    images = Prefetch("images", queryset=ProductImage.objects.order_by("position", "id"))
    return queryset.prefetch_related(images)


def product_list(*, filters: Mapping[str, str] | None = None, include_inactive: bool = False) -> QuerySet[Product]:
    """Active products (all with include_inactive) matching the filters, images prefetched, in id order."""
    queryset = Product.objects.all() if include_inactive else Product.objects.filter(is_active=True)
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


def product_get(*, product_id: int, include_inactive: bool = False) -> Product:
    """One product with its images; Product.DoesNotExist when unknown (or inactive)."""
    queryset = Product.objects.all() if include_inactive else Product.objects.filter(is_active=True)
    return _with_images(queryset).get(pk=product_id)


def product_list_by_ids(*, product_ids: Sequence[int], include_inactive: bool = False) -> list[Product]:
    """Products in the order of `product_ids` (unknown or inactive ids left out), images prefetched: for slates."""
    queryset = Product.objects.all() if include_inactive else Product.objects.filter(is_active=True)
    by_id = {p.pk: p for p in _with_images(queryset.filter(pk__in=list(product_ids)))}
    return [by_id[pk] for pk in product_ids if pk in by_id]


def import_job_get(*, job_id: int) -> ImportJob:
    """One import job; ImportJob.DoesNotExist when unknown."""
    return ImportJob.objects.select_related("created_by").get(pk=job_id)
