"""Test helpers: products made from real catalog photos, in the database and media storage."""

from __future__ import annotations

import shutil
from pathlib import Path

from django.conf import settings

from catalog.models import Product, ProductImage
from config.shared import SHARED_CATALOG_IMAGES

CATALOG_IMAGES = SHARED_CATALOG_IMAGES


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
