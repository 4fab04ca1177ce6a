"""Feedback services with the real model: storage, ordering, undo/remove exactness, carry-over across seeds."""

import numpy as np
import pytest

from embeddings.engine.types import FeedbackSignal
from feedback import masks, services
from feedback.errors import InvalidInput, NotFound, Unprocessable
from feedback.models import FeedbackEvent, ShoppingSession
from feedback.tests.conftest import box_mask, png_data_url, rle_counts

pytestmark = pytest.mark.django_db

SLEEVES = (0.0, 0.2, 1.0, 0.55)  # a horizontal band across a t-shirt photo
BOTTOM = (0.0, 0.6, 1.0, 1.0)


def slate(session: ShoppingSession, k: int = 8) -> list[tuple[int, float]]:
    session.refresh_from_db()
    items = services.session_slate(session=session, k=k, page=1).items
    return [(item.product_id, round(item.score, 6)) for item in items]


def add(session: ShoppingSession, box, size: int = 448) -> FeedbackEvent:
    return services.feedback_add(session=session, rle=rle_counts(box_mask(size, size, box)), width=size, height=size)


def test_feedback_is_stored_at_seed_size_with_its_signal_and_changes_the_slate(shop_catalog):
    seed = shop_catalog.by_type["Tshirts"][0]
    session = services.session_create(owner_key="a", seed_id=seed)
    before = slate(session)
    drawn = box_mask(448, 448, SLEEVES)
    event = services.feedback_add(session=session, mask=png_data_url(drawn), width=448, height=448)
    assert (event.order, event.active, event.seed_id) == (1, True, seed)
    assert (event.mask_width, event.mask_height) == (224, 224)  # the seed photo's own pixels
    stored = masks.mask_unpack(event.mask_bits, event.mask_width, event.mask_height)
    assert np.array_equal(stored, box_mask(224, 224, SLEEVES))
    signal = FeedbackSignal.from_bytes(bytes(event.signal))
    assert signal.seed_id == seed and signal.cells.shape == (7, 7)
    assert signal.cells[2].min() > 0.99 and signal.cells[6].max() == 0  # painted rows covered, bottom row not
    after = slate(session)
    assert after != before and seed not in [pid for pid, _ in after]


def test_orders_increase_and_undo_restores_the_previous_slate_exactly(shop_catalog):
    session = services.session_create(owner_key="a", seed_id=shop_catalog.by_type["Tshirts"][3])
    plain = slate(session)
    add(session, SLEEVES)
    one = slate(session)
    second = add(session, BOTTOM)
    assert second.order == 2
    assert slate(session) != one
    undone = services.feedback_undo(session=session)
    assert undone.pk == second.pk and not FeedbackEvent.objects.get(pk=second.pk).active
    assert slate(session) == one
    services.feedback_undo(session=session)
    assert slate(session) == plain
    with pytest.raises(InvalidInput) as info:
        services.feedback_undo(session=session)
    assert info.value.field == "feedback"
    assert add(session, SLEEVES).order == 3  # orders are never reused


def test_removing_a_middle_feedback_equals_never_having_given_it(shop_catalog):
    seed = shop_catalog.by_type["Handbags"][2]
    session = services.session_create(owner_key="a", seed_id=seed)
    first = add(session, (0.0, 0.0, 0.5, 1.0))
    middle = add(session, (0.5, 0.0, 1.0, 0.5))
    add(session, (0.2, 0.6, 0.8, 1.0))
    services.feedback_remove(session=session, feedback_id=middle.pk)
    services.feedback_remove(session=session, feedback_id=middle.pk)  # removing twice changes nothing
    without = slate(session)
    reference = services.session_create(owner_key="b", seed_id=seed)
    for event in (first, FeedbackEvent.objects.get(session=session, order=3)):
        FeedbackEvent.objects.create(
            session=reference,
            seed_id=seed,
            mask_bits=event.mask_bits,
            mask_width=224,
            mask_height=224,
            signal=event.signal,
            order=event.order,
        )
    assert slate(reference) == without


