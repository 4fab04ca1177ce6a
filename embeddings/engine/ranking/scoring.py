"""Re-ranking a candidate pool under region feedback: context kept, every disliked region avoided, slate varied."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from embeddings.engine.config import EngineConfig
from embeddings.engine.ranking.mmr import mmr_select
from embeddings.engine.ranking.terms import pairwise_colour_distance, resemblance, weighted_colour_distance
from embeddings.engine.types import FeatureArrays, FeedbackSignal, SlateItem


def foreground_cells(colours: np.ndarray, lightness: float, chroma: float) -> np.ndarray:
    """(G, G) float32, 1 where a cell's mean CIELAB colour is not studio background."""
    colours = np.asarray(colours, dtype=np.float32)
    c = np.hypot(colours[..., 1], colours[..., 2])
    return ((colours[..., 0] < lightness) | (c > chroma)).astype(np.float32)


class CellFeatures:
    """Candidates' cell features flattened to (n, G*G, C) float32 with per-cell norms, for fast weighted cosines."""

    def __init__(self, spatial: np.ndarray, colours: np.ndarray) -> None:
        self._raw = spatial
        self._spatial: np.ndarray | None = None
        self.colours = np.asarray(colours, dtype=np.float32)

    @property
    def spatial(self) -> np.ndarray:
        """(n, G*G, C) float32 cell features, converted on first use (skipped when no term needs them)."""
        if self._spatial is None:
            raw = np.asarray(self._raw)
            self._spatial = raw.reshape(len(raw), -1, raw.shape[-1]).astype(np.float32)
            self.norms = np.sqrt(np.einsum("nkc,nkc->nk", self._spatial, self._spatial)) + 1e-6
        return self._spatial

    def cosine(self, ref: np.ndarray, weights: np.ndarray) -> np.ndarray:
        """Weighted mean cell cosine to a reference grid (G, G, C), computed only on cells with weight > 0."""
        w = np.asarray(weights, dtype=np.float32).reshape(-1)
        idx = np.flatnonzero(w > 0)
        if len(idx) == 0:
            return np.zeros(len(self.colours), dtype=np.float32)
        ref = np.asarray(ref, dtype=np.float32).reshape(-1, self.spatial.shape[-1])[idx]
        ref = ref / (np.linalg.norm(ref, axis=1, keepdims=True) + 1e-6)
        dots = np.einsum("nkc,kc->nk", self.spatial[:, idx], ref) / self.norms[:, idx]
        return dots @ w[idx] / float(w[idx].sum())


OUTSIDE_SCALE = 100.0  # CIELAB units: w_outside is per 100 units of mean distance (about black to white)


def contrast_ratio(dist: np.ndarray, inside: np.ndarray, outside: np.ndarray, floor: float) -> np.ndarray:
    """(mean dist over `inside` weights - mean over `outside`) / (their sum + floor), per candidate; dist (n, G, G)."""
    d_in = (dist * inside).sum(axis=(1, 2)) / max(float(inside.sum()), 1e-6)
    d_out = (dist * outside).sum(axis=(1, 2)) / max(float(outside.sum()), 1e-6)
    return (d_in - d_out) / (d_in + d_out + floor)


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


def shortlist(score: np.ndarray, m: int) -> np.ndarray:
    """Indices of the m best scores, best first (ties by index, as a stable sort would order them)."""
    if m < len(score):
        part = np.argpartition(-score, m - 1)[:m]
    else:
        part = np.arange(len(score))
    return part[np.lexsort((part, -score[part]))]


