"""Runs one episode under one shopper policy and records what happened (protocol v2, "Policies and baselines").

Policies: 1 click-only (always click the product that looks closest to the target); 2 feedback on the landing seed,
then alternate click / feedback; 3 the same alternation for whole-item baselines; 4 adaptive (click when a product
looks closer to the target than the seed, else paint). Masks come from the shopper model; the region engine's
ablations replace them (`mask_mode`): "whole" paints the seed's whole foreground, "random" the same number of
random foreground cells with the shopper's brush. What a person sees is measured on the slates after the first
and second feedback, and on the plain slate of the same seed (its nearest neighbours) for comparison, always
against the mask the shopper meant.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

import numpy as np

from embeddings.engine.types import Slate
from evaluation.engines import SessionEngine
from evaluation.episodes import Episode
from evaluation.seen import what_is_seen
from evaluation.shoppers import Shopper

SLATE_SIZE = 8
MAX_SLATES = 15
FAILED_SLATES = 16  # slates to success counted for a failure
SEEN_FEEDBACKS = 2  # person-facing figures after the 1st and 2nd feedback
MASK_MODES = ("shopper", "whole", "random")

POLICIES = {1: "click-only", 2: "region feedback", 3: "whole-item feedback", 4: "adaptive"}

PlainSlate = Callable[[int, Sequence[int], int], Slate]  # (seed, visited, k) -> the seed's plain neighbours


@dataclass
class EpisodeResult:
    """Outcome of one episode: slates to strict / lenient success (16 = failure), engine time, what was seen."""

    episode: int
    target: int
    start: int
    strict_slates: int = FAILED_SLATES
    lenient_slates: int = FAILED_SLATES
    step_ms: list[float] = field(default_factory=list)
    actions: list[str] = field(default_factory=list)
    seen: list[dict] = field(default_factory=list)  # {"feedback": 1|2, "slate": "after"|"plain", figures...}


class EpisodeRunner:
    """Plays episodes with the simulated shopper's eyes against a session engine."""

    def __init__(
        self,
        shopper: Shopper,
        lenient_match: Callable[[int, int], bool],
        k: int = SLATE_SIZE,
        run_seed: int = 0,
        same_kind: Callable[[int, int], bool] | None = None,
        plain: PlainSlate | None = None,
        mask_mode: str = "shopper",
    ) -> None:
        if mask_mode not in MASK_MODES:
            raise ValueError(f"unknown mask mode {mask_mode!r}: one of {', '.join(MASK_MODES)}")
        self.shopper = shopper
        self.run_seed = run_seed
        self.lenient_match = lenient_match
        self.k = k
        self.same_kind = same_kind
        self.plain = plain
        self.mask_mode = mask_mode

    def run(self, episode: Episode, policy: int, session: SessionEngine) -> EpisodeResult:
        """Play one episode with the given policy."""
        target = episode.target
        result = EpisodeResult(episode.index, target, episode.start)
        seed = episode.start
        visited = [seed]
        slate = self._timed(result, "start", lambda: session.start(seed, self.k))
        feedbacks = 0
        for step in range(1, MAX_SLATES + 1):
            self._check(result, slate, step)
            if result.strict_slates <= step or step == MAX_SLATES:
                break
            ids = slate.product_ids
            looks = self.shopper.looks(ids, target) if ids else np.array([])
            best = ids[int(np.argmin(looks))] if ids else None
            if policy == 1:
                do_click = best is not None
            elif policy in (2, 3):
                do_click = step % 2 == 0 and best is not None  # step 1 landing; feedback at step 2, click at 3, ...
            else:
                do_click = best is not None and float(looks.min()) < self.shopper.look(seed, target)
            if do_click:
                seed = best
                visited.append(seed)
                slate = self._timed(result, "click", lambda s=seed: session.click(s, self.k))
                continue
            rng = np.random.default_rng([self.run_seed, episode.index, step])
            meant = self.shopper.mask(seed, target, rng)
            sent = self._ablated(seed, target, meant, rng)
            slate = self._timed(result, "feedback", lambda s=seed, m=sent: session.feedback(s, m, self.k))
            feedbacks += 1
            if feedbacks <= SEEN_FEEDBACKS and self.same_kind is not None:
                self._record_seen(result, feedbacks, seed, meant, slate, visited)
        return result

    def _ablated(self, seed: int, target: int, meant: np.ndarray, rng: np.random.Generator) -> np.ndarray:
        if self.mask_mode == "whole":
            return self.shopper.eyes.foreground_pixels(seed)
        if self.mask_mode == "random":
            foreground = self.shopper.eyes.foreground(seed)
            n = int(self.shopper.cells(seed, target).sum())
            cells = np.zeros_like(foreground)
            cells.flat[rng.permutation(np.flatnonzero(foreground))[:n]] = True
            return self.shopper.brush.paint(cells, self.shopper.eyes.foreground_pixels(seed), rng)
        return meant

    def _record_seen(
        self, result: EpisodeResult, feedback: int, seed: int, mask: np.ndarray, slate: Slate, visited: list[int]
    ) -> None:
        eyes = self.shopper.eyes
        after = what_is_seen(eyes, self.same_kind, seed, mask, slate.product_ids)
        result.seen.append({"feedback": feedback, "slate": "after", **after})
        if self.plain is not None:
            plain = self.plain(seed, visited, self.k).product_ids
            result.seen.append(
                {"feedback": feedback, "slate": "plain", **what_is_seen(eyes, self.same_kind, seed, mask, plain)}
            )

    def _check(self, result: EpisodeResult, slate: Slate, step: int) -> None:
        ids = slate.product_ids
        if result.strict_slates == FAILED_SLATES and result.target in ids:
            result.strict_slates = step
        if result.lenient_slates == FAILED_SLATES and any(self.lenient_match(p, result.target) for p in ids):
            result.lenient_slates = step

    @staticmethod
    def _timed(result: EpisodeResult, action: str, call: Callable[[], Slate]) -> Slate:
        began = time.perf_counter()
        slate = call()
        result.step_ms.append((time.perf_counter() - began) * 1000.0)
        result.actions.append(action)
        return slate
