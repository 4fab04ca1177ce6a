"""Reads for shopping sessions: ownership checks, products for cards and filters, feedback history."""

from __future__ import annotations

import threading
import uuid
from collections import OrderedDict
from collections.abc import Iterable

import numpy as np
from django.contrib.auth.models import AbstractBaseUser, AnonymousUser
from django.db.models import Prefetch, QuerySet

from catalog.models import Product, ProductImage
from catalog.selectors import products_recommendable
from embeddings.engine.types import FeedbackSignal
from feedback.errors import InvalidInput, NotFound
from feedback.models import FeedbackEvent, ShoppingSession

User = AbstractBaseUser | AnonymousUser | None


def products_with_images(queryset: QuerySet[Product] | None = None) -> QuerySet[Product]:
    """Products (all, or those of `queryset`) with their images prefetched in display order (so `primary_image`
    costs no query)."""
    images = ProductImage.objects.order_by("position", "id")
    products = Product.objects.all() if queryset is None else queryset
    return products.prefetch_related(Prefetch("images", queryset=images))


def session_get_for_owner(*, session_id: uuid.UUID | str, owner_key: str, user: User = None) -> ShoppingSession:
    """The session if this browser (owner_key) or signed-in user created it; NotFound for anything else."""
    try:
        session_uuid = uuid.UUID(str(session_id))
    except ValueError:
        raise NotFound("No such session.") from None
    session = ShoppingSession.objects.select_related("seed").filter(pk=session_uuid).first()  # seed: default filter
    if session is None or not session_is_owned(session=session, owner_key=owner_key, user=user):
        raise NotFound("No such session.")
    return session


def session_is_owned(*, session: ShoppingSession, owner_key: str, user: User = None) -> bool:
    """Whether this browser (owner_key) or user may read and change the session."""
    if user is not None and user.is_authenticated and session.user_id is not None and session.user_id == user.pk:
        return True
    return bool(owner_key) and session.owner_key == owner_key


def product_get_active(*, product_id: object, field: str = "product_id") -> Product:
    """A recommendable product (catalog.selectors.products_recommendable) with its images; InvalidInput naming
    `field` when unknown, inactive or without an embedded photo."""
    if isinstance(product_id, bool) or not isinstance(product_id, int):
        raise InvalidInput(field, f"Must be an integer product id, got {product_id!r}.")
    product = products_with_images(products_recommendable()).filter(pk=product_id).first()
    if product is None:
        raise InvalidInput(field, f"No product with id {product_id}.")
    return product


def product_photo_get_active(*, product_id: object, field: str = "product_id") -> tuple[Product, ProductImage]:
    """A recommendable product and its primary photo, in one query (the photo is never None: a product without
    one is not recommendable).

    InvalidInput naming `field` when the product is unknown, inactive or without an embedded photo.
    """
    if isinstance(product_id, bool) or not isinstance(product_id, int):
        raise InvalidInput(field, f"Must be an integer product id, got {product_id!r}.")
    images = ProductImage.objects.select_related("product").order_by("position", "id")
    image = images.filter(product_id=product_id, product__in=products_recommendable()).first()
    if image is None:
        raise InvalidInput(field, f"No product with id {product_id}.")
    return image.product, image


def product_id_active(*, product_id: object, field: str = "product_id") -> int:
    """The id of a recommendable product (one light query, nothing loaded); InvalidInput naming `field` otherwise."""
    if isinstance(product_id, bool) or not isinstance(product_id, int):
        raise InvalidInput(field, f"Must be an integer product id, got {product_id!r}.")
    if not products_recommendable().filter(pk=product_id).exists():
        raise InvalidInput(field, f"No product with id {product_id}.")
    return product_id


def products_by_ids(*, product_ids: Iterable[int]) -> dict[int, Product]:
    """Products (any state) with their images, keyed by id: one query plus one for the images."""
    ids = {int(pid) for pid in product_ids}
    if not ids:
        return {}
    return {product.pk: product for product in products_with_images().filter(pk__in=ids)}


