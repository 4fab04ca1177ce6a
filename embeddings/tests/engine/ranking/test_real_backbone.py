"""One slower check with the real backbone on a few real catalog images."""

from __future__ import annotations

import numpy as np
import pytest
from PIL import Image

from config.shared import SHARED_CATALOG
from embeddings.engine.index.exact import ExactCatalogView
from embeddings.engine.recommender import Recommender
from evaluation.data import load_catalog_dir
from evaluation.shoppers import GridBrush, choose_cells
from evaluation.shoppers.colour import lab_cell_differences, lab_foreground_cells
from evaluation.shoppers.pixels import load_rgb, rgb_to_lab

CATALOG = SHARED_CATALOG


@pytest.mark.slow
def test_region_feedback_with_the_real_backbone_finds_the_other_colour():
    from embeddings.serving.backbone import get_backbone

    backbone = get_backbone()
    cat = load_catalog_dir(CATALOG)
    tshirts = np.flatnonzero((cat.article_type == "Tshirts") & (cat.gender == "Men"))[:40]
    ids = cat.product_ids[tshirts]
    squares = []
    for pid in ids:
        with Image.open(cat.path(pid)) as img:
            squares.append(backbone.prepare(img.convert("RGB")))
    feats = backbone.features(np.stack(squares))
    view = ExactCatalogView(
        ids,
        np.stack([f.vector for f in feats]),
        np.stack([f.spatial for f in feats]),
        np.stack([f.colours for f in feats]),
    )
    rec = Recommender(backbone=backbone, catalog=view)
    seed = int(ids[0])
    colours = cat.colour[tshirts]
    target = int(ids[np.flatnonzero(colours != colours[0])[0]])
    seed_lab, target_lab = (rgb_to_lab(load_rgb(cat.path(p), 224)) for p in (seed, target))
    cells = choose_cells(lab_cell_differences(seed_lab, target_lab), lab_foreground_cells(seed_lab))
    mask = GridBrush().paint(cells, np.ones((224, 224), dtype=bool), np.random.default_rng(0))
    with Image.open(cat.path(seed)) as img:
        signal = rec.derive_feedback(seed_id=seed, seed_image=img.convert("RGB"), mask=mask)
    assert signal.cells.sum() > 0 and not np.allclose(signal.arrays["masked_vector"], signal.arrays["seed_vector"])
    slate = rec.recommend(seed_id=seed, feedback=[signal], k=8)
    plain = rec.similar(product_id=seed, k=8)
    assert len(slate.items) == 8 and seed not in slate.product_ids
    assert slate.product_ids != plain.product_ids
    # the slate moves away from the seed's colour where it was painted: fewer same-colour items than plain neighbours
    same = {int(p) for p, c in zip(ids, colours, strict=True) if c == colours[0]}
    assert len(same & set(slate.product_ids)) <= len(same & set(plain.product_ids))
