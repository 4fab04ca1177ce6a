"""The engine's `allow` filter for a slate's filters: which candidates are active products matching them."""

from __future__ import annotations

from collections.abc import Iterable, Mapping

import numpy as np

from catalog.models import Product

# Slate filters a session may set, each an exact (case-insensitive) match on the Product field of the same name.
FILTER_FIELDS = ("gender", "master_category", "article_type", "base_colour")


def product_ids_allowed(*, product_ids: Iterable[int], filters: Mapping[str, str]) -> set[int]:
    """The subset of these ids that are active products matching the filters (case-insensitive): one query."""
    ids = {int(pid) for pid in product_ids}
    if not ids:
        return set()
    conditions = {f"{field}__iexact": filters[field] for field in FILTER_FIELDS if filters.get(field)}
    queryset = Product.objects.filter(pk__in=ids, is_active=True, **conditions)
    return set(queryset.values_list("pk", flat=True))


class SlateFilter:
    """The engine's AllowFilter for these slate filters: a bool per candidate id, from the database.

    Each call answers with one query for the ids it has not seen yet; the engine may call it several times
    (one per candidate pool, widening when the filter is strict).
    """

    def __init__(self, *, filters: Mapping[str, str]) -> None:
        self.filters = dict(filters)
        self.known: dict[int, bool] = {}
        self.queries = 0

    def __call__(self, product_ids: np.ndarray) -> np.ndarray:
        ids = [int(pid) for pid in np.asarray(product_ids).reshape(-1)]
        missing = [pid for pid in ids if pid not in self.known]
        if missing:
            allowed = product_ids_allowed(product_ids=missing, filters=self.filters)
            self.known.update({pid: pid in allowed for pid in missing})
            self.queries += 1
        return np.fromiter((self.known[pid] for pid in ids), dtype=bool, count=len(ids))


def slate_filter(filters: Mapping[str, str]) -> SlateFilter | None:
    """The filter for these slate filters, or None when none is set (the catalog view returns active products only)."""
    return SlateFilter(filters=filters) if any(filters.get(field) for field in FILTER_FIELDS) else None


class GroupFilter:
    """The engine's AllowFilter for a whole group of products (e.g. one article type and gender): the ids of the
    active products matching these filters, read in one query on first use, so widening searches ask nothing more."""

    def __init__(self, *, filters: Mapping[str, str]) -> None:
        self.filters = dict(filters)
        self._ids: np.ndarray | None = None
        self.queries = 0

    def __call__(self, product_ids: np.ndarray) -> np.ndarray:
        if self._ids is None:
            conditions = {f"{field}__iexact": value for field, value in self.filters.items() if value}
            ids = Product.objects.filter(is_active=True, **conditions).values_list("pk", flat=True)
            self._ids = np.fromiter(ids, dtype=np.int64)
            self.queries += 1
        return np.isin(np.asarray(product_ids, dtype=np.int64).reshape(-1), self._ids)


def group_filter(filters: Mapping[str, str]) -> GroupFilter | None:
    """The group filter for these filters, or None when they set nothing."""
    return GroupFilter(filters=filters) if any(filters.values()) else None
