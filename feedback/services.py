"""Writes on shopping sessions (seed, filters, feedback, undo, reset) and the slates they produce.

Every change takes the session's row lock (select_for_update inside transaction.atomic), so concurrent requests on
one session serialise; the slow part of adding feedback (decoding the photo, the masked forward pass) runs before
the lock is taken. A slate is a pure function of the session's state (seed, active feedback in order, visited seeds,
filters), which is what makes undo and remove exact.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace

from django.conf import settings
from django.db import transaction

from catalog.models import Product, ProductImage
from embeddings.engine.mask_meaning import REGION, WHOLE_ITEM, MeaninglessMask
from embeddings.engine.preprocess import ImageDecodeError, load_image
from embeddings.engine.ranking.scoring import is_whole_item
from embeddings.engine.types import Slate, SlateItem
from embeddings.serving.request_cache import active_snapshot, note_active
from embeddings.serving.shared_recommender import get_recommender
from embeddings.serving.slate_filter import FILTER_FIELDS, group_filter, slate_filter
from feedback import masks
from feedback.errors import InvalidInput, NotFound, NotReady, Unprocessable
from feedback.models import FeedbackEvent, ShoppingSession
from feedback.selectors import (
    User,
    feedback_get,
    feedback_in_scope,
    feedback_list,
    feedback_signals,
    product_id_active,
    product_photo_get_active,
    products_by_ids,
    signal_cache,
)

MAX_SHOWN = 1000  # products remembered as shown per session; older ones matter little to the engine
MAX_FILTER_LENGTH = 64  # the longest Product filter column


@dataclass(frozen=True)
class SessionState:
    """Everything the session endpoints answer: the session, its seed, its feedback and one slate page."""

    session: ShoppingSession
    seed: Product | None
    feedback: list[FeedbackEvent]
    page: int
    k: int
    items: list[SlateItem]  # each with its product loaded
    default_filter: dict[str, str]  # the default type filter the slate preferred ({} when none)
    paused: set[int]  # active feedback given on another article type: kept, not steering this slate


def _locked(session: ShoppingSession) -> ShoppingSession:
    # the seed comes along (the default type filter reads it) but only the session's row is locked
    return ShoppingSession.objects.select_for_update(of=("self",)).select_related("seed").get(pk=session.pk)


def session_create(*, owner_key: str, user: User = None, seed_id: int | None = None) -> ShoppingSession:
    """A new session for this browser (and user, when signed in), optionally starting on a seed."""
    seed = product_id_active(product_id=seed_id, field="seed_id") if seed_id is not None else None
    if seed is not None:
        note_active([seed])  # the request's first slate need not ask again
    owner = user if user is not None and user.is_authenticated else None
    return ShoppingSession.objects.create(owner_key=owner_key, user=owner, seed_id=seed)


@transaction.atomic
def session_set_seed(*, session: ShoppingSession, product_id: int) -> ShoppingSession:
    """Move to a new seed; the previous one joins the visited list (never recommended again), the new one leaves it."""
    product_id = product_id_active(product_id=product_id, field="product_id")
    note_active([product_id])
    locked = _locked(session)
    visited = [pid for pid in locked.visited if pid != product_id]  # returning to a visited seed: current again
    if locked.seed_id is not None and locked.seed_id != product_id and locked.seed_id not in visited:
        visited.append(locked.seed_id)
    locked.visited = visited
    locked.seed_id = product_id
    locked.save(update_fields=["seed", "visited", "updated_at"])
    return locked


@transaction.atomic
def session_set_filters(
    *, session: ShoppingSession, filters: Mapping[str, object], keep_type: bool | None = None
) -> ShoppingSession:
    """Replace the slate filters; empty or missing values remove a filter.

    keep_type: turn the default type filter (see default_type_filter) on or off; None leaves it as it is.
    """
    clean: dict[str, str] = {}
    for field, value in filters.items():
        if field not in FILTER_FIELDS:
            raise InvalidInput(field, f"Unknown filter; use any of {', '.join(FILTER_FIELDS)}.")
        if value is None or value == "":
            continue
        if not isinstance(value, str) or len(value) > MAX_FILTER_LENGTH:
            raise InvalidInput(field, f"Must be a string of at most {MAX_FILTER_LENGTH} characters.")
        clean[field] = value.strip()
    locked = _locked(session)
    locked.filters = {field: value for field, value in clean.items() if value}
    if keep_type is not None:
        locked.keep_type = bool(keep_type)
    locked.save(update_fields=["filters", "keep_type", "updated_at"])
    return locked


@transaction.atomic
def session_reset(*, session: ShoppingSession) -> ShoppingSession:
    """Start over on the current seed: every feedback inactive, visited and shown lists cleared."""
    locked = _locked(session)
    locked.events.filter(active=True).update(active=False)
    locked.visited, locked.shown = [], []
    locked.save(update_fields=["visited", "shown", "updated_at"])
    return locked


def feedback_add(
    *,
    session: ShoppingSession,
    width: object,
    height: object,
    mask: str | None = None,
    rle: Sequence[int] | None = None,
    seed_id: int | None = None,
) -> FeedbackEvent:
    """Decode the mask painted on the current seed, derive the engine's signal from it and store it, in order.

    seed_id, when given, must be the session's current seed (guards against a seed change in another tab).
    """
    if session.seed_id is None:
        raise InvalidInput("seed", "The session has no seed to paint on; set one first.")
    if seed_id is not None and seed_id != session.seed_id:
        raise InvalidInput("seed_id", f"The session's seed is now {session.seed_id}, not {seed_id}.")
    seed, image = product_photo_get_active(product_id=session.seed_id, field="seed")
    note_active([seed.pk])
    photo = _seed_photo(seed, image)
    painted = masks.mask_decode(mask=mask, rle=rle, width=width, height=height, image_size=photo.size)
    try:
        # Products the shopper saw and passed over before painting travel with this feedback as weak negatives,
        # so undoing or removing it also removes them (the slate stays a pure function of the active feedback).
        signal = get_recommender().derive_feedback(
            seed_id=seed.pk, seed_image=photo, mask=painted, shown=tuple(session.shown)
        )
    except MeaninglessMask as exc:
        raise InvalidInput("mask", str(exc)) from exc
    except ValueError as exc:
        raise Unprocessable(f"The engine could not use this mask: {exc}") from exc
    bits, mask_width, mask_height = masks.mask_pack(painted)
    with transaction.atomic():
        locked = _locked(session)
        locked.last_order += 1
        locked.save(update_fields=["last_order", "updated_at"])
        event = FeedbackEvent.objects.create(
            session=locked,
            seed=seed,
            mask_bits=bits,
            mask_width=mask_width,
            mask_height=mask_height,
            signal=signal.to_bytes(),
            order=locked.last_order,
            interpreted_as=WHOLE_ITEM if is_whole_item(signal) else REGION,
            seed_type=seed.article_type or "",
        )
    signal_cache.put((event.pk, locked.pk), signal)  # the next slate need not decode what was just encoded
    return event


def _seed_photo(seed: Product, image: ProductImage | None):
    if image is None or not image.file:
        raise Unprocessable(f"Product {seed.pk} has no photo to paint on.")
    try:
        with image.file.open("rb") as handle:
            return load_image(handle, max_pixels=settings.LOOKAWAY_MAX_IMAGE_PIXELS)
    except (ImageDecodeError, OSError) as exc:
        raise Unprocessable(f"The photo of product {seed.pk} cannot be read: {exc}") from exc


@transaction.atomic
def feedback_undo(*, session: ShoppingSession) -> FeedbackEvent:
    """Deactivate the most recent active feedback."""
    locked = _locked(session)
    event = locked.events.filter(active=True).order_by("-order").first()
    if event is None:
        raise InvalidInput("feedback", "There is no feedback to undo.")
    event.active = False
    event.save(update_fields=["active"])
    return event


@transaction.atomic
def feedback_remove(*, session: ShoppingSession, feedback_id: int | str) -> FeedbackEvent:
    """Deactivate one feedback of this session (removing an inactive one changes nothing)."""
    locked = _locked(session)
    event = feedback_get(session=locked, feedback_id=feedback_id)
    if event.active:
        event.active = False
        event.save(update_fields=["active"])
    return event


def _seed_type(session: ShoppingSession) -> str:
    return (session.seed.article_type or "") if session.seed_id is not None and session.seed is not None else ""


TYPE_FIELDS = ("article_type", "gender")  # what "the same kind of product" means for the default filter


def default_type_filter(*, session: ShoppingSession) -> dict[str, str]:
    """The filter that keeps the product: the current seed's article type and gender, unless the shopper removed it.

    Slates show the products passing it first and are topped up with the rest only when too few pass. Fields the
    shopper filters on explicitly are left to those filters; a seed without these attributes (a catalog that does not
    have them) gives no default, so slates are the embedding neighbourhood.
    """
    if not session.keep_type or session.seed_id is None or session.seed is None:
        return {}
    seed = session.seed
    return {
        name: value
        for name in TYPE_FIELDS
        if (value := (getattr(seed, name) or "").strip()) and not session.filters.get(name)
    }


def session_slate(*, session: ShoppingSession, k: int, page: int, events: list[FeedbackEvent] | None = None) -> Slate:
    """One page of the session's slate: seed steered by every active feedback, visited seeds and filters applied.

    events: the session's feedback list if the caller already loaded it (saves reading the active ones again).
    """
    if session.seed_id is None:
        return Slate(items=())
    try:
        slate = get_recommender().recommend(
            seed_id=session.seed_id,
            feedback=feedback_signals(session=session, events=events, seed_type=_seed_type(session)),
            exclude=tuple(session.visited),
            k=k,
            offset=(page - 1) * k,
            allow=slate_filter(session.filters),
            prefer=group_filter(default_type_filter(session=session)),
        )
    except KeyError as exc:
        raise NotReady(f"Product {session.seed_id} is not indexed yet; try again once indexing has finished.") from exc
    _record_shown(session, slate.product_ids)
    return slate


def _record_shown(session: ShoppingSession, product_ids: Sequence[int]) -> None:
    if not product_ids or set(product_ids) <= set(session.shown):
        return
    # One UPDATE when nobody changed the list since this request read it (the usual case); else lock and merge.
    shown = _with_shown(session.shown, product_ids)
    if ShoppingSession.objects.filter(pk=session.pk, shown=session.shown).update(shown=shown):
        session.shown = shown
        return
    with transaction.atomic():
        locked = _locked(session)
        locked.shown = _with_shown(locked.shown, product_ids)
        locked.save(update_fields=["shown"])
    session.shown = locked.shown


def _with_shown(shown: Sequence[int], product_ids: Sequence[int]) -> list[int]:
    known = set(shown)
    return [*shown, *(pid for pid in product_ids if pid not in known)][-MAX_SHOWN:]


def session_state(*, session: ShoppingSession, k: int, page: int) -> SessionState:
    """The session, its feedback history and one page of its slate, loaded for display without N+1 queries.

    The slate's products, the seed and the seeds of the feedback history are loaded together (one query for the
    products, one for their photos).
    """
    events = feedback_list(session=session, with_seeds=False)
    with active_snapshot():
        slate = session_slate(session=session, k=k, page=page, events=events)
    wanted = [*slate.product_ids, *([session.seed_id] if session.seed_id else []), *(e.seed_id for e in events)]
    products = products_by_ids(product_ids=wanted)
    for event in events:
        event.seed = products[event.seed_id]  # feedback rows keep their seed (PROTECT): always loaded
    items = [_entry(products, item) for item in slate.items if _shows(products, item.product_id)]
    seed = products.get(session.seed_id) if session.seed_id else None
    seed_type = _seed_type(session)
    paused = {e.pk for e in events if e.active and not feedback_in_scope(seed_type=seed_type, event_type=e.seed_type)}
    return SessionState(session, seed, events, page, k, items, default_type_filter(session=session), paused)


def similar_products(
    *, product_id: int, k: int, page: int, filters: Mapping[str, str]
) -> tuple[Product, list[SlateItem]]:
    """A product and one page of its plain nearest neighbours (no session), filters applied."""
    product = products_by_ids(product_ids=[product_id]).get(product_id)
    if product is None or not product.is_active:
        raise NotFound(f"No product with id {product_id}.")
    try:
        with active_snapshot():
            allow = slate_filter(filters)
            slate = get_recommender().similar(product_id=product_id, k=k, offset=(page - 1) * k, allow=allow)
    except KeyError as exc:
        raise NotReady(f"Product {product_id} is not indexed yet; try again once indexing has finished.") from exc
    products = products_by_ids(product_ids=slate.product_ids)
    return product, [_entry(products, item) for item in slate.items if _shows(products, item.product_id)]


def _shows(products: Mapping[int, Product], product_id: int) -> bool:
    return product_id in products and products[product_id].is_active


def _entry(products: Mapping[int, Product], item: SlateItem) -> SlateItem:
    return replace(item, product=products[item.product_id])