class RegionScorer:
    """Scores and selects a slate from candidate features, given the seed's grids and the feedback signals."""

    def __init__(self, config: EngineConfig) -> None:
        self.config = config

    def pattern(self, cells: CellFeatures, feedback: Sequence[FeedbackSignal]) -> np.ndarray:
        """How well each candidate differs from each disliked seed where it was painted and only there.

        Per feedback, the candidate's CIELAB distance to that seed in every cell, compared between the painted cells
        (weighted by coverage) and the seed's other foreground cells: `ratio` mode (mean inside - mean outside) /
        (their sum + pattern_floor), `rank` mode the weighted share of (inside, outside) cell pairs where the inside
        cell differs more, minus the reverse (the shopper's mask is exactly "the cells that differ most"). Summed over
        feedback (a repeated identical signal counts again), divided by n_feedback ** pattern_norm. In [-1, 1] per
        feedback, high for "same context, new region".
        """
        cfg = self.config
        total = np.zeros(len(cells.colours), dtype=np.float32)
        for signal, count in distinct(feedback):
            w = np.asarray(signal.cells, dtype=np.float32)
            ref = np.asarray(signal.arrays["seed_colours"], dtype=np.float32)
            out = foreground_cells(ref, cfg.background_lightness, cfg.background_chroma) * (1.0 - w)
            dist = np.linalg.norm(cells.colours - ref, axis=-1)
            if cfg.pattern_mode == "rank":
                total += count * pair_contrast(dist, w, out)
            else:
                total += count * contrast_ratio(dist, w, out, cfg.pattern_floor)
        return total / float(max(len(feedback), 1)) ** cfg.pattern_norm

    def outside(
        self, cells: CellFeatures, seed_colours: np.ndarray, seed_id: int, feedback: Sequence[FeedbackSignal]
    ) -> np.ndarray:
        """Mean CIELAB distance to the current seed over its foreground cells not painted on this seed."""
        cfg = self.config
        ref = np.asarray(seed_colours, dtype=np.float32)
        painted = [np.asarray(s.cells, dtype=np.float32) for s in feedback if s.seed_id == int(seed_id)]
        region = np.max(np.stack(painted), axis=0) if painted else np.zeros(ref.shape[:2], dtype=np.float32)
        out = foreground_cells(ref, cfg.background_lightness, cfg.background_chroma) * (1.0 - region)
        dist = np.linalg.norm(cells.colours - ref, axis=-1)
        return (dist * out).sum(axis=(1, 2)) / max(float(out.sum()), 1e-6)

    def penalties(self, cells: CellFeatures, feedback: Sequence[FeedbackSignal]) -> tuple[np.ndarray, np.ndarray]:
        """Colour and feature resemblance of each candidate to the disliked regions, combined over feedback."""
        cfg = self.config
        n = len(cells.colours)
        if not feedback:
            return np.zeros(n, np.float32), np.zeros(n, np.float32)
        col, feat = [], []
        for signal in feedback:
            w = np.asarray(signal.cells, dtype=np.float32)
            distance = weighted_colour_distance(cells.colours, signal.arrays["seed_colours"], w)
            col.append(resemblance(distance, cfg.colour_scale))
            if cfg.w_features:
                feat.append(np.clip(cells.cosine(signal.arrays["seed_spatial"], w), 0.0, None))
            else:
                feat.append(np.zeros(n, np.float32))
        reduce = np.max if cfg.combine == "max" else np.sum
        return reduce(np.stack(col), axis=0), reduce(np.stack(feat), axis=0)

    def rank(
        self,
        *,
        cands: FeatureArrays,
        seed: tuple[np.ndarray, np.ndarray],
        seed_vector: np.ndarray,
        seed_id: int = -1,
        query: np.ndarray,
        feedback: Sequence[FeedbackSignal],
        k: int,
    ) -> list[SlateItem]:
        """The top k candidates as slate items, best first (MMR over colour in the painted cells)."""
        cfg = self.config
        n = len(cands.product_ids)
        if n == 0 or k <= 0:
            return []
        vectors = np.asarray(cands.vectors, dtype=np.float32)
        seed_spatial, seed_colours = seed
        region = np.max(np.stack([np.asarray(s.cells, dtype=np.float32) for s in feedback]), axis=0)
        fg = foreground_cells(seed_colours, cfg.background_lightness, cfg.background_chroma)
        context = fg * (1.0 - region)
        cells = CellFeatures(cands.spatial, cands.colours)
        ctx = cells.cosine(seed_spatial, context) if cfg.w_context else np.zeros(n, np.float32)
        col_pen, feat_pen = self.penalties(cells, feedback)
        score = cfg.w_query * (vectors @ query) + cfg.w_context * ctx - cfg.w_colour * col_pen
        score = score - cfg.w_features * feat_pen
        if cfg.w_pattern:
            score = score + cfg.w_pattern * self.pattern(cells, feedback)
        own = sum(1 for s in feedback if s.seed_id == int(seed_id))  # feedback given on this very seed
        w_outside = (cfg.w_outside, cfg.w_outside_painted, cfg.w_outside_repainted)[min(own, 2)]
        if w_outside:
            score = score - w_outside * self.outside(cells, seed_colours, seed_id, feedback) / OUTSIDE_SCALE
        passed = [s.arrays["passed_over"] for s in feedback if "passed_over" in s.arrays]
        if cfg.w_shown and passed:
            score = score - cfg.w_shown * np.isin(cands.product_ids, np.concatenate(passed))
        keep = vectors @ seed_vector < cfg.duplicate_similarity
        score = np.where(keep, score, -np.inf)
        top = shortlist(score, max(cfg.shortlist, k))  # the n x n selection matrices only over the best candidates
        similarity = resemblance(pairwise_colour_distance(cands.colours[top], region), cfg.colour_scale)
        duplicate = vectors[top] @ vectors[top].T >= cfg.duplicate_similarity
        chosen = top[mmr_select(score[top].astype(np.float32), similarity, k, cfg.diversity, duplicate)]
        return [SlateItem(int(cands.product_ids[i]), float(score[i]), self.reason(col_pen[i], ctx[i])) for i in chosen]

    @staticmethod
    def reason(colour_resemblance: float, context: float) -> str:
        """A short shopper-facing reason for one item."""
        shape = "Similar shape" if context >= 0.5 else "Similar style"
        if colour_resemblance < 0.5:
            return f"{shape}, different colour where you painted"
        return f"{shape}, different detail where you painted"
