"""Shopper models by name, and loading one from outside the package (`some.module:SomeShopper`)."""

from __future__ import annotations

import importlib
from collections.abc import Callable
from pathlib import Path

from evaluation.data import EvalCatalog
from evaluation.shoppers.base import GridBrush, Shopper


def _colour(catalog: EvalCatalog, cache_dir: Path) -> Shopper:
    from evaluation.shoppers.colour import ColourEyes

    return Shopper("colour", ColourEyes.build(catalog, cache_dir), GridBrush())


def _structure(catalog: EvalCatalog, cache_dir: Path) -> Shopper:
    from evaluation.shoppers.structure import StructureEyes

    return Shopper("structure", StructureEyes.build(catalog, cache_dir), GridBrush())


def _colour_human(catalog: EvalCatalog, cache_dir: Path) -> Shopper:
    from evaluation.shoppers.colour import ColourEyes
    from evaluation.shoppers.human_brush import HumanBrush

    return Shopper("colour+human", ColourEyes.build(catalog, cache_dir), HumanBrush())


def _structure_human(catalog: EvalCatalog, cache_dir: Path) -> Shopper:
    from evaluation.shoppers.human_brush import HumanBrush
    from evaluation.shoppers.structure import StructureEyes

    return Shopper("structure+human", StructureEyes.build(catalog, cache_dir), HumanBrush())


# name -> factory(catalog, cache_dir): colour / structure eyes, each with the grid brush or the human brush
SHOPPERS: dict[str, Callable[[EvalCatalog, Path], Shopper]] = {
    "colour": _colour,
    "structure": _structure,
    "colour+human": _colour_human,
    "structure+human": _structure_human,
}


def load_shopper(spec: str, catalog: EvalCatalog, cache_dir: str | Path) -> Shopper:
    """A registered name, or `module:Name` for a class with `build(catalog, cache_dir)` (or such a callable)."""
    cache_dir = Path(cache_dir)
    if spec in SHOPPERS:
        return SHOPPERS[spec](catalog, cache_dir)
    if ":" not in spec:
        raise ValueError(f"unknown shopper {spec!r}: one of {', '.join(SHOPPERS)} or a dotted path module:Class")
    module_name, _, attr = spec.partition(":")
    try:
        factory = getattr(importlib.import_module(module_name), attr)
    except (ImportError, AttributeError) as exc:
        raise ValueError(f"cannot load shopper {spec!r}: {exc}") from exc
    build = getattr(factory, "build", factory)
    shopper = build(catalog, cache_dir)
    if not isinstance(shopper, Shopper):
        raise ValueError(f"shopper {spec!r}: build(catalog, cache_dir) returned {type(shopper).__name__}, not Shopper")
    return shopper
