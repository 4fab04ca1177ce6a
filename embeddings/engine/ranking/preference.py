"""A preferred subset first: slates kept within a filter the shopper did not set (e.g. the seed's product type),
topped up with the rest of the catalog when too few products pass it, so a narrow product type never empties a slate.
"""

from __future__ import annotations

from collections.abc import Callable, Collection

import numpy as np

from embeddings.engine.types import AllowFilter, Slate

# make_slate(allow, exclude, k) -> the best k products passing `allow`, none of `exclude`, best first
SlateMaker = Callable[[AllowFilter | None, Collection[int], int], Slate]


def both(first: AllowFilter | None, second: AllowFilter | None) -> AllowFilter | None:
    """An AllowFilter passing what passes both (None = everything)."""
    if first is None or second is None:
        return first if second is None else second
    return lambda ids: np.asarray(first(ids), dtype=bool) & np.asarray(second(ids), dtype=bool)


def preferring(
    make_slate: SlateMaker,
    *,
    prefer: AllowFilter | None,
    allow: AllowFilter | None,
    exclude: Collection[int],
    k: int,
    offset: int = 0,
) -> Slate:
    """Items `offset` .. `offset + k` of: the products passing `prefer` (and `allow`), then, when they run out, the
    best of the others passing `allow`. Without `prefer` this is one page of `make_slate`."""
    want = k + offset
    if prefer is None:
        return Slate(items=make_slate(allow, exclude, want).items[offset:want])
    items = list(make_slate(both(allow, prefer), exclude, want).items)
    if len(items) < want:
        taken = {int(x) for x in exclude} | {item.product_id for item in items}
        items += make_slate(allow, taken, want - len(items)).items
    return Slate(items=tuple(items[offset:want]))
