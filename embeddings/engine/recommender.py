"""The feedback engine: plain neighbours, region feedback from a painted mask, and the re-ranked slate."""

from __future__ import annotations

from collections.abc import Collection, Sequence
from dataclasses import dataclass

import numpy as np
from PIL import Image

from embeddings.engine.masking import cell_coverage, fill_masked, fit_mask_to_square
from embeddings.engine.ranking.pool import AllowFilter, filtered_search, merge_pools
from embeddings.engine.ranking.scoring import RegionScorer
from embeddings.engine.types import CatalogView, FeedbackSignal, Slate, SlateItem


@dataclass(frozen=True)
class EngineConfig:
    """Every constant of the engine; defaults chosen by the simulated-shopper evaluation (docs/ENGINE.md)."""

    fill: str = "background"  # how the painted pixels are filled before the masked forward pass
    interpolation: float = 0.0  # a in q = e_seed + a * sum(e_m - e_o): how far to walk away from each dislike
    pool_seed: int = 200  # candidates around the seed embedding
    pool_query: int = 100  # candidates around the interpolated query
    pool_masked: int = 50  # candidates around the latest masked embedding
    w_query: float = 1.0  # weight of cosine(candidate, interpolated query)
    w_context: float = 0.0  # weight of cell-feature similarity to the seed outside the painted cells
    w_colour: float = 0.0  # penalty for resembling a disliked region's colour at its cells
    colour_scale: float = 20.0  # CIELAB distance at which colour resemblance has fallen to 1/e
    w_features: float = 0.0  # penalty for resembling a disliked region's cell features at its cells
    w_pattern: float = 1.0  # bonus for differing from each disliked seed inside its painted cells, not outside
    pattern_floor: float = 10.0  # CIELAB units added to the pattern term's denominator (damps tiny differences)
    combine: str = "sum"  # how penalties of several dislikes combine: "sum" or "max"
    diversity: float = 0.0  # MMR weight against colour resemblance to items already in the slate
    duplicate_similarity: float = 0.999  # cosine above which two products count as near-identical
    w_shown: float = 1.0  # penalty for products shown before a feedback and passed over (weak negatives)
    background_lightness: float = 95.0  # a cell is background when its L >= this and its chroma <= the next
    background_chroma: float = 8.0


def _unit(v: np.ndarray) -> np.ndarray:
    v = np.asarray(v, dtype=np.float32).reshape(-1)
    return v / max(float(np.linalg.norm(v)), 1e-12)


class Recommender:
    """Recommends products for a seed, steered away from every region the shopper painted (no Django here)."""

    def __init__(self, *, backbone: object, catalog: CatalogView, config: EngineConfig = EngineConfig()) -> None:
        self.backbone = backbone
        self.catalog = catalog
        self.config = config
        self.scorer = RegionScorer(config)

    def similar(
        self,
        *,
        product_id: int,
        k: int,
        exclude: Collection[int] = (),
        offset: int = 0,
        allow: AllowFilter | None = None,
    ) -> Slate:
        """Plain nearest neighbours of a product (the product itself and `exclude` left out)."""
        vector = self._seed_vector(product_id, ())
        excluded = {int(x) for x in exclude} | {int(product_id)}
        ids, sims = filtered_search(self.catalog, vector, k + offset, excluded, allow)
        items = tuple(SlateItem(int(i), float(s), "Visually similar") for i, s in zip(ids, sims, strict=True))
        return Slate(items=items[offset : offset + k])

    def derive_feedback(
        self, *, seed_id: int, seed_image: Image.Image, mask: np.ndarray, shown: Sequence[int] = ()
    ) -> FeedbackSignal:
        """Turn a painted mask on the seed photo into a persisted signal (one masked forward pass).

        `shown`: products on the slates the shopper saw (and passed over) before painting; stored in the signal as
        weak negatives, so removing or undoing this feedback also removes them (undo stays exact).
        """
        mask = np.asarray(mask, dtype=bool)
        if mask.ndim != 2:
            raise ValueError("mask must be a 2-d boolean array")
        square = np.asarray(self.backbone.prepare(seed_image), dtype=np.uint8)
        size = square.shape[0]
        square_mask = fit_mask_to_square(mask, seed_image.size, size)
        masked = fill_masked(square, square_mask, self.config.fill)
        if int(seed_id) in self.catalog:
            seed = self.catalog.features([int(seed_id)])
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
        shown: Sequence[int] = (),
    ) -> Slate:
        """The slate for a seed under all remaining feedback; a pure function of its inputs.

        `exclude`: visited seeds and anything else never to show. Weak negatives (config.w_shown) are the products
        each remaining signal recorded as passed over (see derive_feedback); `shown` is accepted for compatibility
        and ignored, because a session-wide list would make undo inexact.
        """
        if not feedback:
            return self.similar(product_id=seed_id, k=k, exclude=exclude, offset=offset, allow=allow)
        cfg = self.config
        seed_vector = self._seed_vector(seed_id, feedback)
        query = seed_vector.copy()
        for signal in feedback:
            query += cfg.interpolation * (signal.arrays["masked_vector"] - signal.arrays["seed_vector"])
        query = _unit(query)
        excluded = {int(x) for x in exclude} | {int(seed_id)}
        masked = _unit(feedback[-1].arrays["masked_vector"])
        pools = [
            filtered_search(self.catalog, seed_vector, cfg.pool_seed, excluded, allow)[0],
            filtered_search(self.catalog, query, cfg.pool_query, excluded, allow)[0],
            filtered_search(self.catalog, masked, cfg.pool_masked, excluded, allow)[0],
        ]
        ids = merge_pools(pools)
        cands = self.catalog.features(ids.tolist())
        seed = self._seed_grids(seed_id, feedback)
        ranked = self.scorer.rank(
            cands=cands, seed=seed, seed_vector=seed_vector, query=query, feedback=feedback, k=k + offset
        )
        return Slate(items=tuple(ranked[offset : offset + k]))

    def _seed_vector(self, seed_id: int, feedback: Sequence[FeedbackSignal]) -> np.ndarray:
        if int(seed_id) in self.catalog:
            return _unit(self.catalog.features([int(seed_id)]).vectors[0])
        for signal in reversed(feedback):
            if signal.seed_id == int(seed_id):
                return _unit(signal.arrays["seed_vector"])
        raise KeyError(f"product {seed_id} is not in the index")

    def _seed_grids(self, seed_id: int, feedback: Sequence[FeedbackSignal]) -> tuple[np.ndarray, np.ndarray]:
        if int(seed_id) in self.catalog:
            feats = self.catalog.features([int(seed_id)])
            return np.asarray(feats.spatial[0]), np.asarray(feats.colours[0])
        for signal in reversed(feedback):
            if signal.seed_id == int(seed_id):
                return signal.arrays["seed_spatial"], signal.arrays["seed_colours"]
        raise KeyError(f"product {seed_id} is not in the index")
