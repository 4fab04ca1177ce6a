"""OpenAPI post-processing: the error answers every API route can give, which no single view declares."""

from __future__ import annotations

WRITE_METHODS = ("post", "put", "patch", "delete")
COMMON = {"406": "The Accept header asks for a type this route cannot answer."}
WRITES = {
    "403": "CSRF token missing or wrong.",
    "413": "Request body over LOOKAWAY_API_MAX_BODY_BYTES (or the route's own limit).",
    "415": "The body is not application/json.",
}
THROTTLED = {"429": "Too many sessions created from this address (LOOKAWAY_API_SESSION_CREATE_RATE)."}
THROTTLED_PATH = "/api/v1/sessions/"


def add_common_error_responses(result: dict, generator, request, public) -> dict:
    """SPECTACULAR_SETTINGS["POSTPROCESSING_HOOKS"]: document 406 everywhere, 403/413/415 on writes, 429."""
    for path, operations in result.get("paths", {}).items():
        for method, operation in operations.items():
            if not isinstance(operation, dict) or "responses" not in operation:
                continue
            extra = dict(COMMON)
            if method in WRITE_METHODS:
                extra |= WRITES
                if path == THROTTLED_PATH and method == "post":
                    extra |= THROTTLED
            for code, description in extra.items():
                operation["responses"].setdefault(code, {"description": description})
    return result
