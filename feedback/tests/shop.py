"""A small real shop for tests: 90 products of four article types from the shared sample catalog, with real features.

The products, their photos (copied into MEDIA_ROOT) and their embeddings go into the database the way the
import and embedding pipeline would store them, and the index is built by embeddings.services.index_build, so
the unpatched embeddings.serving.shared_recommender.get_recommender() serves them. Products keep their catalog id as
primary key, so everything can be re-created after a transactional test's flush without invalidating the features,
which are computed once with the real backbone and cached on disk under SHOP_CACHE_DIR (keyed by backbone version and
ids).
Used by feedback/tests/conftest.py (`shop_catalog`) and by the storefront's browser tests.
"""

from __future__ import annotations

import csv
import functools
import hashlib
import logging
import shutil
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

import numpy as np
from django.conf import settings
from django.db import transaction
from django.test import override_settings
from django.utils import timezone

from catalog.models import EmbeddingStatus, Product, ProductImage
from config.shared import SHARED_CATALOG as SHARED_CATALOG_DIR
from embeddings.engine.preprocess import load_image
from embeddings.engine.types import FeatureArrays, ImageFeatures
from embeddings.models import ImageEmbedding
from embeddings.services.storage import features_to_fields

logger = logging.getLogger(__name__)

SHARED_CATALOG = SHARED_CATALOG_DIR
SHOP_CACHE_DIR = Path("/tmp/lookaway-test-cache")
# Four visually distinct article types, in the numbers a slate of 8 needs to be meaningful after filters.
SHOP_TYPES = {"Tshirts": 30, "Casual Shoes": 24, "Handbags": 18, "Watches": 18}
EMBED_BATCH = 32  # fills the 2-core CPU without growing memory
EMBEDDED_AT = datetime(2020, 1, 1, tzinfo=UTC)


@dataclass
class ShopCatalog:
    """The installed shop: product ids (all, and by article type), their features and the engine over them."""

    product_ids: list[int]
    by_type: dict[str, list[int]]
    features: FeatureArrays
    backbone: object = None
    index_dir: Path | None = None
    extra: dict = field(default_factory=dict)

    @property
    def recommender(self):
        """The engine the API uses (embeddings.serving.shared_recommender.get_recommender)."""
        from embeddings.serving.shared_recommender import get_recommender

        return get_recommender()


def shop_rows() -> list[dict[str, str]]:
    """The chosen styles.csv rows: the first SHOP_TYPES[t] products (by id) of each type with a photo."""
    chosen: dict[str, list[dict[str, str]]] = {name: [] for name in SHOP_TYPES}
    with (SHARED_CATALOG / "styles.csv").open(newline="", encoding="utf-8") as handle:
        rows = sorted(csv.DictReader(handle), key=lambda row: int(row["id"]))
    for row in rows:
        bucket = chosen.get(row["articleType"])
        if bucket is not None and len(bucket) < SHOP_TYPES[row["articleType"]]:
            if (SHARED_CATALOG / "images" / f"{row['id']}.jpg").is_file():
                bucket.append(row)
    return [row for name in SHOP_TYPES for row in chosen[name]]


def _product(row: dict[str, str]) -> Product:
    return Product(
        id=int(row["id"]),
        external_id=row["id"],
        name=row["productDisplayName"] or f"Product {row['id']}",
        gender=row["gender"],
        master_category=row["masterCategory"],
        sub_category=row["subCategory"],
        article_type=row["articleType"],
        base_colour=row["baseColour"],
        season=row["season"],
        year=int(row["year"]) if row["year"] else None,
        usage=row["usage"],
    )


@functools.cache
def _photo_facts(product_id: int) -> tuple[int, int, int, str]:
    source = SHARED_CATALOG / "images" / f"{product_id}.jpg"
    data = source.read_bytes()
    width, height = load_image(source).size
    return width, height, len(data), hashlib.sha256(data).hexdigest()


def _copy_photo(product_id: int) -> tuple[str, int, int, int, str]:
    name = f"products/shop-{product_id}.jpg"
    target = Path(settings.MEDIA_ROOT) / name
    if not target.is_file():
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(SHARED_CATALOG / "images" / f"{product_id}.jpg", target)
    return (name, *_photo_facts(product_id))


