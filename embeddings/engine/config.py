"""EngineConfig: every constant of the feedback engine (the Django side fills it from settings.LOOKAWAY_ENGINE)."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class EngineConfig:
    """The engine's live knobs; defaults chosen by the simulated-shopper evaluation (docs/ENGINE.md).

    Knobs the evaluation found to give nothing (walked queries, wider or historical pools, colour and cell-feature
    penalties, MMR diversity, the ratio pattern, weak-negative penalties...) were deleted with their code; their
    ablations are in docs/ENGINE.md and docs/EVALUATION.md.
    """

    fill: str = "background"  # how the painted pixels are filled before the masked forward pass
    pool_seed: int = 200  # candidates around the seed embedding
    pool_masked: int = 50  # candidates around the latest masked embedding
    w_query: float = 1.0  # weight of cosine(candidate, seed)
    w_pattern: float = 2.0  # bonus for differing from each disliked seed inside its painted cells, not outside
    w_outside: float = 8.0  # penalty per 100 CIELAB units of colour distance to a seed without feedback of its own
    w_outside_repainted: float = 64.0  # ... on a seed painted more than once, outside its painted cells
    duplicate_similarity: float = 0.999  # cosine above which two products count as near-identical
    background_lightness: float = 95.0  # a cell is background when its L >= this and its chroma <= the next
    background_chroma: float = 8.0
