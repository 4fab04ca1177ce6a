"""The feedback engine: plain neighbours, region feedback from a painted mask, and the re-ranked slate."""

from __future__ import annotations

from collections.abc import Collection, Sequence

import numpy as np
from PIL import Image

from embeddings.engine.config import EngineConfig
from embeddings.engine.mask_meaning import WHOLE_ITEM, judge_mask
from embeddings.engine.masking import cell_coverage, fill_masked, fit_mask_to_square
from embeddings.engine.ranking.pool import filtered_search, merge_pools
from embeddings.engine.ranking.preference import preferring
from embeddings.engine.ranking.scoring import RegionScorer
from embeddings.engine.types import AllowFilter, Backbone, CatalogView, FeedbackSignal, Slate, SlateItem


def _unit(v: np.ndarray) -> np.ndarray:
    v = np.asarray(v, dtype=np.float32).reshape(-1)
    return v / max(float(np.linalg.norm(v)), 1e-12)


class Recommender:
    """Recommends products for a seed, steered away from every region the shopper painted (no Django here)."""

    def __init__(self, *, backbone: Backbone | None, catalog: CatalogView, config: EngineConfig | None = None) -> None:
        self.backbone = backbone
        self.catalog = catalog
        self.config = config = config or EngineConfig()
        self.scorer = RegionScorer(config)

    def similar(
        self,
        *,
        product_id: int,
        k: int,
        exclude: Collection[int] = (),
        offset: int = 0,
        allow: AllowFilter | None = None,
        prefer: AllowFilter | None = None,
    ) -> Slate:
        """Plain nearest neighbours of a product (the product itself and `exclude` left out).

        `prefer`: products passing it come first; the rest of the catalog (passing `allow`) tops the slate up.
        """
        vector = self._seed(product_id, ())[0]

        def neighbours(allowed: AllowFilter | None, excluded: Collection[int], want: int) -> Slate:
            ids, sims = filtered_search(self.catalog, vector, want, {*excluded, int(product_id)}, allowed)
            return Slate(
                tuple(SlateItem(int(i), float(s), "Visually similar") for i, s in zip(ids, sims, strict=True))
            )

        return preferring(neighbours, prefer=prefer, allow=allow, exclude=exclude, k=k, offset=offset)

    def derive_feedback(
        self, *, seed_id: int, seed_image: Image.Image, mask: np.ndarray, shown: Sequence[int] = ()
    ) -> FeedbackSignal:
        """Turn a painted mask on the seed photo into a persisted signal (one masked forward pass).

        A mask that paints no product (or too little of it) raises MeaninglessMask; one over (nearly) the whole
        product is stored as a whole-item dislike (`arrays["whole_item"]`): it leaves the region comparison out.

        `shown`: products on the slates the shopper saw (and passed over) before painting; stored in the signal as
        weak negatives, so removing or undoing this feedback also removes them (undo stays exact).
        """
        mask = np.asarray(mask, dtype=bool)
        if mask.ndim != 2:
            raise ValueError("mask must be a 2-d boolean array")
        square = np.asarray(self.backbone.prepare(seed_image), dtype=np.uint8)
        size = square.shape[0]
        square_mask = fit_mask_to_square(mask, seed_image.size, size)
        meaning = judge_mask(square, square_mask)  # raises MeaninglessMask for a mask that paints no product
        masked = fill_masked(square, square_mask, self.config.fill)
        seed = self.catalog.features([int(seed_id)])  # unknown or removed ids are left out
        if len(seed.product_ids):
            vector, spatial, colours = seed.vectors[0], seed.spatial[0], seed.colours[0]
            (masked_vector,), _ = self.backbone.forward(masked[None])
        else:  # a seed missing from the index: compute its features from the photo too
            own = self.backbone.features(np.stack([square, masked]))
            vector, spatial, colours = own[0].vector, own[0].spatial, own[0].colours
            masked_vector = own[1].vector
        cells = cell_coverage(square_mask, spatial.shape[0])
        arrays = {
            "masked_vector": np.asarray(masked_vector, dtype=np.float32),
            "seed_vector": np.asarray(vector, dtype=np.float32),
            "seed_spatial": np.asarray(spatial, dtype=np.float16),
            "seed_colours": np.asarray(colours, dtype=np.float16),
            "passed_over": np.asarray(sorted({int(p) for p in shown}), dtype=np.int64),
            "whole_item": np.asarray([meaning == WHOLE_ITEM]),
        }
        return FeedbackSignal(seed_id=int(seed_id), cells=cells, arrays=arrays)

    def recommend(
        self,
        *,
        seed_id: int,
        feedback: Sequence[FeedbackSignal],
        exclude: Collection[int] = (),
        k: int,
        offset: int = 0,
        allow: AllowFilter | None = None,
        prefer: AllowFilter | None = None,
    ) -> Slate:
        """The slate for a seed under all remaining feedback; a pure function of its inputs.

        `exclude`: visited seeds and anything else never to show. Every product a remaining signal recorded as passed
        over (see derive_feedback) is left out of the searches too, so each slate shows new products and undoing a
        feedback brings its passed-over products back (undo stays exact). `prefer`: products passing it come first;
        the rest of the catalog (passing `allow`) tops the slate up when too few do.
        """
        if not feedback:
            return self.similar(product_id=seed_id, k=k, exclude=exclude, offset=offset, allow=allow, prefer=prefer)
        cfg = self.config
        seed_vector, _, seed_colours = self._seed(seed_id, feedback)
        passed_over = {int(p) for s in feedback for p in s.arrays.get("passed_over", ())}
        masked = _unit(feedback[-1].arrays["masked_vector"])

        def ranked(allowed: AllowFilter | None, excluded: Collection[int], want: int) -> Slate:
            left_out = {*excluded, int(seed_id), *passed_over}
            pools = [
                filtered_search(self.catalog, seed_vector, cfg.pool_seed, left_out, allowed)[0],
                filtered_search(self.catalog, masked, cfg.pool_masked, left_out, allowed)[0],
            ]
            cands = self.catalog.features(merge_pools(pools).tolist())
            items = self.scorer.rank(
                cands=cands,
                seed_colours=seed_colours,
                seed_vector=seed_vector,
                seed_id=int(seed_id),
                feedback=feedback,
                k=want,
            )
            return Slate(items=tuple(items))

        return preferring(ranked, prefer=prefer, allow=allow, exclude=exclude, k=k, offset=offset)

    def _seed(self, seed_id: int, feedback: Sequence[FeedbackSignal]) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """The seed's unit vector, cell features and colour grid: one catalog call, else from a signal on it."""
        feats = self.catalog.features([int(seed_id)])  # unknown or removed ids are left out
        if len(feats.product_ids):
            return _unit(feats.vectors[0]), np.asarray(feats.spatial[0]), np.asarray(feats.colours[0])
        for signal in reversed(feedback):
            if signal.seed_id == int(seed_id):
                arrays = signal.arrays
                return _unit(arrays["seed_vector"]), arrays["seed_spatial"], arrays["seed_colours"]
        raise KeyError(f"product {seed_id} is not in the index")
