"""Catalog selectors: filters, ordering by given ids, no N+1 for images, what shoppers may see."""

import pytest

from catalog.models import EmbeddingStatus, Product, ProductImage
from catalog.selectors import (
    product_get,
    product_hidden_reason,
    product_list,
    product_list_by_ids,
    products_recommendable,
)

pytestmark = pytest.mark.django_db


@pytest.fixture
def products() -> list[Product]:
    made = [
        Product.objects.create(external_id=str(i), name=f"Blue shirt {i}", gender="Men", base_colour="Blue")
        for i in range(5)
    ]
    for product in made:
        ProductImage.objects.create(product=product, position=1, width=10, height=10)
        ProductImage.objects.create(product=product, position=0, width=20, height=20)
    made[4].is_active = False
    made[4].save()
    return made


def test_product_list_by_ids_keeps_order_and_prefetches(products, django_assert_num_queries):
    wanted = [products[3].pk, 999999, products[0].pk, products[4].pk]
    with django_assert_num_queries(2):
        found = product_list_by_ids(product_ids=wanted)
        widths = [p.primary_image.width for p in found]
    assert [p.pk for p in found] == [products[3].pk, products[0].pk] and widths == [20, 20]


def test_product_list_filters(products):
    assert product_list(filters={"gender": "men", "q": "shirt 2"}).get() == products[2]
    assert product_list(filters={"base_colour": "Red"}).count() == 0
    assert product_list().count() == 4 and product_list(include_inactive=True).count() == 5
    with pytest.raises(ValueError, match="unknown product filter"):
        product_list(filters={"price": "1"})
    with pytest.raises(Product.DoesNotExist):
        product_get(product_id=products[4].pk)


def test_products_recommendable_follow_the_primary_photo(products, django_assert_num_queries):
    done, failed, stale, secondary_only, inactive = products
    ProductImage.objects.update(embedding_status=EmbeddingStatus.DONE, embedded_with="v1")
    ProductImage.objects.filter(product=failed, position=0).update(
        embedding_status=EmbeddingStatus.FAILED, embedding_error="truncated file"
    )
    # Pending again after a backbone change: the index still serves the old embedding.
    ProductImage.objects.filter(product=stale).update(embedding_status=EmbeddingStatus.PENDING)
    # Only the second photo is embedded: the primary one (position 0) is what shoppers see and what is embedded.
    ProductImage.objects.filter(product=secondary_only, position=0).update(
        embedding_status=EmbeddingStatus.PENDING, embedded_with=""
    )
    with django_assert_num_queries(1):
        shown = set(products_recommendable().values_list("pk", flat=True))
    assert shown == {done.pk, stale.pk}
    reasons = {p.pk: product_hidden_reason(product=p) for p in product_list(include_inactive=True)}
    assert reasons == {
        done.pk: "",
        failed.pk: "photo failed: truncated file",
        stale.pk: "",
        secondary_only.pk: "photo pending",
        inactive.pk: "inactive",
    }
    Product.objects.create(external_id="bare", name="No photo")
    assert product_hidden_reason(product=product_list().get(external_id="bare")) == "no photo"
