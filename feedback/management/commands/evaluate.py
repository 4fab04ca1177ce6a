"""manage.py evaluate: the simulated-shopper protocol against the engine (docs/EVALUATION_PROTOCOL.md)."""

from __future__ import annotations

import os
import sys

import numpy as np
from django.core.management.base import BaseCommand, CommandError

from evaluation.data import EvalCatalog


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


class Command(BaseCommand):
    help = "Run the simulated-shopper evaluation; append JSON lines and a markdown table (docs/EVALUATION.md)."

    def add_arguments(self, parser) -> None:
        parser.add_argument("--episodes", type=int, default=300)
        parser.add_argument("--seed", type=int, default=1, help="random seed of the episodes")
        parser.add_argument("--catalog-dir", help="standalone mode: read this catalog folder (styles.csv, images/)")
        parser.add_argument("--features-cache", default="/tmp/lookaway-eval", help="standalone: feature cache dir")
        parser.add_argument("--jsonl", default="", help="append results as JSON lines to this file")
        parser.add_argument("--markdown", default="", help="append the markdown section to this file")
        parser.add_argument("--title", default="")
        parser.add_argument("--no-shown", action="store_true", help="do not pass earlier slates as weak negatives")
        parser.add_argument("--engine", default="{}", help="JSON overrides of EngineConfig fields")

    def handle(self, *args, **opts) -> None:
        import json

        from embeddings.serving.shared_recommender import engine_config
        from evaluation.cli import evaluate_and_report
        from evaluation.shoppers import load_shopper

        config = engine_config(json.loads(opts["engine"]))
        cache_dir = opts["features_cache"]
        if opts["catalog_dir"]:
            from embeddings.serving.backbone import get_backbone
            from evaluation.standalone import build_standalone

            recommender, catalog = build_standalone(
                opts["catalog_dir"], get_backbone(), opts["features_cache"], config
            )
        else:
            from embeddings.engine.recommender import Recommender
            from embeddings.serving.shared_recommender import get_recommender

            shared = get_recommender()
            recommender = Recommender(backbone=shared.backbone, catalog=shared.catalog, config=config)
            catalog = catalog_from_db(recommender.catalog)
            if len(catalog.product_ids) == 0:
                raise CommandError("no active products with images in the database; import the catalog first")
            cache_dir = os.path.join(cache_dir, "db")  # database ids differ from the folder's: own shopper-image cache
        shopper = load_shopper("colour", catalog, cache_dir)
        section = evaluate_and_report(
            recommender=recommender,
            catalog=catalog,
            shopper=shopper,
            episodes=opts["episodes"],
            seed=opts["seed"],
            command="python manage.py " + " ".join(sys.argv[1:]) if len(sys.argv) > 1 else "evaluate",
            jsonl=opts["jsonl"] or None,
            markdown=opts["markdown"] or None,
            title=opts["title"] or f"Seed {opts['seed']}, {opts['episodes']} episodes",
            use_shown=not opts["no_shown"],
        )
        self.stdout.write(section)
