"""Storefront pages: the catalog landing grid and the shopping page (seed, slate, painting, feedback history).

The views only render; everything interactive on the shopping page talks to the JSON API under /api/v1/.
"""

from __future__ import annotations

from dataclasses import dataclass

from django.conf import settings
from django.core.paginator import Page, Paginator
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import render
from django.urls import get_script_prefix
from django.views.decorators.csrf import ensure_csrf_cookie
from django.views.decorators.http import require_safe

from catalog import selectors
from catalog.models import Product

LANDING_PAGE_SIZE = 24
# Query parameters of the landing page that narrow the grid, and the Product field each one filters.
LANDING_FILTERS = {"gender": "gender", "category": "master_category", "colour": "base_colour"}


@dataclass(frozen=True)
class Facet:
    """One filter select: its landing-page query parameter, the Product field (the API's filter name), its label,
    the values to offer and the chosen value."""

    param: str
    field: str
    label: str
    values: list[str]
    selected: str = ""


def _facet_values(field: str) -> list[str]:
    values = selectors.products_recommendable().exclude(**{field: ""}).order_by(field).values_list(field, flat=True)
    return list(values.distinct())


def _facets(selected: dict[str, str]) -> list[Facet]:
    labels = {"gender": "Gender", "category": "Category", "colour": "Colour"}
    return [
        Facet(param, field, labels[param], _facet_values(field), selected.get(param, ""))
        for param, field in LANDING_FILTERS.items()
    ]


def _landing_page(request: HttpRequest) -> tuple[Page, str, dict[str, str]]:
    query = request.GET.get("q", "").strip()[:100]
    selected = {param: request.GET.get(param, "").strip() for param in LANDING_FILTERS}
    filters = {"q": query, **{field: selected[param] for param, field in LANDING_FILTERS.items()}}
    products = selectors.product_list(filters=filters, recommendable_only=True)
    page = Paginator(products, LANDING_PAGE_SIZE).get_page(request.GET.get("page"))
    return page, query, selected


@require_safe
def landing(request: HttpRequest) -> HttpResponse:
    """The catalog grid, with search by name, filters and pagination (server-rendered, works without JS)."""
    page, query, selected = _landing_page(request)
    params = request.GET.copy()
    params.pop("page", None)
    context = {
        "page": page,
        "query": query,
        "facets": _facets(selected),
        "filtered": bool(query or any(selected.values())),
        "page_query": params.urlencode(),
    }
    return render(request, "shop/landing.html", context)


@require_safe
@ensure_csrf_cookie
def shop(request: HttpRequest, pk: int) -> HttpResponse:
    """The shopping page for one seed product; the slate and feedback are loaded from the API by static/js/shop."""
    try:
        product = selectors.product_get(product_id=pk, recommendable_only=True)
    except Product.DoesNotExist:
        raise Http404("No such product.") from None
    context = {
        "product": product,
        "image": product.primary_image,
        "slate_size": settings.LOOKAWAY_SLATE_SIZE,
        "facets": _facets({}),
        "api_root": f"{get_script_prefix()}api/v1/",
    }
    return render(request, "shop/shop.html", context)
