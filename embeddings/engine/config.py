"""EngineConfig: every constant of the feedback engine (the Django side fills it from settings.LOOKAWAY_ENGINE)."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class EngineConfig:
    """Every constant of the engine; defaults chosen by the simulated-shopper evaluation (docs/ENGINE.md)."""

    fill: str = "background"  # how the painted pixels are filled before the masked forward pass
    interpolation: float = 0.0  # a in q = e_seed + a * sum(e_m - e_o): how far to walk away from each dislike
    pool_seed: int = 200  # candidates around the seed embedding
    pool_growth: float = 0.0  # each further feedback on the same seed widens its pool by this fraction of pool_seed
    pool_seed_max: int = 2000  # ... up to this many candidates
    pool_query: int = 100  # candidates around the interpolated query, walked a further pool_walk
    pool_walk: float = 0.0  # extra walk away from the dislikes for the pool_query search only (not the score)
    pool_masked: int = 50  # candidates around the latest masked embedding
    fresh_pools: bool = True  # leave passed-over products out of the searches (each pool holds only new products)
    pool_history: int = 0  # candidates around each earlier feedback seed (not the current one)
    w_query: float = 1.0  # weight of cosine(candidate, interpolated query)
    w_context: float = 0.0  # weight of cell-feature similarity to the seed outside the painted cells
    w_colour: float = 0.0  # penalty for resembling a disliked region's colour at its cells
    colour_scale: float = 20.0  # CIELAB distance at which colour resemblance has fallen to 1/e
    w_features: float = 0.0  # penalty for resembling a disliked region's cell features at its cells
    w_pattern: float = 2.0  # bonus for differing from each disliked seed inside its painted cells, not outside
    pattern_floor: float = 10.0  # CIELAB units added to the pattern term's denominator (damps tiny differences)
    pattern_mode: str = "rank"  # "ratio": (in - out) / (in + out + floor); "rank": share of in > out cell pairs
    pattern_norm: float = 0.0  # the summed pattern term is divided by (number of feedbacks) ** pattern_norm
    w_outside: float = 8.0  # penalty per 100 CIELAB units of colour distance to a seed without feedback of its own
    w_outside_painted: float = 0.0  # the same on a seed with its own feedback, outside the cells painted on it
    w_outside_repainted: float = 64.0  # ... and on a seed painted more than once (nothing shown was better)
    combine: str = "sum"  # how penalties of several dislikes combine: "sum" or "max"
    diversity: float = 0.0  # MMR weight against colour resemblance to items already in the slate
    shortlist: int = 200  # best-scored candidates the slate is selected from (near-duplicate / MMR matrices)
    duplicate_similarity: float = 0.999  # cosine above which two products count as near-identical
    w_shown: float = 1.0  # penalty for products shown before a feedback and passed over (weak negatives)
    background_lightness: float = 95.0  # a cell is background when its L >= this and its chroma <= the next
    background_chroma: float = 8.0
