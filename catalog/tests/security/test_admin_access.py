"""Only staff reach the admin and the catalog import; nothing outside the admin can start an import."""

import pytest
from django.contrib import admin
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Permission
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import URLPattern, URLResolver, get_resolver, reverse

import catalog.tasks
from catalog.models import ImportJob

pytestmark = pytest.mark.django_db

# Admin views anyone may open: the login page, and logout (which only ends a session).
PUBLIC_ADMIN_VIEWS = {"login", "logout"}


def _admin_urls() -> list[str]:
    """Every admin URL, with "1" for each argument (object ids, app labels are literal in the patterns)."""
    urls: list[str] = []

    def walk(patterns, prefix: str) -> None:
        for pattern in patterns:
            if isinstance(pattern, URLResolver):
                walk(pattern.url_patterns, prefix + str(pattern.pattern))
            elif isinstance(pattern, URLPattern) and pattern.name not in PUBLIC_ADMIN_VIEWS:
                route = prefix + str(pattern.pattern)
                if route.startswith("^"):  # regex patterns: catch-all and the app index
                    continue
                path = "/admin/" + route
                for converter in ("<path:object_id>", "<int:job_id>", "<int:pk>", "<str:object_id>", "<id>"):
                    path = path.replace(converter, "1")
                if "<" not in path:
                    urls.append(path)

    walk(admin.site.get_urls(), "")
    return sorted(set(urls))


ADMIN_URLS = _admin_urls()


def test_the_walk_finds_the_import_pages_and_every_model():
    assert "/admin/catalog/importjob/import/" in ADMIN_URLS and "/admin/catalog/importjob/1/report/" in ADMIN_URLS
    for model in admin.site._registry:
        assert f"/admin/{model._meta.app_label}/{model._meta.model_name}/" in ADMIN_URLS
    assert len(ADMIN_URLS) > 40


@pytest.fixture
def no_import_task(monkeypatch) -> list:
    calls: list = []
    monkeypatch.setattr(catalog.tasks.import_catalog_task, "delay", lambda *a, **k: calls.append(a))
    return calls


@pytest.mark.parametrize("who", ["anonymous", "shopper"])
def test_anonymous_and_non_staff_are_sent_to_the_login_page_everywhere(who, client, no_import_task):
    if who == "shopper":
        client.force_login(get_user_model().objects.create_user("shopper", password="pw-1234-long"))
    login = reverse("admin:login")
    for url in [*ADMIN_URLS, "/admin/"]:
        for method in ("get", "post"):
            response = getattr(client, method)(url)
            assert response.status_code == 302 and response.url.startswith(login), (method, url, response)
    assert ImportJob.objects.count() == 0 and no_import_task == []


def test_staff_without_permissions_get_403_on_model_pages(client, no_import_task):
    client.force_login(get_user_model().objects.create_user("clerk", password="pw-1234-long", is_staff=True))
    model_pages = [u for u in ADMIN_URLS if u.count("/") >= 5 and not u.startswith("/admin/password_change")]
    refused = 0
    for url in model_pages:
        # Legacy URLs redirect to the change page first; pages of objects that do not exist go to the index.
        response = client.post(url, follow=True)
        to_index = bool(response.redirect_chain) and response.redirect_chain[-1][0] == reverse("admin:index")
        assert response.status_code in (403, 404) or to_index, (url, response.status_code)
        if to_index:
            assert "have permission to view or edit anything" in response.content.decode()
        refused += response.status_code == 403
    assert refused > 20
    assert ImportJob.objects.count() == 0 and no_import_task == []


def _site_urls() -> list[tuple[str, object]]:
    """Every URL pattern outside /admin/ with its view callback."""
    found: list[tuple[str, object]] = []

    def walk(patterns, prefix: str) -> None:
        for pattern in patterns:
            if isinstance(pattern, URLResolver):
                walk(pattern.url_patterns, prefix + str(pattern.pattern))
            else:
                found.append((prefix + str(pattern.pattern), pattern.callback))

    walk(get_resolver().url_patterns, "")
    return [(route, view) for route, view in found if not route.startswith("admin/")]


def test_no_route_outside_the_admin_can_start_an_import(client, no_import_task):
    for route, view in _site_urls():
        module = getattr(view, "__module__", "")
        assert not module.startswith("catalog.admin") and "import" not in route.lower(), route
    schema = client.get("/api/schema/", {"format": "json"}).json()
    assert not [path for path in schema["paths"] if "import" in path.lower()]
    for path in ("/api/v1/import/", "/api/v1/imports/", "/api/v1/catalog/import/", "/api/v1/products/import/"):
        response = client.post(path, {"csv_file": "x"}, content_type="application/json")
        assert response.status_code in (404, 405) and response.json()  # JSON 404 under /api/
    assert ImportJob.objects.count() == 0 and no_import_task == []


def _staff_with(client, *codenames: str):
    user = get_user_model().objects.create_user("clerk", password="pw-1234-long", is_staff=True)
    user.user_permissions.set(Permission.objects.filter(content_type__app_label="catalog", codename__in=codenames))
    client.force_login(user)
    return client


@pytest.mark.parametrize(
    "codenames",
    [
        ("add_importjob", "view_importjob"),
        ("add_importjob", "add_product"),
        ("add_importjob", "change_product"),
        ("add_product", "change_product", "view_importjob"),
    ],
)
def test_importing_needs_the_rights_to_add_and_change_products_and_to_add_jobs(client, no_import_task, codenames):
    _staff_with(client, *codenames)
    url = reverse("admin:catalog_importjob_import")
    upload = SimpleUploadedFile("products.csv", b"id,name\n1,Shirt\n", content_type="text/csv")
    assert client.get(url).status_code == 403
    assert client.post(url, {"csv_file": upload}).status_code == 403
    assert ImportJob.objects.count() == 0 and no_import_task == []


def test_staff_with_the_import_rights_can_import(client, no_import_task, django_capture_on_commit_callbacks):
    _staff_with(client, "add_importjob", "view_importjob", "add_product", "change_product")
    url = reverse("admin:catalog_importjob_import")
    assert client.get(url).status_code == 200
    upload = SimpleUploadedFile("products.csv", b"id,name\n1,Shirt\n", content_type="text/csv")
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(url, {"csv_file": upload})
    job = ImportJob.objects.get()
    assert response.status_code == 302 and no_import_task == [(job.pk,)]


@pytest.mark.parametrize("changelist", ["admin:catalog_product_changelist", "admin:catalog_importjob_changelist"])
@pytest.mark.parametrize(
    ("codenames", "shown"),
    [
        (("view_product", "view_importjob", "add_importjob"), False),
        (("view_product", "view_importjob", "add_importjob", "add_product", "change_product"), True),
    ],
)
def test_the_import_button_shows_only_to_those_who_may_import(client, changelist, codenames, shown):
    _staff_with(client, *codenames)
    page = client.get(reverse(changelist))
    assert page.status_code == 200
    assert (reverse("admin:catalog_importjob_import") in page.content.decode()) is shown
