"""Middleware: headers Django does not set itself (CSP, Permissions-Policy), JSON-only API writes, and the shop's
own 404 page under DEBUG."""

from __future__ import annotations

from collections.abc import Callable

from django.conf import settings
from django.http import Http404, HttpRequest, HttpResponse, JsonResponse
from django.urls import Resolver404, resolve

from config import views


class SecurityHeadersMiddleware:
    """Adds LOOKAWAY_CONTENT_SECURITY_POLICY and LOOKAWAY_PERMISSIONS_POLICY to every response that has none.

    Paths starting with a prefix in LOOKAWAY_CSP_OVERRIDES get that prefix's policy instead (the Swagger UI at
    /api/docs/ loads its script from a CDN). An empty policy setting sends no header.
    """

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        response = self.get_response(request)
        policy = settings.LOOKAWAY_CONTENT_SECURITY_POLICY
        for prefix, override in settings.LOOKAWAY_CSP_OVERRIDES.items():
            if request.path.startswith(prefix):
                policy = override
                break
        if policy and "Content-Security-Policy" not in response:
            response["Content-Security-Policy"] = policy
        permissions = settings.LOOKAWAY_PERMISSIONS_POLICY
        if permissions and "Permissions-Policy" not in response:
            response["Permissions-Policy"] = permissions
        return response


class ApiJsonOnlyMiddleware:
    """API writes with a body must be JSON: anything else gets 415 before CSRF or DRF look at it.

    Without this, Django's CSRF check parses multipart/form bodies itself and DRF then sees an empty body, so a
    form post to e.g. sessions/{id}/filters/ would silently clear the filters instead of being refused.
    """

    WRITE_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        if request.path.startswith("/api/") and request.method in self.WRITE_METHODS and _has_body(request):
            content_type = request.content_type or ""
            if content_type != "application/json":
                return JsonResponse(
                    {"detail": f'Unsupported media type "{content_type}" in request; send application/json.'},
                    status=415,
                )
        return self.get_response(request)


class ShopNotFoundMiddleware:
    """Under DEBUG, shop pages answer the shop's own 404 page (templates/404.html) like in production.

    Django's technical 404 page (the URL patterns, "DEBUG = True") replaces handler404 whenever DEBUG is on, and
    the demo runs with DEBUG on. Unknown URLs never reach a view, so they are resolved here first; Http404 raised
    by a view is caught in process_exception. /api/ is left alone. Without DEBUG this does nothing.
    """

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        if self._applies(request):
            try:
                resolve(request.path_info)
            except Resolver404 as exc:
                return views.page_not_found(request, exc)
        return self.get_response(request)

    def process_exception(self, request: HttpRequest, exception: Exception) -> HttpResponse | None:
        if isinstance(exception, Http404) and self._applies(request):
            return views.page_not_found(request, exception)
        return None

    @staticmethod
    def _applies(request: HttpRequest) -> bool:
        return settings.DEBUG and not request.path.startswith(views.API_PREFIX)


def _has_body(request: HttpRequest) -> bool:
    try:
        return int(request.META.get("CONTENT_LENGTH") or 0) > 0
    except ValueError:
        return True
