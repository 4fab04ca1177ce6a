"""Re-ranking a candidate pool under region feedback: different where painted, kept elsewhere, no near-duplicates."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from embeddings.engine.config import EngineConfig
from embeddings.engine.ranking.reasons import RegionComparison, explain
from embeddings.engine.types import FeatureArrays, FeedbackSignal, SlateItem

OUTSIDE_SCALE = 100.0  # CIELAB units: w_outside is per 100 units of mean distance (about black to white)
TIE = 1e-3  # cell distances closer than this are equal (float16 storage noise)


def foreground_cells(colours: np.ndarray, lightness: float, chroma: float) -> np.ndarray:
    """(G, G) float32, 1 where a cell's mean CIELAB colour is not studio background."""
    colours = np.asarray(colours, dtype=np.float32)
    c = np.hypot(colours[..., 1], colours[..., 2])
    return ((colours[..., 0] < lightness) | (c > chroma)).astype(np.float32)


def pair_contrast(dist: np.ndarray, inside: np.ndarray, outside: np.ndarray) -> np.ndarray:
    """Weighted share of (inside, outside) cell pairs where the inside cell differs more, minus the rest: [-1, 1].

    The shopper's mask is "the cells that differ most", so every painted cell of the wanted product differs from the
    seed more than every unpainted foreground cell. A tie (within TIE, e.g. both cells identical to the seed) counts
    against the candidate: the painted cell did not change more, so a product identical to the seed scores -1
    wherever the paint is. Only cells with weight are compared: |painted| x |unpainted| comparisons (~10 x 25).
    """
    n = len(dist)
    flat = np.asarray(dist, dtype=np.float32).reshape(n, -1)
    wi = np.asarray(inside, dtype=np.float32).reshape(-1)
    wo = np.asarray(outside, dtype=np.float32).reshape(-1)
    total = float(wi.sum() * wo.sum())
    if n == 0 or total <= 0:
        return np.zeros(n, dtype=np.float32)
    ins, outs = np.flatnonzero(wi > 0), np.flatnonzero(wo > 0)
    diff = flat[:, ins, None] - flat[:, None, outs]  # (n, |in|, |out|)
    sign = np.where(diff > TIE, 1.0, -1.0).astype(np.float32)
    return (np.einsum("nio,i,o->n", sign, wi[ins], wo[outs]) / total).astype(np.float32)


def distinct(feedback: Sequence[FeedbackSignal]) -> list[tuple[FeedbackSignal, int]]:
    """Feedback signals with repeats (same seed, same painted cells) folded into a count, first occurrence order."""
    groups: dict[tuple[int, bytes], list] = {}
    for signal in feedback:
        key = (int(signal.seed_id), np.asarray(signal.cells, dtype=np.float32).tobytes())
        groups.setdefault(key, [signal, 0])[1] += 1
    return [(signal, count) for signal, count in groups.values()]


def is_whole_item(signal: FeedbackSignal) -> bool:
    """Whether the shopper disliked the whole product (a mask over nearly all of it), not a region."""
    flag = signal.arrays.get("whole_item")
    return bool(flag is not None and np.asarray(flag).reshape(-1)[:1].any())


def select_distinct(score: np.ndarray, vectors: np.ndarray, k: int, duplicate_similarity: float) -> list[int]:
    """Indices of the k best scores, best first (ties by index), skipping near-duplicates of one already chosen."""
    order = np.lexsort((np.arange(len(score)), -score))
    chosen: list[int] = []
    for i in order:
        if len(chosen) == k or not np.isfinite(score[i]):
            break
        if chosen and float(np.max(vectors[chosen] @ vectors[i])) >= duplicate_similarity:
            continue
        chosen.append(int(i))
    return chosen


