"""The evaluation's engine and catalog built from this project's settings, for `manage.py evaluate`'s workers.

The factories are picklable, so worker processes (spawned, see `evaluation.parallel`) build their own context: the
standalone one from a catalog folder and the feature cache (exact search, no database), the database one from the
imported catalog and the current index version.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from evaluation.data import EvalCatalog
from evaluation.parallel import EvaluationContext


def _django_ready() -> None:
    import django
    from django.apps import apps

    if not apps.ready:
        django.setup()


def catalog_from_db(view) -> EvalCatalog:
    """Active products in the index with a primary image file, as the evaluation catalog (ids = Product pks)."""
    from catalog.models import ProductImage

    rows = {}
    images = ProductImage.objects.filter(product__is_active=True).exclude(file="").select_related("product")
    for image in images.order_by("product_id", "position", "pk"):
        product = image.product
        if product.pk in rows or product.pk not in view:
            continue
        rows[product.pk] = (product.article_type, product.gender, product.base_colour, image.file.path)
    ids = sorted(rows)
    return EvalCatalog(
        product_ids=np.array(ids, dtype=np.int64),
        article_type=np.array([rows[i][0] for i in ids]),
        gender=np.array([rows[i][1] for i in ids]),
        colour=np.array([rows[i][2] for i in ids]),
        paths=np.array([rows[i][3] for i in ids]),
    )


@dataclass(frozen=True)
class StandaloneContext:
    """A catalog folder (styles.csv, images/) with features from the cache and exact search."""

    catalog_dir: str
    cache_dir: str
    engine: dict = field(default_factory=dict)

    def __call__(self) -> EvaluationContext:
        _django_ready()
        from embeddings.serving.backbone import get_backbone
        from embeddings.serving.shared_recommender import engine_config
        from evaluation.standalone import build_standalone

        recommender, catalog = build_standalone(
            self.catalog_dir, get_backbone(), self.cache_dir, engine_config(self.engine)
        )
        return EvaluationContext(recommender, catalog, self.cache_dir)


@dataclass(frozen=True)
class DatabaseContext:
    """The imported catalog and its current index version, as the web processes serve it."""

    cache_dir: str
    engine: dict = field(default_factory=dict)

    def __call__(self) -> EvaluationContext:
        _django_ready()
        from embeddings.engine.recommender import Recommender
        from embeddings.serving.shared_recommender import engine_config, get_recommender

        shared = get_recommender()
        recommender = Recommender(backbone=shared.backbone, catalog=shared.catalog, config=engine_config(self.engine))
        catalog = catalog_from_db(recommender.catalog)
        if len(catalog.product_ids) == 0:
            raise ValueError("no active products with images in the database; import the catalog first")
        # database ids differ from the folder's: the shopper models keep their own caches
        return EvaluationContext(recommender, catalog, str(Path(self.cache_dir) / "db"))
