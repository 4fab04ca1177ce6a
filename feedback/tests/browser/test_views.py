"""The storefront's server-rendered pages (Django test client; no browser, no engine)."""

from __future__ import annotations

import pytest
from django.test import Client
from django.urls import reverse

from catalog.models import EmbeddingStatus, Product, ProductImage

pytestmark = pytest.mark.django_db


def make_product(name: str, **fields) -> Product:
    external_id = fields.pop("external_id", name.lower().replace(" ", "-"))
    product = Product.objects.create(external_id=external_id, name=name, **fields)
    ProductImage.objects.create(
        product=product, file=f"products/{external_id}.jpg", width=60, height=80, embedding_status=EmbeddingStatus.DONE
    )
    return product


@pytest.fixture
def products() -> dict[str, Product]:
    return {
        "shirt": make_product("Blue Denim Shirt", gender="Men", master_category="Apparel", base_colour="Blue"),
        "dress": make_product("Red Summer Dress", gender="Women", master_category="Apparel", base_colour="Red"),
        "bag": make_product("Red Leather Bag", gender="Women", master_category="Accessories", base_colour="Red"),
        "gone": make_product(
            "Old Red Scarf", gender="Women", master_category="Accessories", base_colour="Red", is_active=False
        ),
    }


def names(response) -> list[str]:
    return [product.name for product in response.context["page"].object_list]


def test_landing_lists_active_products_with_images(client: Client, products):
    response = client.get(reverse("shop:landing"))
    assert response.status_code == 200
    assert names(response) == ["Blue Denim Shirt", "Red Summer Dress", "Red Leather Bag"]
    html = response.content.decode()
    assert f'href="{reverse("shop:product", args=[products["bag"].pk])}"' in html
    assert 'src="/media/products/red-leather-bag.jpg" alt="" loading="lazy"' in html
    assert 'width="60" height="80"' in html
    assert "Old Red Scarf" not in html


def test_landing_search_and_filters(client: Client, products):
    assert names(client.get("/", {"q": "red"})) == ["Red Summer Dress", "Red Leather Bag"]
    assert names(client.get("/", {"q": "red", "category": "Accessories"})) == ["Red Leather Bag"]
    assert names(client.get("/", {"q": "leather  red"})) == ["Red Leather Bag"]  # every word, any order
    assert names(client.get("/", {"gender": "Men"})) == ["Blue Denim Shirt"]
    assert names(client.get("/", {"colour": "Green"})) == []
    response = client.get("/", {"colour": "Red"})
    facets = {facet.param: facet for facet in response.context["facets"]}
    assert facets["colour"].selected == "Red"
    assert facets["category"].values == ["Accessories", "Apparel"]  # only values of active products
    assert "Nothing matches" in client.get("/", {"q": "zzz"}).content.decode()


def test_landing_paginates_and_keeps_the_filters(client: Client):
    for number in range(30):
        make_product(f"Tee {number:02d}", gender="Men")
    first = client.get("/", {"gender": "Men"})
    assert len(names(first)) == 24
    assert 'href="?gender=Men&amp;page=2"' in first.content.decode()
    second = client.get("/", {"gender": "Men", "page": 2})
    assert names(second) == [f"Tee {number:02d}" for number in range(24, 30)]
    assert client.get("/", {"page": "999"}).status_code == 200  # out of range: the last page


def test_shop_page_renders_the_seed_for_the_script(client: Client, products, settings):
    settings.LOOKAWAY_SLATE_SIZE = 6
    product = products["dress"]
    response = client.get(reverse("shop:product", args=[product.pk]))
    assert response.status_code == 200
    html = response.content.decode()
    assert f'data-product-id="{product.pk}"' in html
    assert 'data-api-root="/api/v1/"' in html
    assert 'data-shop-url="/shop/0/"' in html
    assert 'data-slate-size="6"' in html
    assert html.count("slate-card--skeleton") == 6
    assert "<h1" in html and "Red Summer Dress" in html
    assert 'name="csrfmiddlewaretoken"' in html
    assert "csrftoken" in response.cookies


@pytest.mark.parametrize("which", ["gone", "missing"])
def test_shop_page_is_404_for_unknown_or_inactive_products(client: Client, products, which):
    pk = products["gone"].pk if which == "gone" else 999_999
    response = client.get(reverse("shop:product", args=[pk]))
    assert response.status_code == 404
    assert "Browse the catalog" in response.content.decode()  # the shop's own 404 page


def test_pages_only_answer_reads(client: Client, products):
    assert client.post(reverse("shop:landing")).status_code == 405
    assert client.post(reverse("shop:product", args=[products["shirt"].pk])).status_code == 405


@pytest.fixture
def unrecommendable() -> dict[str, Product]:
    """Active products a shopper must never see: their photo failed, is still pending, or is missing."""
    failed = make_product("Green Broken Jacket", gender="Men", master_category="Apparel", base_colour="Green")
    failed.images.update(embedding_status=EmbeddingStatus.FAILED, embedding_error="cannot identify image file")
    pending = make_product("Pending Red Cap", gender="Men", master_category="Headwear", base_colour="Red")
    pending.images.update(embedding_status=EmbeddingStatus.PENDING)
    bare = Product.objects.create(external_id="bare", name="Photoless Red Belt", base_colour="Red")
    return {"failed": failed, "pending": pending, "bare": bare}


def test_products_that_cannot_be_recommended_are_never_shown(client: Client, products, unrecommendable):
    response = client.get(reverse("shop:landing"))
    assert names(response) == ["Blue Denim Shirt", "Red Summer Dress", "Red Leather Bag"]
    facets = {facet.param: facet for facet in response.context["facets"]}
    assert "Green" not in facets["colour"].values and "Headwear" not in facets["category"].values
    assert names(client.get("/", {"q": "red"})) == ["Red Summer Dress", "Red Leather Bag"]
    shop_facets = {facet.param: facet for facet in client.get(f"/shop/{products['bag'].pk}/").context["facets"]}
    assert "Green" not in shop_facets["colour"].values
    for product in unrecommendable.values():
        page = client.get(reverse("shop:product", args=[product.pk]))
        assert page.status_code == 404 and "Browse the catalog" in page.content.decode()


def test_landing_query_count_is_unchanged_by_the_recommendable_rule(
    client: Client, products, unrecommendable, django_assert_num_queries
):
    # Session-less GET: facets (3), page count, one page of products and their images.
    with django_assert_num_queries(6):
        response = client.get(reverse("shop:landing"))
    assert len(names(response)) == 3


@pytest.mark.parametrize("path", ["/shop/999999/", "/shop/abc/", "/no/such/page/"])
def test_the_shops_own_404_page_shows_even_under_debug(client: Client, settings, path):
    settings.DEBUG = True
    response = client.get(path)
    html = response.content.decode()
    assert response.status_code == 404
    assert "Browse the catalog" in html and "We couldn't find that page" in html
    assert "URLconf" not in html and "DEBUG = True" not in html


def test_api_404s_stay_json_under_debug(client: Client, settings, products):
    settings.DEBUG = True
    response = client.get("/api/v1/products/999999/")
    assert response.status_code == 404 and response["Content-Type"].startswith("application/json")


def test_a_missing_slash_still_redirects_under_debug(client: Client, settings, products):
    settings.DEBUG = True
    response = client.get(f"/shop/{products['bag'].pk}")
    assert response.status_code == 301 and response["Location"] == f"/shop/{products['bag'].pk}/"