def shop_install(*, features: FeatureArrays, backbone_version: str) -> list[int]:
    """Create the shop's products, photos and embeddings in the database (idempotent; one query when present).

    The embeddings are dated EMBEDDED_AT, long before any index build, so the index (not the fresh set) serves them.
    """
    rows = shop_rows()
    ids = [int(row["id"]) for row in rows]
    present = ImageEmbedding.objects.filter(
        image__product_id__in=ids, image__position=0, backbone_version=backbone_version
    ).count()
    if present == len(ids):
        return ids
    with transaction.atomic():
        Product.objects.bulk_create([_product(row) for row in rows], ignore_conflicts=True)
        images = []
        for pid in ids:
            name, width, height, size, digest = _copy_photo(pid)
            images.append(
                ProductImage(
                    product_id=pid,
                    position=0,
                    file=name,
                    source_name=f"{pid}.jpg",
                    content_hash=digest,
                    width=width,
                    height=height,
                    bytes=size,
                    embedding_status=EmbeddingStatus.DONE,
                    embedded_with=backbone_version,
                    embedded_at=timezone.now(),
                )
            )
        ProductImage.objects.bulk_create(images, ignore_conflicts=True)
        image_ids = dict(ProductImage.objects.filter(product_id__in=ids, position=0).values_list("product_id", "id"))
        embeddings = [
            ImageEmbedding(
                image_id=image_ids[int(pid)],
                backbone_version=backbone_version,
                **features_to_fields(
                    ImageFeatures(vector=features.vectors[i], spatial=features.spatial[i], colours=features.colours[i])
                ),
            )
            for i, pid in enumerate(features.product_ids)
        ]
        ImageEmbedding.objects.bulk_create(embeddings, ignore_conflicts=True)
        ImageEmbedding.objects.filter(image_id__in=image_ids.values()).update(created_at=EMBEDDED_AT)
    return ids


def shop_build_index(*, backbone_version: str, index_dir: Path) -> None:
    """Build and activate an Annoy index version of the shop in index_dir with H3's service (no Redis lock)."""
    from embeddings.services import index_build

    with override_settings(LOOKAWAY_INDEX_DIR=index_dir, REDIS_URL=None):
        index_build(backbone_version=backbone_version, blocking=True)


def _cache_path(backbone_version: str, ids: list[int]) -> Path:
    key = hashlib.sha256(f"pipeline|{backbone_version}|{ids}".encode()).hexdigest()[:16]
    return SHOP_CACHE_DIR / f"shop-{key}.npz"


def shop_features(backbone, ids: list[int]) -> FeatureArrays:
    """Real features of the shop's photos by this backbone, computed once and cached on disk."""
    path = _cache_path(backbone.version, ids)
    if path.is_file():
        with np.load(path) as npz:
            return FeatureArrays(
                product_ids=npz["product_ids"], vectors=npz["vectors"], spatial=npz["spatial"], colours=npz["colours"]
            )
    from embeddings.engine.pipeline import embed_files

    sources = [str(SHARED_CATALOG / "images" / f"{pid}.jpg") for pid in ids]
    computed: dict[int, ImageFeatures] = {}
    for index, outcome in embed_files(backbone, sources, EMBED_BATCH):
        if isinstance(outcome, Exception):
            raise outcome
        computed[index] = outcome
    vectors = [computed[i].vector for i in range(len(ids))]
    spatial = [computed[i].spatial for i in range(len(ids))]
    colours = [computed[i].colours for i in range(len(ids))]
    arrays = FeatureArrays(
        product_ids=np.asarray(ids, dtype=np.int64),
        vectors=np.asarray(vectors, dtype=np.float32),
        spatial=np.asarray(spatial, dtype=np.float16),
        colours=np.asarray(colours, dtype=np.float16),
    )
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".tmp.npz")
    np.savez(tmp, **arrays.__dict__)
    tmp.replace(path)
    logger.info("shop features cached in %s", path)
    return arrays


def shop_backbone():
    """The process-wide real backbone, as configured in settings."""
    from embeddings.serving.backbone import get_backbone

    return get_backbone()
