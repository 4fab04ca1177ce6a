"""Re-ranking a candidate pool under region feedback: context kept, every disliked region avoided, slate varied."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

import numpy as np

from embeddings.engine.ranking.mmr import mmr_select
from embeddings.engine.ranking.terms import pairwise_colour_distance, resemblance, weighted_colour_distance
from embeddings.engine.types import FeatureArrays, FeedbackSignal, SlateItem

if TYPE_CHECKING:
    from embeddings.engine.recommender import EngineConfig


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


class RegionScorer:
    """Scores and selects a slate from candidate features, given the seed's grids and the feedback signals."""

    def __init__(self, config: EngineConfig) -> None:
        self.config = config

    def pattern(self, cells: CellFeatures, feedback: Sequence[FeedbackSignal]) -> np.ndarray:
        """How well each candidate differs from each disliked seed where it was painted and only there (summed).

        Per feedback: colour distance to that seed, mean inside the painted cells minus mean over the seed's other
        foreground cells, over their sum (+ pattern_floor): in [-1, 1], high for "same context, new region".
        """
        cfg = self.config
        total = np.zeros(len(cells.colours), dtype=np.float32)
        for signal in feedback:
            w = np.asarray(signal.cells, dtype=np.float32)
            ref = np.asarray(signal.arrays["seed_colours"], dtype=np.float32)
            out = foreground_cells(ref, cfg.background_lightness, cfg.background_chroma) * (1.0 - w)
            dist = np.linalg.norm(cells.colours - ref, axis=-1)
            inside = (dist * w).sum(axis=(1, 2)) / max(float(w.sum()), 1e-6)
            outside = (dist * out).sum(axis=(1, 2)) / max(float(out.sum()), 1e-6)
            total += (inside - outside) / (inside + outside + cfg.pattern_floor)
        return total

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
        passed = [s.arrays["passed_over"] for s in feedback if "passed_over" in s.arrays]
        if cfg.w_shown and passed:
            score = score - cfg.w_shown * np.isin(cands.product_ids, np.concatenate(passed))
        keep = vectors @ seed_vector < cfg.duplicate_similarity
        score = np.where(keep, score, -np.inf)
        similarity = resemblance(pairwise_colour_distance(cands.colours, region), cfg.colour_scale)
        duplicate = vectors @ vectors.T >= cfg.duplicate_similarity
        chosen = mmr_select(score.astype(np.float32), similarity, k, cfg.diversity, duplicate)
        return [SlateItem(int(cands.product_ids[i]), float(score[i]), self.reason(col_pen[i], ctx[i])) for i in chosen]

    @staticmethod
    def reason(colour_resemblance: float, context: float) -> str:
        """A short shopper-facing reason for one item."""
        shape = "Similar shape" if context >= 0.5 else "Similar style"
        if colour_resemblance < 0.5:
            return f"{shape}, different colour where you painted"
        return f"{shape}, different detail where you painted"
