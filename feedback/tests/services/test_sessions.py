"""Session services: creation, ownership, seeds and visited, filters, reset, similar (real engine, real shop)."""

import pytest
from django.contrib.auth import get_user_model

from catalog.models import Product
from feedback import selectors, services
from feedback.errors import InvalidInput, NotFound
from feedback.models import ShoppingSession

pytestmark = pytest.mark.django_db


def slate_ids(session: ShoppingSession, k: int = 8, page: int = 1) -> list[int]:
    session.refresh_from_db()
    return services.session_slate(session=session, k=k, page=page).product_ids


def test_create_on_a_seed_serves_its_neighbours_of_the_same_type(shop_catalog):
    seed = shop_catalog.by_type["Watches"][0]
    session = services.session_create(owner_key="browser-a", seed_id=seed)
    state = services.session_state(session=session, k=8, page=1)
    assert state.seed.pk == seed and len(state.items) == 8
    assert seed not in [entry.product.pk for entry in state.items]
    assert state.default_filter == {"article_type": "Watches", "gender": state.seed.gender}
    kept = [e.product.article_type == "Watches" and e.product.gender == state.seed.gender for e in state.items]
    assert kept == sorted(kept, reverse=True) and any(kept)  # the seed's kind first, then the rest tops it up
    for group in (True, False):
        scores = [e.score for e, keep in zip(state.items, kept, strict=True) if keep is group]
        assert scores == sorted(scores, reverse=True)


def test_create_without_seed_has_an_empty_slate_and_unknown_seed_is_refused(shop_catalog):
    session = services.session_create(owner_key="browser-a")
    assert services.session_state(session=session, k=8, page=1).items == []
    with pytest.raises(InvalidInput) as info:
        services.session_create(owner_key="browser-a", seed_id=999_999_999)
    assert info.value.field == "seed_id"


def test_pages_do_not_overlap(shop_catalog):
    session = services.session_create(owner_key="a", seed_id=shop_catalog.by_type["Tshirts"][0])
    first, second = slate_ids(session, k=5, page=1), slate_ids(session, k=5, page=2)
    assert len(first) == len(second) == 5 and not set(first) & set(second)
    assert slate_ids(session, k=10, page=1) == first + second


def test_owner_key_or_user_is_needed_to_get_a_session(shop_catalog):
    user = get_user_model().objects.create_user("shopper", password="x")
    mine = services.session_create(owner_key="browser-a", user=user)
    assert selectors.session_get_for_owner(session_id=mine.pk, owner_key="browser-a") == mine
    assert selectors.session_get_for_owner(session_id=str(mine.pk), owner_key="other", user=user) == mine
    for owner_key in ("browser-b", ""):
        with pytest.raises(NotFound):
            selectors.session_get_for_owner(session_id=mine.pk, owner_key=owner_key)
    other_user = get_user_model().objects.create_user("other", password="x")
    with pytest.raises(NotFound):
        selectors.session_get_for_owner(session_id=mine.pk, owner_key="", user=other_user)
    with pytest.raises(NotFound):
        selectors.session_get_for_owner(session_id="not-a-uuid", owner_key="browser-a")


def test_new_seed_marks_the_previous_one_visited_and_never_recommends_it(shop_catalog):
    first, second = shop_catalog.by_type["Tshirts"][:2]
    session = services.session_create(owner_key="a", seed_id=first)
    session = services.session_set_seed(session=session, product_id=second)
    assert session.seed_id == second and session.visited == [first]
    assert first not in slate_ids(session, k=40)
    session = services.session_set_seed(session=session, product_id=second)  # same seed again: nothing new
    assert session.visited == [first]
    with pytest.raises(InvalidInput) as info:
        services.session_set_seed(session=session, product_id=123_456_789)
    assert info.value.field == "product_id"


def test_inactive_products_are_neither_seeds_nor_recommended(shop_catalog):
    seed = shop_catalog.by_type["Handbags"][0]
    session = services.session_create(owner_key="a", seed_id=seed)
    top = slate_ids(session)[0]
    Product.objects.filter(pk=top).update(is_active=False)
    assert top not in slate_ids(session, k=40)
    with pytest.raises(InvalidInput):
        services.session_set_seed(session=session, product_id=top)


def test_filters_narrow_the_slate_and_can_be_cleared(shop_catalog):
    session = services.session_create(owner_key="a", seed_id=shop_catalog.by_type["Tshirts"][0])
    session = services.session_set_filters(session=session, filters={"article_type": "Watches", "gender": ""})
    assert session.filters == {"article_type": "Watches"}
    ids = slate_ids(session)
    assert len(ids) == 8 and set(ids) <= set(shop_catalog.by_type["Watches"])
    session = services.session_set_filters(session=session, filters={})
    assert session.filters == {} and not set(slate_ids(session)) <= set(shop_catalog.by_type["Watches"])


@pytest.mark.parametrize(("filters", "field"), [({"colour": "Red"}, "colour"), ({"gender": ["Men"]}, "gender")])
def test_bad_filters_are_refused(shop_catalog, filters, field):
    session = services.session_create(owner_key="a")
    with pytest.raises(InvalidInput) as info:
        services.session_set_filters(session=session, filters=filters)
    assert info.value.field == field


def test_similar_products_honours_filters_and_unknown_products(shop_catalog):
    seed = shop_catalog.by_type["Casual Shoes"][0]
    product, items = services.similar_products(product_id=seed, k=6, page=1, filters={"article_type": "Handbags"})
    assert product.pk == seed and len(items) == 6
    assert {entry.product.article_type for entry in items} == {"Handbags"}
    with pytest.raises(NotFound):
        services.similar_products(product_id=424242424, k=6, page=1, filters={})
