"""Catalog API routes (mounted under /api/v1/ by config.urls)."""

from django.urls import path

from catalog.api.views import ProductDetailView, ProductListView

urlpatterns = [
    path("products/", ProductListView.as_view(), name="product-list"),
    path("products/<int:pk>/", ProductDetailView.as_view(), name="product-detail"),
]