def test_remove_refuses_other_sessions_feedback(shop_catalog):
    seed = shop_catalog.by_type["Watches"][1]
    mine = services.session_create(owner_key="a", seed_id=seed)
    theirs = services.session_create(owner_key="b", seed_id=seed)
    event = add(theirs, SLEEVES)
    with pytest.raises(NotFound):
        services.feedback_remove(session=mine, feedback_id=event.pk)
    assert FeedbackEvent.objects.get(pk=event.pk).active


def test_feedback_carries_over_to_the_next_seed_and_reset_forgets_it(shop_catalog):
    first, second = shop_catalog.by_type["Tshirts"][5], shop_catalog.by_type["Tshirts"][6]
    session = services.session_create(owner_key="a", seed_id=second)
    plain_second = slate(session)
    session = services.session_set_seed(session=session, product_id=first)
    add(session, SLEEVES)
    session = services.session_set_seed(session=session, product_id=second)
    assert session.visited == [first]  # back on `second`: it is the seed again, not a visited one
    steered = slate(session)
    assert steered != [(pid, s) for pid, s in plain_second if pid != first][:8]
    assert first not in [pid for pid, _ in steered]
    session = services.session_reset(session=session)
    assert session.seed_id == second and session.visited == [] and session.shown == []
    assert not session.events.filter(active=True).exists() and session.events.count() == 1
    assert slate(session) == plain_second


def test_served_products_are_recorded_as_shown(shop_catalog):
    session = services.session_create(owner_key="a", seed_id=shop_catalog.by_type["Watches"][0])
    served = [pid for pid, _ in slate(session, k=4)]
    session.refresh_from_db()
    assert session.shown == served
    slate(session, k=6)
    session.refresh_from_db()
    assert session.shown[:4] == served and len(session.shown) == 6


def test_feedback_needs_a_seed_and_the_current_one(shop_catalog):
    session = services.session_create(owner_key="a")
    with pytest.raises(InvalidInput) as info:
        add(session, SLEEVES)
    assert info.value.field == "seed"
    seed = shop_catalog.by_type["Watches"][0]
    session = services.session_set_seed(session=session, product_id=seed)
    with pytest.raises(InvalidInput) as info:
        services.feedback_add(session=session, rle=[100, 100, 200], width=20, height=20, seed_id=seed + 1)
    assert info.value.field == "seed_id"


def test_a_seed_whose_photo_is_gone_is_unprocessable(shop_catalog, tmp_path, settings):
    session = services.session_create(owner_key="a", seed_id=shop_catalog.by_type["Watches"][2])
    settings.MEDIA_ROOT = tmp_path  # the photo file is not there
    with pytest.raises(Unprocessable):
        add(session, SLEEVES)


def test_feedback_steers_slates_of_its_own_type_and_is_paused_on_another(shop_catalog):
    tee, other_tee = shop_catalog.by_type["Tshirts"][:2]
    watch = shop_catalog.by_type["Watches"][0]
    session = services.session_create(owner_key="a", seed_id=watch)
    session = services.session_set_seed(session=session, product_id=tee)
    event = add(session, SLEEVES)
    assert event.seed_type == "Tshirts"
    session = services.session_set_seed(session=session, product_id=watch)
    state = services.session_state(session=session, k=8, page=1)
    assert state.paused == {event.pk}  # kept, shown as paused
    # on a watch the T-shirt feedback does not reshuffle the slate
    session.refresh_from_db()
    unpainted = ShoppingSession.objects.create(owner_key="b", seed_id=watch, visited=list(session.visited))
    assert slate(session) == slate(unpainted)  # exactly as if no feedback had been given
    # back on a T-shirt, it steers again
    session = services.session_set_seed(session=session, product_id=other_tee)
    assert services.session_state(session=session, k=8, page=1).paused == set()
    fresh = ShoppingSession.objects.create(owner_key="c", seed_id=other_tee, visited=list(session.visited))
    assert slate(session) != slate(fresh)
