"""manage.py evaluate in database mode: the imported catalog and its index version, as the web processes serve it."""

from __future__ import annotations

import gzip
import json

import pytest
from django.core.management import CommandError, call_command

from catalog.models import Product


def test_database_mode_plays_episodes_on_the_served_catalog(shop_catalog, tmp_path):
    jsonl = tmp_path / "db.jsonl.gz"
    call_command(
        "evaluate",
        features_cache=str(tmp_path / "cache"),
        episodes=3,
        seed=2,
        shopper=["colour"],
        family=["standard"],
        runs="no-repeat click-only,region",
        jsonl=str(jsonl),
    )
    with gzip.open(jsonl, "rt", encoding="utf-8") as handle:
        rows = [json.loads(line) for line in handle]
    episodes = [r for r in rows if r["kind"] == "episode"]
    assert len(episodes) == 6
    shop = set(shop_catalog.product_ids)
    assert all(r["target"] in shop and r["start"] in shop for r in episodes)  # database ids: the shop's products
    assert (tmp_path / "cache" / "db" / "look32.npz").exists()  # its own shopper cache, apart from the folder's


@pytest.mark.django_db
def test_database_mode_without_products_says_so(tmp_path):
    assert not Product.objects.exists()
    with pytest.raises(CommandError, match="import the catalog first|no index"):
        call_command("evaluate", features_cache=str(tmp_path), episodes=1, runs="region")
