"""Rate limit on anonymous session creation (the one write that creates rows without an existing session)."""

from __future__ import annotations

from django.conf import settings
from rest_framework.throttling import AnonRateThrottle

SESSION_CREATE_ROUTE = "session-list"


class SessionCreateThrottle(AnonRateThrottle):
    """Anonymous POSTs to /api/v1/sessions/, per client IP, at LOOKAWAY_API_SESSION_CREATE_RATE ("120/minute").

    Listed in DEFAULT_THROTTLE_CLASSES, it lets every other request through; empty rate: no limit. Counts live in
    the default cache (use a shared one, CACHE_URL, when several processes serve the API). Behind a proxy, set
    REST_FRAMEWORK["NUM_PROXIES"] so the client IP comes from X-Forwarded-For.
    """

    scope = "session_create"

    def get_rate(self) -> str | None:
        # Read at each request (not frozen at import like DRF's THROTTLE_RATES), so settings overrides apply.
        return getattr(settings, "LOOKAWAY_API_SESSION_CREATE_RATE", None) or None

    def allow_request(self, request, view) -> bool:
        match = getattr(request, "resolver_match", None)
        if request.method != "POST" or match is None or match.url_name != SESSION_CREATE_ROUTE:
            return True
        self.rate = self.get_rate()
        if self.rate is None:
            return True
        self.num_requests, self.duration = self.parse_rate(self.rate)
        return super().allow_request(request, view)
