"""Re-ranking a candidate pool under region feedback: different where painted, kept elsewhere, no near-duplicates."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from embeddings.engine.config import EngineConfig
from embeddings.engine.ranking.terms import resemblance, weighted_colour_distance
from embeddings.engine.types import FeatureArrays, FeedbackSignal, SlateItem

OUTSIDE_SCALE = 100.0  # CIELAB units: w_outside is per 100 units of mean distance (about black to white)
REASON_COLOUR_SCALE = 20.0  # CIELAB distance at which "other colour where you painted" stops being the reason


def foreground_cells(colours: np.ndarray, lightness: float, chroma: float) -> np.ndarray:
    """(G, G) float32, 1 where a cell's mean CIELAB colour is not studio background."""
    colours = np.asarray(colours, dtype=np.float32)
    c = np.hypot(colours[..., 1], colours[..., 2])
    return ((colours[..., 0] < lightness) | (c > chroma)).astype(np.float32)


def pair_contrast(dist: np.ndarray, inside: np.ndarray, outside: np.ndarray) -> np.ndarray:
    """Weighted share of (inside, outside) cell pairs where the inside cell differs more, minus the reverse: [-1, 1].

    The shopper's mask is "the cells that differ most", so every painted cell of the target differs from the seed more
    than every unpainted foreground cell. Computed by sorting each candidate's cell distances (n x G*G log G*G), not
    by comparing all pairs (ties, rare in float distances, are broken by the sort).
    """
    n = len(dist)
    flat = np.asarray(dist, dtype=np.float32).reshape(n, -1)
    wi = np.asarray(inside, dtype=np.float32).reshape(-1)
    wo = np.asarray(outside, dtype=np.float32).reshape(-1)
    total = float(wi.sum() * wo.sum())
    if n == 0 or total <= 0:
        return np.zeros(n, dtype=np.float32)
    order = np.argsort(flat, axis=1)
    sorted_out = wo[order]
    below = np.cumsum(sorted_out, axis=1) - sorted_out  # outside weight strictly before each position
    below_at = np.empty_like(below)
    np.put_along_axis(below_at, order, below, axis=1)  # ... indexed by cell again
    # inside cell c beats `below` outside weight and loses to the rest (minus itself when it is both in and out)
    beats = below_at - (wo.sum() - below_at - wo)
    return np.dot(beats, wi) / total


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

    def pattern(self, colours: np.ndarray, feedback: Sequence[FeedbackSignal]) -> np.ndarray:
        """How well each candidate differs from each disliked seed where it was painted and only there.

        Per feedback, the candidate's CIELAB distance to that seed in every cell, and the weighted share of (painted,
        unpainted foreground) cell pairs where the painted cell differs more, minus the reverse (the shopper's mask is
        exactly "the cells that differ most"); summed over feedback (a repeated identical signal counts again). In
        [-1, 1] per feedback, high for "same context, new region".
        """
        cfg = self.config
        total = np.zeros(len(colours), dtype=np.float32)
        for signal, count in distinct(feedback):
            if is_whole_item(signal):  # "not this one": no region to compare
                continue
            w = np.asarray(signal.cells, dtype=np.float32)
            ref = np.asarray(signal.arrays["seed_colours"], dtype=np.float32)
            out = foreground_cells(ref, cfg.background_lightness, cfg.background_chroma) * (1.0 - w)
            dist = np.linalg.norm(colours - ref, axis=-1)
            total += count * pair_contrast(dist, w, out)
        return total

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
        if cfg.w_pattern:
            score = score + cfg.w_pattern * self.pattern(colours, feedback)
        own = sum(1 for s in feedback if s.seed_id == int(seed_id))  # feedback given on this very seed
        w_outside = (cfg.w_outside, 0.0, cfg.w_outside_repainted)[min(own, 2)]  # once painted: the pattern decides
        if w_outside:
            score = score - w_outside * self.outside(colours, seed_colours, seed_id, feedback) / OUTSIDE_SCALE
        score = np.where(vectors @ seed_vector < cfg.duplicate_similarity, score, -np.inf)
        chosen = select_distinct(score, vectors, k, cfg.duplicate_similarity)
        return [
            SlateItem(int(cands.product_ids[i]), float(score[i]), self.reason(colours[i], feedback)) for i in chosen
        ]

    @staticmethod
    def reason(colours: np.ndarray, feedback: Sequence[FeedbackSignal]) -> str:
        """A short shopper-facing reason: does the product still look like the painted regions' colour?"""
        regions = [s for s in feedback if not is_whole_item(s)]
        if not regions:
            return "Similar, and not one you set aside"
        distances = [weighted_colour_distance(colours[None], s.arrays["seed_colours"], s.cells) for s in regions]
        looks_alike = sum(float(resemblance(d, REASON_COLOUR_SCALE)[0]) for d in distances)
        if looks_alike < 0.5:
            return "Similar style, different colour where you painted"
        return "Similar style, different detail where you painted"