def feedback_list(*, session: ShoppingSession, with_seeds: bool = True) -> list[FeedbackEvent]:
    """Every feedback event of the session (active and not), oldest first, with seed products and images.

    with_seeds=False leaves the seeds to the caller (who loads them with other products in one query).
    """
    events = session.events.defer("signal", "mask_bits").order_by("order")
    if with_seeds:
        events = events.prefetch_related(Prefetch("seed", queryset=products_with_images()))
    return list(events)


def feedback_get(*, session: ShoppingSession, feedback_id: int | str) -> FeedbackEvent:
    """One feedback event of this session; NotFound for other sessions' or unknown (or malformed) ids."""
    try:
        feedback_pk = int(feedback_id)
    except (TypeError, ValueError):
        raise NotFound("No such feedback in this session.") from None
    event = FeedbackEvent.objects.filter(session=session, pk=feedback_pk).first()
    if event is None:
        raise NotFound("No such feedback in this session.")
    return event


class SignalCache:
    """Decoded signals by (feedback id, session id) (a stored signal never changes), least recently used dropped first.

    Decoding a signal (a compressed npz) costs about a millisecond; every slate of a session decodes all its active
    feedback again, so a process keeps the recent ones. Arrays are made read-only: callers share them.
    """

    def __init__(self, size: int = 2048) -> None:
        self.size = size
        self._items: OrderedDict[tuple[int, uuid.UUID], FeedbackSignal] = OrderedDict()
        self._lock = threading.Lock()

    def get(self, key: tuple[int, uuid.UUID]) -> FeedbackSignal | None:
        with self._lock:
            signal = self._items.get(key)
            if signal is not None:
                self._items.move_to_end(key)
            return signal

    def put(self, key: tuple[int, uuid.UUID], signal: FeedbackSignal) -> None:
        for array in (signal.cells, *signal.arrays.values()):
            if isinstance(array, np.ndarray):
                array.flags.writeable = False
        with self._lock:
            self._items[key] = signal
            self._items.move_to_end(key)
            while len(self._items) > self.size:
                self._items.popitem(last=False)

    def clear(self) -> None:
        with self._lock:
            self._items.clear()


signal_cache = SignalCache()


def feedback_in_scope(*, seed_type: str, event_type: str) -> bool:
    """Whether feedback painted on a product of `event_type` steers a slate on a seed of `seed_type`: the same
    article type (case-insensitive), or either unknown."""
    return not seed_type or not event_type or seed_type.strip().lower() == event_type.strip().lower()


def feedback_signals(
    *, session: ShoppingSession, events: list[FeedbackEvent] | None = None, seed_type: str = ""
) -> list[FeedbackSignal]:
    """The engine signals of the session's active feedback, in the order it was given (decoded once per process).

    events: the session's feedback list when the caller has just loaded it (feedback_list): saves a query.
    seed_type: the current seed's article type; feedback given on another type is left out (paused).
    """
    if events is None:
        rows = FeedbackEvent.objects.filter(session=session, active=True).order_by("order")
        pairs = list(rows.values_list("pk", "seed_type"))
    else:
        pairs = [(e.pk, e.seed_type) for e in sorted(events, key=lambda event: event.order) if e.active]
    pks = [pk for pk, event_type in pairs if feedback_in_scope(seed_type=seed_type, event_type=event_type)]
    cached = {pk: signal_cache.get((pk, session.pk)) for pk in pks}
    missing = [pk for pk, signal in cached.items() if signal is None]
    if missing:
        for pk, data in FeedbackEvent.objects.filter(session=session, pk__in=missing).values_list("pk", "signal"):
            cached[pk] = FeedbackSignal.from_bytes(bytes(data))
            signal_cache.put((pk, session.pk), cached[pk])
    return [cached[pk] for pk in pks if cached[pk] is not None]
