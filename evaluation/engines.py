"""What the simulated shopper drives: the region engine or a whole-item baseline, through the API's engine calls."""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from typing import Protocol

import numpy as np
from PIL import Image

from embeddings.engine.mask_meaning import MeaninglessMask
from embeddings.engine.ranking.preference import preferring
from embeddings.engine.recommender import Recommender
from embeddings.engine.types import AllowFilter, FeedbackSignal, Slate
from evaluation.baselines import average_vector_slate, best_score_slate, sum_scores_slate

KindFilter = Callable[[int], AllowFilter | None]  # seed -> the default type filter of a slate on it (None: none)


def no_kind_filter(seed: int) -> None:
    return None


class SessionEngine(Protocol):
    """A shopping session's engine state plus the calls a web session makes."""

    def start(self, seed: int, k: int) -> Slate: ...
    def feedback(self, seed: int, mask: np.ndarray, k: int) -> Slate: ...
    def click(self, seed: int, k: int) -> Slate: ...


class RegionSession:
    """Region feedback: derive_feedback on the painted mask, then recommend() with every signal so far."""

    def __init__(
        self,
        recommender: Recommender,
        image_path,
        kind: KindFilter = no_kind_filter,
        type_of: Callable[[int], str] | None = None,
    ) -> None:
        self.recommender = recommender
        self.image_path = image_path
        self.type_of = type_of  # article type of a product: feedback steers slates of its own type only
        self.kind = kind  # the storefront's default filter: the seed's article type and gender first
        self.signals: list[FeedbackSignal] = []
        self.visited: list[int] = []
        self.shown: list[int] = []
        self.last = Slate(items=())
        self.refused = 0  # masks refused as meaningless (the shopper saw an error, the slate stayed)

    def _slate(self, seed: int, k: int) -> Slate:
        self.last = self._next_slate(seed, k)
        return self.last

    def _next_slate(self, seed: int, k: int) -> Slate:
        slate = self.recommender.recommend(
            seed_id=seed, feedback=self.in_scope(seed), exclude=tuple(self.visited), k=k, prefer=self.kind(seed)
        )
        self.shown.extend(slate.product_ids)
        return slate

    def in_scope(self, seed: int) -> tuple[FeedbackSignal, ...]:
        """The feedback that steers a slate on this seed: given on products of its article type (as the API does)."""
        if self.type_of is None:
            return tuple(self.signals)
        kind = self.type_of(seed)
        return tuple(s for s in self.signals if self.type_of(s.seed_id) == kind)

    def start(self, seed: int, k: int) -> Slate:
        """The landing slate (plain neighbours)."""
        self.visited.append(seed)
        return self._slate(seed, k)

    def feedback(self, seed: int, mask: np.ndarray, k: int) -> Slate:
        """Paint `mask` on the current seed (a mask the storefront would refuse leaves the slate as it was)."""
        try:
            with Image.open(self.image_path(seed)) as img:
                signal = self.recommender.derive_feedback(seed_id=seed, seed_image=img.convert("RGB"), mask=mask)
        except MeaninglessMask:
            self.refused += 1
            return self.last
        passed_over = np.asarray(sorted(set(self.shown)), dtype=np.int64)
        signal = dataclasses.replace(signal, arrays={**signal.arrays, "passed_over": passed_over})
        self.signals.append(signal)
        return self._slate(seed, k)

    def click(self, seed: int, k: int) -> Slate:
        """Make a slate product the new seed; feedback carries over."""
        self.visited.append(seed)
        return self._slate(seed, k)


class ClickShownSession(RegionSession):
    """Ablation of the weak-negative term: click-only browsing that never re-shows a product already shown."""

    def _next_slate(self, seed: int, k: int) -> Slate:
        exclude = tuple(self.visited) + tuple(self.shown)
        slate = self.recommender.similar(product_id=seed, k=k, exclude=exclude, prefer=self.kind(seed))
        self.shown.extend(slate.product_ids)
        return slate


class WholeItemSession:
    """Whole-item feedback as a vector database does it (Qdrant's rules), never re-showing a product.

    Negatives: every seed the shopper disliked. Positives: the seeds the shopper moved to (clicked) and did not
    dislike; when there is none (the only seed so far was disliked) the current seed, so the query still means
    "like this, not these". Every product shown in the session is excluded from later slates, as the region engine
    and no-repeat click-only do, so no rule can show the same slate twice.
    """

    RULES = {"average_vector": average_vector_slate, "best_score": best_score_slate, "sum_scores": sum_scores_slate}

    def __init__(self, recommender: Recommender, rule: str, kind: KindFilter = no_kind_filter) -> None:
        self.recommender = recommender
        self.rule = self.RULES[rule]
        self.kind = kind
        self.disliked: list[int] = []
        self.visited: list[int] = []
        self.shown: list[int] = []

    def positives(self, seed: int) -> list[int]:
        """Clicked seeds not disliked, else the current seed."""
        return [v for v in self.visited if v not in self.disliked] or [seed]

    def _slate(self, seed: int, k: int) -> Slate:
        exclude = tuple(self.visited) + tuple(self.shown)
        if not self.disliked:
            slate = self.recommender.similar(product_id=seed, k=k, exclude=exclude, prefer=self.kind(seed))
        else:
            positives, negatives = self.positives(seed), list(self.disliked)

            def ruled(allow, excluded, want):
                catalog = self.recommender.catalog
                return self.rule(
                    catalog, positives=positives, negatives=negatives, exclude=set(excluded), k=want, allow=allow
                )

            slate = preferring(ruled, prefer=self.kind(seed), allow=None, exclude=exclude, k=k)
        self.shown.extend(slate.product_ids)
        return slate

    def start(self, seed: int, k: int) -> Slate:
        """The landing slate (plain neighbours)."""
        self.visited.append(seed)
        return self._slate(seed, k)

    def feedback(self, seed: int, mask: np.ndarray, k: int) -> Slate:
        """Dislike the whole current seed (the mask is ignored)."""
        if seed not in self.disliked:
            self.disliked.append(seed)
        return self._slate(seed, k)

    def click(self, seed: int, k: int) -> Slate:
        """Make a slate product the new seed; negatives carry over."""
        self.visited.append(seed)
        return self._slate(seed, k)
