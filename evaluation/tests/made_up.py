"""A made-up evaluation catalog (no photos) for the protocol's tests."""

from __future__ import annotations

import numpy as np

from evaluation.data import EvalCatalog


def made_up_catalog(n: int = 80) -> EvalCatalog:
    """40 Tshirts, 30 Shoes and the rest of a rare type; genders and four colours cycling."""
    ids = np.arange(100, 100 + n)
    types = np.array(["Tshirts"] * 40 + ["Shoes"] * 30 + ["Rare"] * (n - 70))
    gender = np.array(["Men", "Women"] * (n // 2))
    colour = np.array(["Red", "Blue", "Green", "Black"] * (n // 4))
    return EvalCatalog(ids, types, gender, colour, paths=np.array([""] * n))
