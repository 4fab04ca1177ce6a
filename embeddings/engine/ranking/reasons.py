"""Why a product is on the slate: where it differs from each disliked seed inside the painted cells, and how.

Computed for the few products chosen (a slate page), from the same per-cell distances the pattern term ranks by:
- per painted region, the aspects that differ there (colour, shape, print), strongest first, with colour names of
  the seed and the product inside the region ("navy, not white") and a place word from the region's position on the
  photo ("top", "lower left"...);
- whether the product looks the same as the current seed outside what was painted on it (colour);
- a heat grid (G x G, 0..1): how much each painted cell differs, for a storefront to draw over the product's photo.

An aspect is named only when the engine's contrast for it is positive (the painted cells differ more than the rest)
and the difference is large enough to see; a product that differs in neither is said to be "close to what you
painted", never given a made-up reason.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from embeddings.engine.spatial import rgb_to_lab

COLOUR, SHAPE, PRINT = "colour", "shape", "print"
COLOUR_VISIBLE = 12.0  # mean CIELAB distance inside a region from which a person sees another colour
SHAPE_VISIBLE = 0.12  # mean shape-grid distance inside a region from which the edges or silhouette visibly differ
SAME_ELSEWHERE = 12.0  # mean CIELAB distance outside the paint under which the product looks the same there
HEAT_COLOUR = 40.0  # CIELAB distance of a fully "hot" cell
HEAT_SHAPE = 0.5  # shape-grid distance of a fully "hot" cell
TEXTURE = -2  # the texture channel of a shape grid (print): after the edge orientations, before the fill

# Basic colour names shoppers use, with an sRGB swatch each; a colour is named after the nearest swatch in CIELAB.
PALETTE = {
    "black": (25, 25, 28),
    "charcoal": (64, 64, 68),
    "grey": (128, 128, 130),
    "silver": (190, 190, 192),
    "white": (246, 246, 244),
    "cream": (240, 230, 200),
    "beige": (214, 196, 160),
    "khaki": (170, 150, 100),
    "brown": (110, 70, 40),
    "tan": (180, 130, 85),
    "red": (200, 35, 45),
    "maroon": (110, 25, 35),
    "pink": (240, 160, 185),
    "magenta": (200, 40, 140),
    "orange": (240, 130, 40),
    "mustard": (205, 160, 40),
    "yellow": (245, 215, 60),
    "olive": (110, 110, 50),
    "green": (45, 140, 60),
    "lime": (160, 210, 70),
    "teal": (30, 125, 125),
    "turquoise": (60, 190, 195),
    "light blue": (150, 190, 230),
    "blue": (45, 95, 180),
    "navy": (30, 40, 75),
    "purple": (105, 60, 145),
    "lavender": (185, 165, 215),
}
_NAMES = tuple(PALETTE)
_SWATCHES = rgb_to_lab(np.asarray([PALETTE[name] for name in _NAMES], dtype=np.uint8)[None])[0].astype(np.float32)


@dataclass(frozen=True)
class RegionDifference:
    """How a product differs from one disliked seed where the shopper painted it.

    aspects: the aspects that differ there, strongest first (empty: close to the painted region).
    seed_colour / colour: names of the seed's and the product's mean colour inside the region.
    """

    seed_id: int
    place: str
    aspects: tuple[str, ...]
    seed_colour: str
    colour: str


@dataclass(frozen=True)
class Explanation:
    """Everything the engine knows of why one product is on the slate."""

    text: str
    differences: tuple[RegionDifference, ...] = ()
    same_elsewhere: bool | None = None
    heat: tuple[tuple[float, ...], ...] = ()


@dataclass(frozen=True)
class RegionComparison:
    """One region signal against the candidate pool: the arrays the ranking and the explanations share."""

    seed_id: int
    inside: np.ndarray  # (G, G) weight of each painted foreground cell of the seed
    seed_colours: np.ndarray  # (G, G, 3) float32 CIELAB
    colour_dist: np.ndarray  # (n, G, G) CIELAB distance to the seed per cell
    shape_diff: np.ndarray | None  # (n, G, G, C) candidate minus seed shape grid (None: a signal without one)
    contrasts: np.ndarray  # (A, n) pair contrasts: colour, then shape when there is a shape grid


def colour_name(lab: np.ndarray) -> str:
    """The basic colour name nearest to a CIELAB colour (3,)."""
    d = np.linalg.norm(_SWATCHES - np.asarray(lab, dtype=np.float32), axis=-1)
    return _NAMES[int(np.argmin(d))]


def place_name(weights: np.ndarray) -> str:
    """Where a weighted set of grid cells sits on the photo, in words: 'top', 'lower left', 'centre', ..."""
    w = np.asarray(weights, dtype=np.float32)
    total = float(w.sum())
    if total <= 0:
        return "the painted area"
    g = w.shape[0]
    rows, cols = np.indices(w.shape, dtype=np.float32)
    y = float((rows * w).sum() / total) / max(g - 1, 1)  # 0 top .. 1 bottom
    x = float((cols * w).sum() / total) / max(g - 1, 1)  # 0 left .. 1 right (as the shopper sees the photo)
    vertical = "top" if y < 0.3 else "bottom" if y > 0.7 else ""
    horizontal = "left" if x < 0.3 else "right" if x > 0.7 else ""
    if vertical and horizontal:
        return f"{'upper' if vertical == 'top' else 'lower'} {horizontal}"
    return vertical or horizontal or "centre"


def _mean_colour(colours: np.ndarray, weights: np.ndarray) -> np.ndarray:
    w = np.asarray(weights, dtype=np.float32)[..., None]
    return (np.asarray(colours, dtype=np.float32) * w).sum(axis=(0, 1)) / max(float(w.sum()), 1e-6)


def _aspects(comparison: RegionComparison, i: int) -> tuple[str, ...]:
    """The visible aspects in which candidate i differs from the seed inside the region, strongest contrast first."""
    inside = comparison.inside
    total = max(float(inside.sum()), 1e-6)
    found: list[tuple[float, str]] = []
    colour_contrast = float(comparison.contrasts[0, i])
    if colour_contrast > 0 and float((comparison.colour_dist[i] * inside).sum()) / total >= COLOUR_VISIBLE:
        found.append((colour_contrast, COLOUR))
    if comparison.shape_diff is not None and float(comparison.contrasts[1, i]) > 0:
        diff = comparison.shape_diff[i]
        texture = float((np.abs(diff[..., TEXTURE]) * inside).sum()) / total
        outline = float((np.linalg.norm(np.delete(diff, TEXTURE, axis=-1), axis=-1) * inside).sum()) / total
        if max(texture, outline) >= SHAPE_VISIBLE:
            found.append((float(comparison.contrasts[1, i]), PRINT if texture > outline else SHAPE))
    return tuple(name for _, name in sorted(found, key=lambda item: -item[0]))


def _heat(comparisons: Sequence[RegionComparison], i: int) -> tuple[tuple[float, ...], ...]:
    """Per cell, how much candidate i differs inside the painted cells (the most of any region), 0..1."""
    heat = None
    for c in comparisons:
        level = np.clip(c.colour_dist[i] / HEAT_COLOUR, 0.0, 1.0)
        if c.shape_diff is not None:
            level = np.maximum(level, np.clip(np.linalg.norm(c.shape_diff[i], axis=-1) / HEAT_SHAPE, 0.0, 1.0))
        level = level * np.minimum(c.inside, 1.0)
        heat = level if heat is None else np.maximum(heat, level)
    if heat is None:
        return ()
    return tuple(tuple(round(float(v), 2) for v in row) for row in heat)


def _sentence(differences: Sequence[RegionDifference], same_elsewhere: bool | None) -> str:
    parts = []
    for d in differences:
        if not d.aspects:
            parts.append(f"close to what you painted at the {d.place}")
            continue
        words = " and ".join(d.aspects)
        part = f"other {words} at the {d.place}"
        if COLOUR in d.aspects and d.colour != d.seed_colour:
            part += f": {d.colour}, not {d.seed_colour}"
        parts.append(part)
    if same_elsewhere:
        parts.append("same elsewhere")
    text = "; ".join(parts)
    return text[:1].upper() + text[1:]


def explain(
    comparisons: Sequence[RegionComparison],
    i: int,
    *,
    candidate_colours: np.ndarray,
    outside_distance: float | None,
) -> Explanation:
    """The explanation of candidate i (row i of every comparison): one difference per distinct painted region."""
    if not comparisons:
        return Explanation(text="Similar, and not one you set aside")
    differences = tuple(
        RegionDifference(
            seed_id=c.seed_id,
            place=place_name(c.inside),
            aspects=_aspects(c, i),
            seed_colour=colour_name(_mean_colour(c.seed_colours, c.inside)),
            colour=colour_name(_mean_colour(candidate_colours, c.inside)),
        )
        for c in comparisons
    )
    same = None if outside_distance is None else bool(outside_distance < SAME_ELSEWHERE)
    return Explanation(_sentence(differences, same), differences, same, _heat(comparisons, i))
