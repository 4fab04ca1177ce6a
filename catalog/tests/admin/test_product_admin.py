"""Product and image admin: thumbnails, filters, search, inline images, bounded queries."""

import pytest
from django.contrib.auth import get_user_model
from django.urls import reverse

from catalog.models import EmbeddingStatus, Product, ProductImage
from catalog.services import catalog_import

pytestmark = pytest.mark.django_db


@pytest.fixture
def staff_client(client, sample_catalog, scheduled):
    catalog_import(csv_path=sample_catalog / "styles.csv")
    client.force_login(get_user_model().objects.create_superuser("boss", "boss@example.com", "pw"))
    return client


def test_changelist_shows_thumbnails_filters_and_import_button(staff_client, django_assert_max_num_queries):
    with django_assert_max_num_queries(20):  # session, user, counts, filters' choices, one page, its images
        response = staff_client.get(reverse("admin:catalog_product_changelist"))
    html = response.content.decode()
    assert response.status_code == 200
    assert html.count('<img src="/media/products/') == 50
    for title in ("By gender", "By master category", "By article type", "By base colour", "By embedding status"):
        assert title in html
    assert reverse("admin:catalog_importjob_import") in html


def test_changelist_filters_and_search(staff_client):
    product = Product.objects.filter(article_type="Watches").first() or Product.objects.first()
    url = reverse("admin:catalog_product_changelist")
    filtered = staff_client.get(url, {"article_type": product.article_type})
    assert filtered.context["cl"].result_count == Product.objects.filter(article_type=product.article_type).count()
    found = staff_client.get(url, {"q": product.external_id})
    assert list(found.context["cl"].result_list) == [product]
    ProductImage.objects.filter(product=product).update(embedding_status=EmbeddingStatus.FAILED, embedding_error="bad")
    failed = staff_client.get(url, {"images__embedding_status": "failed"})
    assert list(failed.context["cl"].result_list) == [product]


def test_product_page_has_image_inline_and_image_admin_shows_errors(staff_client):
    image = ProductImage.objects.first()
    ProductImage.objects.filter(pk=image.pk).update(embedding_status=EmbeddingStatus.FAILED, embedding_error="boom!")
    page = staff_client.get(reverse("admin:catalog_product_change", args=[image.product_id])).content.decode()
    assert f'<img src="{image.file.url}"' in page and "boom!" in page
    listing = staff_client.get(reverse("admin:catalog_productimage_changelist"), {"embedding_status": "failed"})
    assert listing.context["cl"].result_count == 1 and "boom!" in listing.content.decode()


def test_changelist_filters_by_shown_to_shoppers_with_the_reason(staff_client):
    shown, failed, pending, inactive, bare = Product.objects.order_by("id")[:5]
    ProductImage.objects.filter(product=shown).update(embedding_status=EmbeddingStatus.DONE)
    ProductImage.objects.filter(product=failed).update(embedding_status=EmbeddingStatus.FAILED, embedding_error="bad!")
    ProductImage.objects.filter(product=pending).update(embedding_status=EmbeddingStatus.PENDING)
    ProductImage.objects.filter(product=inactive).update(embedding_status=EmbeddingStatus.DONE)
    Product.objects.filter(pk=inactive.pk).update(is_active=False)
    ProductImage.objects.filter(product=bare).delete()
    url = reverse("admin:catalog_product_changelist")

    hidden = staff_client.get(
        url, {"shown": "no", "id__in": ",".join(str(p.pk) for p in (shown, failed, pending, inactive, bare))}
    )
    assert "By shown to shoppers" in hidden.content.decode()
    rows = {product.pk: product for product in hidden.context["cl"].result_list}
    assert set(rows) == {failed.pk, pending.pk, inactive.pk, bare.pk}
    html = hidden.content.decode()
    for reason in ("photo failed: bad!", "photo pending", "inactive", "no photo"):
        assert reason in html
    visible = staff_client.get(url, {"shown": "yes", "id__in": f"{shown.pk},{failed.pk}"})
    assert [product.pk for product in visible.context["cl"].result_list] == [shown.pk]
