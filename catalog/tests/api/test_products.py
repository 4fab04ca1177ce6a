"""Products API on imported real rows: list, filters, pagination, detail, inactive and unknown ids."""

import pytest
from django.urls import reverse
from rest_framework.test import APIClient

from catalog.models import Product
from catalog.services import catalog_import

pytestmark = pytest.mark.django_db


@pytest.fixture
def imported(sample_catalog, scheduled) -> None:
    catalog_import(csv_path=sample_catalog / "styles.csv")


@pytest.fixture
def client() -> APIClient:
    return APIClient()


def test_list_is_paginated_with_cards(imported, client, django_assert_max_num_queries):
    with django_assert_max_num_queries(3):  # count, page, images
        response = client.get(reverse("api:product-list"))
    assert response.status_code == 200
    body = response.json()
    assert body["count"] == 200 and len(body["results"]) == 24 and body["next"]
    card = body["results"][0]
    product = Product.objects.order_by("id").first()
    assert card["id"] == product.pk and card["external_id"] == product.external_id
    assert card["image_url"].startswith("http://testserver/media/products/") and card["image_url"].endswith(".jpg")
    assert (card["width"], card["height"]) == (224, 224)
    assert "attributes" not in card


def test_list_filters_and_search(imported, client):
    product = Product.objects.filter(article_type="Tshirts", gender="Men").first()
    expected = Product.objects.filter(article_type="Tshirts", gender="Men").count()
    response = client.get(reverse("api:product-list"), {"article_type": "tshirts", "gender": "Men", "page_size": 100})
    assert response.json()["count"] == expected > 0
    word = product.name.split()[0]
    found = client.get(reverse("api:product-list"), {"q": word.lower()}).json()
    assert found["count"] == Product.objects.filter(name__icontains=word).count()
    assert all(word.lower() in card["name"].lower() for card in found["results"])
    none = client.get(reverse("api:product-list"), {"base_colour": "No Such Colour"}).json()
    assert none["count"] == 0


def test_inactive_products_are_hidden(imported, client):
    product = Product.objects.first()
    product.is_active = False
    product.save()
    assert client.get(reverse("api:product-list")).json()["count"] == 199
    assert client.get(reverse("api:product-detail", args=[product.pk])).status_code == 404


def test_detail_has_attributes_and_unknown_is_404(imported, client):
    product = Product.objects.last()
    product.attributes = {"Material": "Cotton"}
    product.save()
    body = client.get(reverse("api:product-detail", args=[product.pk])).json()
    assert body["attributes"] == {"Material": "Cotton"} and body["name"] == product.name
    assert client.get(reverse("api:product-detail", args=[999999])).status_code == 404


def test_products_in_openapi_schema(client):
    schema = client.get(reverse("api-schema"), {"format": "json"}).json()
    assert "/api/v1/products/" in schema["paths"] and "/api/v1/products/{id}/" in schema["paths"]
    params = {p["name"] for p in schema["paths"]["/api/v1/products/"]["get"]["parameters"]}
    assert {"q", "gender", "article_type", "base_colour", "page"} <= params


def test_fast_card_representation_matches_the_generic_model_serializer(imported):
    from django.test import RequestFactory
    from rest_framework import serializers

    from catalog.api.serializers import ProductCardSerializer, ProductDetailSerializer
    from catalog.selectors import product_list_by_ids

    product = Product.objects.order_by("id").first()
    product.year, product.season = None, ""  # nulls and blanks too
    product.save()
    no_photo = Product.objects.create(external_id="no-photo", name="No photo")
    request = RequestFactory().get("/", HTTP_HOST="127.0.0.1")
    for item in product_list_by_ids(product_ids=[product.id, no_photo.id]):
        for cls in (ProductCardSerializer, ProductDetailSerializer):
            serializer = cls(item, context={"request": request})
            generic = serializers.ModelSerializer.to_representation(serializer, item)
            assert serializer.data == generic
    assert ProductCardSerializer(no_photo).data["image_url"] is None
