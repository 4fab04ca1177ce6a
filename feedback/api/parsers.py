"""The API's only request parser: JSON with a body-size limit, and deep nesting refused as a parse error."""

from __future__ import annotations

from django.conf import settings
from rest_framework import status
from rest_framework.exceptions import APIException, ParseError
from rest_framework.parsers import JSONParser


class RequestTooLarge(APIException):
    """The body is over LOOKAWAY_API_MAX_BODY_BYTES; refused before it is read."""

    status_code = status.HTTP_413_REQUEST_ENTITY_TOO_LARGE
    default_code = "request_too_large"


def _content_length(meta: dict) -> int:
    try:
        return int(meta.get("CONTENT_LENGTH") or 0)
    except ValueError:
        return 0


class LimitedJSONParser(JSONParser):
    """DRF's JSONParser, but bodies over LOOKAWAY_API_MAX_BODY_BYTES get 413 unread (DRF reads JSON bodies without
    Django's DATA_UPLOAD_MAX_MEMORY_SIZE check), and JSON nested deeper than Python's recursion limit is a 400
    parse error instead of a RecursionError (500)."""

    def parse(self, stream, media_type=None, parser_context=None):
        request = (parser_context or {}).get("request")
        limit = settings.LOOKAWAY_API_MAX_BODY_BYTES
        if request is not None and _content_length(request.META) > limit:
            raise RequestTooLarge(f"The request body is too large: at most {limit} bytes.")
        try:
            return super().parse(stream, media_type, parser_context)
        except RecursionError:
            raise ParseError("JSON parse error - nested too deeply.") from None