class RegionScorer:
    """Scores and selects a slate from candidate features, given the seed's colour grid and the feedback signals."""

    def __init__(self, config: EngineConfig) -> None:
        self.config = config

    def pattern(self, cands: FeatureArrays, feedback: Sequence[FeedbackSignal]) -> np.ndarray:
        """How well each candidate differs from each disliked seed where it was painted and only there.

        Per feedback, the candidate's distance to that seed in every cell, once by colour (CIELAB) and once by shape
        (edge orientations, texture, fill), and for each the weighted share of (painted, unpainted foreground) cell
        pairs where the painted cell differs more, minus the reverse; the better of the two counts ("different where
        painted" in colour *or* shape / print). Summed over feedback (a repeated identical signal counts again). In
        [-1, 1] per feedback, high for "same context, new region".
        """
        return self._pattern(self.comparisons(cands, feedback), len(cands.product_ids))

    @staticmethod
    def _pattern(comparisons: Sequence[tuple[RegionComparison, int]], n: int) -> np.ndarray:
        total = np.zeros(n, dtype=np.float32)
        for comparison, count in comparisons:
            total += count * np.max(comparison.contrasts, axis=0)
        return total

    def comparisons(
        self, cands: FeatureArrays, feedback: Sequence[FeedbackSignal]
    ) -> list[tuple[RegionComparison, int]]:
        """Each distinct region signal compared with the candidates, with how often it was given."""
        found = []
        for signal, count in distinct(feedback):
            comparison = self.compare(cands, signal)
            if comparison is not None:
                found.append((comparison, count))
        return found

    def contrasts(self, cands: FeatureArrays, signal: FeedbackSignal) -> np.ndarray | None:
        """(2, n) colour and shape pair contrasts of the candidates against one region signal (None: whole item)."""
        comparison = self.compare(cands, signal)
        return None if comparison is None else comparison.contrasts

    def compare(self, cands: FeatureArrays, signal: FeedbackSignal) -> RegionComparison | None:
        """Per-cell colour and shape distances of the candidates to one region signal's seed (None: whole item)."""
        if is_whole_item(signal):  # "not this one": no region to compare
            return None
        cfg = self.config
        ref = np.asarray(signal.arrays["seed_colours"], dtype=np.float32)
        foreground = foreground_cells(ref, cfg.background_lightness, cfg.background_chroma)
        inside = np.asarray(signal.cells, dtype=np.float32) * foreground  # paint on the background says nothing
        outside = foreground - inside
        colour_dist = np.linalg.norm(np.asarray(cands.colours, dtype=np.float32) - ref, axis=-1)
        colour = pair_contrast(colour_dist, inside, outside)
        shapes = np.asarray(cands.spatial, dtype=np.float32)
        seed_shapes = np.asarray(signal.arrays.get("seed_spatial", np.empty(0)), dtype=np.float32)
        if seed_shapes.shape != shapes.shape[1:]:  # a signal stored before shape grids: colour alone
            return RegionComparison(int(signal.seed_id), inside, ref, colour_dist, None, colour[None])
        shape_diff = shapes - seed_shapes
        shape = pair_contrast(np.linalg.norm(shape_diff, axis=-1), inside, outside)
        return RegionComparison(int(signal.seed_id), inside, ref, colour_dist, shape_diff, np.stack([colour, shape]))

    def outside(
        self, colours: np.ndarray, seed_colours: np.ndarray, seed_id: int, feedback: Sequence[FeedbackSignal]
    ) -> np.ndarray:
        """Mean CIELAB distance to the current seed over its foreground cells not painted on this seed."""
        cfg = self.config
        ref = np.asarray(seed_colours, dtype=np.float32)
        painted = [np.asarray(s.cells, dtype=np.float32) for s in feedback if s.seed_id == int(seed_id)]
        region = np.max(np.stack(painted), axis=0) if painted else np.zeros(ref.shape[:2], dtype=np.float32)
        out = foreground_cells(ref, cfg.background_lightness, cfg.background_chroma) * (1.0 - region)
        dist = np.linalg.norm(colours - ref, axis=-1)
        return (dist * out).sum(axis=(1, 2)) / max(float(out.sum()), 1e-6)

    def rank(
        self,
        *,
        cands: FeatureArrays,
        seed_colours: np.ndarray,
        seed_vector: np.ndarray,
        seed_id: int = -1,
        feedback: Sequence[FeedbackSignal],
        k: int,
    ) -> list[SlateItem]:
        """The top k candidates as slate items, best first, near-duplicates of the seed or of each other left out."""
        cfg = self.config
        if len(cands.product_ids) == 0 or k <= 0:
            return []
        vectors = np.asarray(cands.vectors, dtype=np.float32)
        colours = np.asarray(cands.colours, dtype=np.float32)
        score = cfg.w_query * (vectors @ seed_vector)
        comparisons = self.comparisons(cands, feedback)
        if cfg.w_pattern:
            score = score + cfg.w_pattern * self._pattern(comparisons, len(vectors))
        own = sum(1 for s in feedback if s.seed_id == int(seed_id))  # feedback given on this very seed
        w_outside = (cfg.w_outside, 0.0, cfg.w_outside_repainted)[min(own, 2)]  # once painted: the pattern decides
        if w_outside:
            score = score - w_outside * self.outside(colours, seed_colours, seed_id, feedback) / OUTSIDE_SCALE
        score = np.where(vectors @ seed_vector < cfg.duplicate_similarity, score, -np.inf)
        chosen = select_distinct(score, vectors, k, cfg.duplicate_similarity)
        outside = self.outside(colours[chosen], seed_colours, seed_id, feedback) if chosen else []
        regions = [comparison for comparison, _ in comparisons]
        items = []
        for rank, i in enumerate(chosen):
            why = explain(regions, i, candidate_colours=colours[i], outside_distance=float(outside[rank]))
            items.append(
                SlateItem(int(cands.product_ids[i]), float(score[i]), why.text, why.differences, why.same_elsewhere, why.heat)
            )
        return items
