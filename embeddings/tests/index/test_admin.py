"""Admin: embedding progress and failures on the index page, and the staff-only rebuild button."""

import pytest
from django.urls import reverse

from embeddings.models import IndexVersion
from embeddings.services import embed_images_batch
from embeddings.tests.products import make_product, make_products

pytestmark = pytest.mark.django_db


def test_index_page_shows_progress_failures_and_rebuilds(admin_client, fake_backbone):
    images = make_products(4) + [make_product("bad-photo", image_bytes=b"GIF89a broken")]
    embed_images_batch(image_ids=[i.id for i in images])
    page = admin_client.get(reverse("admin:embeddings_indexversion_changelist"))
    html = page.content.decode()
    assert page.status_code == 200 and "Embedding progress" in html and "fake-v1" in html
    assert "bad-photo" in html and "cannot identify image" in html and 'id="rebuild-index"' in html
    response = admin_client.post(reverse("admin:embeddings_indexversion_rebuild"), follow=True)
    assert response.status_code == 200 and "Index rebuild queued" in response.content.decode()
    record = IndexVersion.objects.get(is_current=True)
    assert record.items == 4
    page = admin_client.get(reverse("admin:embeddings_indexversion_changelist")).content.decode()
    assert record.version in page


def test_rebuild_refuses_get_and_non_staff(client, admin_client, django_user_model):
    url = reverse("admin:embeddings_indexversion_rebuild")
    assert admin_client.get(url).status_code == 405
    user = django_user_model.objects.create_user("shopper", password="pw-123456")
    client.force_login(user)
    assert client.post(url).status_code == 302  # sent to the admin login
    assert not IndexVersion.objects.exists()


def test_rebuild_error_is_a_message_not_a_500(admin_client, fake_backbone):
    response = admin_client.post(reverse("admin:embeddings_indexversion_rebuild"), follow=True)
    assert response.status_code == 200
    assert "Index rebuild failed" in response.content.decode()
