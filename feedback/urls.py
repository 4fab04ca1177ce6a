"""Storefront URLs: the landing grid and the shopping page."""

from django.urls import path

from feedback import views

app_name = "shop"

urlpatterns = [
    path("", views.landing, name="landing"),
    path("shop/<int:pk>/", views.shop, name="product"),
]
