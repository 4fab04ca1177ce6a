"""Runs one episode under one shopper policy and records what happened (protocol, "Shopper policies")."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np

from embeddings.engine.types import Slate
from evaluation.engines import SessionEngine
from evaluation.episodes import Episode
from evaluation.shoppers import Shopper

SLATE_SIZE = 8
MAX_SLATES = 15
FAILED_SLATES = 16  # slates to success counted for a failure

POLICIES = {1: "click-only", 2: "region/whole feedback", 3: "whole-item negative", 4: "adaptive"}


@dataclass
class EpisodeResult:
    """Outcome of one episode: slates to strict / lenient success (16 = failure) and engine time per step."""

    episode: int
    target: int
    start: int
    strict_slates: int = FAILED_SLATES
    lenient_slates: int = FAILED_SLATES
    step_ms: list[float] = field(default_factory=list)
    actions: list[str] = field(default_factory=list)


class EpisodeRunner:
    """Plays episodes with the simulated shopper's eyes against a session engine."""

    def __init__(
        self, shopper: Shopper, lenient_match: Callable[[int, int], bool], k: int = SLATE_SIZE, run_seed: int = 0
    ) -> None:
        self.shopper = shopper
        self.run_seed = run_seed
        self.lenient_match = lenient_match
        self.k = k

    def run(self, episode: Episode, policy: int, session: SessionEngine) -> EpisodeResult:
        """Play one episode; policy 1 click-only, 2 alternate feedback/click, 3 same as 2, 4 adaptive."""
        target = episode.target
        result = EpisodeResult(episode.index, target, episode.start)
        seed = episode.start
        slate = self._timed(result, "start", lambda: session.start(seed, self.k))
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
                slate = self._timed(result, "click", lambda s=seed: session.click(s, self.k))
            else:
                rng = np.random.default_rng([self.run_seed, episode.index, step])
                mask = self.shopper.mask(seed, target, rng)
                slate = self._timed(result, "feedback", lambda s=seed, m=mask: session.feedback(s, m, self.k))
        return result

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
