"""Session authentication that checks the CSRF token on every unsafe request, signed in or not."""

from __future__ import annotations

from django.conf import settings
from drf_spectacular.extensions import OpenApiAuthenticationExtension
from rest_framework.authentication import SessionAuthentication
from rest_framework.request import Request


class CsrfSessionAuthentication(SessionAuthentication):
    """Like DRF's SessionAuthentication, but anonymous browsers must send the CSRF token too.

    Shopping sessions belong to anonymous browsers (through their Django session cookie), so a cross-site form
    could otherwise add feedback to a victim's session. Safe methods (GET, HEAD, OPTIONS) need no token.
    """

    def authenticate(self, request: Request):
        self.enforce_csrf(request)
        user = getattr(request._request, "user", None)
        if not user or not user.is_active:
            return None
        return (user, None)


class CsrfSessionScheme(OpenApiAuthenticationExtension):
    """OpenAPI description of CsrfSessionAuthentication: the session cookie (plus X-CSRFToken on writes)."""

    target_class = "feedback.api.authentication.CsrfSessionAuthentication"
    name = "sessionCookie"

    def get_security_definition(self, auto_schema):
        return {
            "type": "apiKey",
            "in": "cookie",
            "name": settings.SESSION_COOKIE_NAME,
            "description": "The browser's Django session cookie; unsafe methods also need the X-CSRFToken header.",
        }
