"""Security headers on every kind of page, and pages the Content-Security-Policy cannot break (no inline scripts)."""

from html.parser import HTMLParser

import pytest
from django.contrib.auth import get_user_model
from django.test import Client
from django.urls import reverse

from catalog.models import EmbeddingStatus, ImportJob, Product, ProductImage

pytestmark = pytest.mark.django_db


class InlineScripts(HTMLParser):
    """Collects what `script-src 'self'` blocks: inline <script> bodies, on* handlers, javascript: URLs."""

    def __init__(self) -> None:
        super().__init__()
        self.blocked: list[str] = []
        self._inline = False
        self.scripts = 0

    def handle_starttag(self, tag, attrs):
        values = dict(attrs)
        if tag == "script":
            self.scripts += 1
            self._inline = "src" not in values and values.get("type") not in ("application/json", "text/template")
        for name, value in attrs:
            if name.startswith("on"):
                self.blocked.append(f"<{tag} {name}=...>")
            if name in ("href", "src", "action") and (value or "").strip().lower().startswith("javascript:"):
                self.blocked.append(f"<{tag} {name}={value}>")

    def handle_endtag(self, tag):
        if tag == "script":
            self._inline = False

    def handle_data(self, data):
        if self._inline and data.strip():
            self.blocked.append(f"<script>{data.strip()[:60]}")


def _blocked(html: str) -> tuple[list[str], int]:
    parser = InlineScripts()
    parser.feed(html)
    return parser.blocked, parser.scripts


@pytest.fixture
def product() -> Product:
    product = Product.objects.create(external_id="p1", name="Blue Shirt", gender="Men", master_category="Apparel")
    ProductImage.objects.create(
        product=product, file="products/p1.jpg", width=60, height=80, embedding_status=EmbeddingStatus.DONE
    )
    return product


@pytest.fixture
def staff() -> Client:
    client = Client()
    client.force_login(get_user_model().objects.create_superuser("boss", "boss@example.com", "pw"))
    return client


def _pages(product: Product) -> list[str]:
    return [
        "/",
        f"/shop/{product.pk}/",
        "/api/v1/products/",
        f"/api/v1/products/{product.pk}/",
        "/admin/login/",
        "/no-such-page/",
        "/api/v1/no-such-route/",
    ]


def test_every_response_carries_the_security_headers(client, product, settings):
    for path in _pages(product):
        response = client.get(path)
        assert response["X-Content-Type-Options"] == "nosniff", path
        assert response["Referrer-Policy"] == "same-origin", path
        assert response["X-Frame-Options"] == "DENY", path
        assert response["Cross-Origin-Opener-Policy"] == "same-origin", path
        assert response["Permissions-Policy"] == settings.LOOKAWAY_PERMISSIONS_POLICY, path
        policy = response["Content-Security-Policy"]
        assert "script-src 'self';" in policy and "frame-ancestors 'none'" in policy and "unsafe-eval" not in policy
        assert "'unsafe-inline'" not in policy.split("script-src")[1].split(";")[0], path


def test_the_api_docs_page_gets_its_cdn_policy_and_no_inline_script(client):
    response = client.get("/api/docs/")
    assert response.status_code == 200
    assert "script-src 'self' https://cdn.jsdelivr.net" in response["Content-Security-Policy"]
    blocked, scripts = _blocked(response.content.decode())
    assert blocked == [] and scripts == 3
    init = client.get("/api/docs/?script=")
    assert init.status_code == 200 and "SwaggerUIBundle" in init.content.decode()


def test_the_csp_can_be_set_or_switched_off_by_settings(client, product, settings):
    settings.LOOKAWAY_CONTENT_SECURITY_POLICY = "default-src 'self' https://cdn.example.com"
    assert client.get("/")["Content-Security-Policy"] == "default-src 'self' https://cdn.example.com"
    settings.LOOKAWAY_CONTENT_SECURITY_POLICY = ""
    assert "Content-Security-Policy" not in client.get("/")


def test_storefront_and_admin_pages_have_no_inline_scripts(client, staff, product):
    job = ImportJob.objects.create(csv_file="imports/x.csv")
    storefront = [client.get(path) for path in ("/", f"/shop/{product.pk}/", "/?q=shirt")]
    admin_pages = [
        staff.get(path)
        for path in (
            reverse("admin:index"),
            reverse("admin:catalog_product_changelist"),
            reverse("admin:catalog_product_change", args=[product.pk]),
            reverse("admin:catalog_productimage_changelist"),
            reverse("admin:catalog_importjob_import"),
            reverse("admin:catalog_importjob_report", args=[job.pk]),
            reverse("admin:catalog_importjob_changelist"),
        )
    ]
    assert len(_blocked('<script>x()</script><a onclick="y()" href="javascript:z()">')[0]) == 3  # the checker works
    module_scripts = 0
    for response in [*storefront, *admin_pages]:
        assert response.status_code == 200, response
        blocked, scripts = _blocked(response.content.decode())
        assert blocked == [], (response.wsgi_request.path, blocked)
        module_scripts += scripts
    assert module_scripts > 10  # the parser does see the (external) scripts
