"""The API's exception handler: expected domain errors become clear 4xx JSON answers, never a 500."""

from __future__ import annotations

import logging

from django.core.exceptions import RequestDataTooBig, SuspiciousOperation, TooManyFieldsSent
from rest_framework import status
from rest_framework.response import Response
from rest_framework.views import exception_handler

from embeddings.engine.preprocess import ImageDecodeError
from feedback.errors import FeedbackError, InvalidInput
from feedback.masks import MaskError

logger = logging.getLogger(__name__)


def api_exception_handler(exc: Exception, context: dict) -> Response | None:
    """DRF's handler plus: MaskError/InvalidInput -> 400 {field: [message]}, NotFound -> 404, engine -> 409/422,
    Django's upload limits (DATA_UPLOAD_MAX_MEMORY_SIZE / _NUMBER_FIELDS) -> 413, other suspicious input -> 400.

    Anything else is logged with its traceback and answered 500 {"detail": ...} in JSON.
    """
    if isinstance(exc, MaskError | InvalidInput):
        return Response({exc.field: [exc.message]}, status=status.HTTP_400_BAD_REQUEST)
    if isinstance(exc, FeedbackError):
        return Response({"detail": exc.message}, status=exc.status_code)
    if isinstance(exc, ImageDecodeError):
        return Response({"detail": f"Image cannot be read: {exc.reason}"}, status=422)
    if isinstance(exc, RequestDataTooBig | TooManyFieldsSent):
        return Response(
            {"detail": f"The request is too large: {exc}"}, status=status.HTTP_413_REQUEST_ENTITY_TOO_LARGE
        )
    if isinstance(exc, SuspiciousOperation):
        return Response({"detail": "Bad request."}, status=status.HTTP_400_BAD_REQUEST)
    response = exception_handler(exc, context)
    if response is not None:
        return response
    view = context.get("view")
    logger.exception("Unexpected error in %s", type(view).__name__ if view is not None else "API view", exc_info=exc)
    return Response({"detail": "Internal server error."}, status=status.HTTP_500_INTERNAL_SERVER_ERROR)
