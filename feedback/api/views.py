"""Session API views: thin wrappers that check ownership, validate shapes and call one service each."""

from __future__ import annotations

import secrets

from django.http import HttpResponse
from django.utils.decorators import method_decorator
from django.views.decorators.csrf import ensure_csrf_cookie
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework import status
from rest_framework.permissions import SAFE_METHODS, AllowAny
from rest_framework.renderers import BaseRenderer, JSONRenderer
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from embeddings.serving.request_cache import active_snapshot
from feedback import masks, selectors, services
from feedback.api import serializers as s
from feedback.api.authentication import CsrfSessionAuthentication
from feedback.models import ShoppingSession

# A mask payload (2 MB) plus JSON framing; DRF does not apply DATA_UPLOAD_MAX_MEMORY_SIZE to JSON bodies.
MAX_FEEDBACK_BODY_BYTES = masks.MAX_PAYLOAD_BYTES + 64 * 1024
# Key in the browser's Django session holding the random token that owns its shopping sessions.
OWNER_SESSION_KEY = "lookaway_owner"

SESSION_ID = OpenApiParameter("session_id", OpenApiTypes.UUID, OpenApiParameter.PATH, description="Session id.")
FEEDBACK_ID = OpenApiParameter("feedback_id", OpenApiTypes.INT, OpenApiParameter.PATH, description="Feedback id.")
BAD_REQUEST = OpenApiResponse(description='Invalid input: {"<field>": ["<message>"]}.')
FORBIDDEN = OpenApiResponse(description="CSRF token missing or wrong (unsafe methods).")
NOT_FOUND = OpenApiResponse(description="Unknown id, or a session of another browser.")
NOT_READY = OpenApiResponse(description="The seed is not indexed yet (409) or its photo is unusable (422).")


def owner_key(request: Request, *, create: bool = False) -> str:
    """This browser's owner token (created and stored in its Django session when asked to)."""
    key = request.session.get(OWNER_SESSION_KEY, "")
    if not key and create:
        key = secrets.token_urlsafe(32)
        request.session[OWNER_SESSION_KEY] = key
    return key


def _content_length(request: Request) -> int:
    try:
        return int(request.META.get("CONTENT_LENGTH") or 0)
    except ValueError:
        return 0


@method_decorator(ensure_csrf_cookie, name="dispatch")
class SessionAPIView(APIView):
    """Base: cookie session + CSRF on writes (every answer sets the csrftoken cookie); sessions are per browser."""

    authentication_classes = [CsrfSessionAuthentication]
    permission_classes = [AllowAny]

    def dispatch(self, request, *args, **kwargs):
        # One request sees one catalog: each product's active flag is read at most once (not once per engine call).
        with active_snapshot():
            return super().dispatch(request, *args, **kwargs)

    def initial(self, request: Request, *args, **kwargs) -> None:
        super().initial(request, *args, **kwargs)
        if request.method not in SAFE_METHODS:  # a bad ?page=/?k= is refused before a write, not after it
            s.SlateQuerySerializer(data=request.query_params).is_valid(raise_exception=True)

    def shopping_session(self, session_id: str) -> ShoppingSession:
        """The requested session if it is this client's, else NotFound (never revealing that it exists)."""
        request = self.request
        return selectors.session_get_for_owner(session_id=session_id, owner_key=owner_key(request), user=request.user)

    def state(self, session: ShoppingSession, code: int = status.HTTP_200_OK) -> Response:
        """The session's state with the slate page chosen by ?page=&k=."""
        query = s.SlateQuerySerializer(data=self.request.query_params)
        query.is_valid(raise_exception=True)
        state = services.session_state(session=session, **query.validated_data)
        context = {"request": self.request, "paused": state.paused}
        return Response(s.SessionStateSerializer(state, context=context).data, status=code)


STATE = {200: s.SessionStateSerializer, 400: BAD_REQUEST, 403: FORBIDDEN, 404: NOT_FOUND, 409: NOT_READY}


class SessionCreateView(SessionAPIView):
    """Create a shopping session owned by this browser (and its user, when signed in)."""

    @extend_schema(
        operation_id="sessions_create",
        tags=["sessions"],
        request=s.SessionCreateSerializer,
        parameters=[s.SlateQuerySerializer],
        responses={201: s.SessionStateSerializer, 400: BAD_REQUEST, 403: FORBIDDEN, 409: NOT_READY},
        summary="Start a shopping session (optionally on a seed product).",
    )
    def post(self, request: Request) -> Response:
        body = s.SessionCreateSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        key = owner_key(request, create=True)
        session = services.session_create(owner_key=key, user=request.user, seed_id=body.validated_data.get("seed_id"))
        return self.state(session, status.HTTP_201_CREATED)


class SessionDetailView(SessionAPIView):
    """Read a session's state; the slate page is chosen with ?page= and ?k=."""

    @extend_schema(
        operation_id="sessions_retrieve",
        tags=["sessions"],
        parameters=[SESSION_ID, s.SlateQuerySerializer],
        responses=STATE,
        summary="The session's state and one page of its slate.",
    )
    def get(self, request: Request, session_id: str) -> Response:
        return self.state(self.shopping_session(session_id))


class SessionSeedView(SessionAPIView):
    """Change the seed; the previous seed joins `visited` and is never recommended again."""

    @extend_schema(
        operation_id="sessions_seed",
        tags=["sessions"],
        request=s.SeedSerializer,
        parameters=[SESSION_ID, s.SlateQuerySerializer],
        responses=STATE,
        summary="Move to a new seed product (the previous seed becomes visited; feedback carries over).",
    )
    def post(self, request: Request, session_id: str) -> Response:
        session = self.shopping_session(session_id)
        body = s.SeedSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        return self.state(services.session_set_seed(session=session, product_id=body.validated_data["product_id"]))


class SessionFiltersView(SessionAPIView):
    """Set the slate filters; feedback is kept."""

    @extend_schema(
        operation_id="sessions_filters",
        tags=["sessions"],
        request=s.FiltersSerializer,
        parameters=[SESSION_ID, s.SlateQuerySerializer],
        responses=STATE,
        summary="Replace the slate filters (exact attribute values; empty or missing: no filter).",
    )
    def post(self, request: Request, session_id: str) -> Response:
        session = self.shopping_session(session_id)
        body = s.FiltersSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        unknown = sorted(set(request.data) - set(body.fields)) if hasattr(request.data, "keys") else []
        if unknown:
            return Response({name: ["Unknown filter."] for name in unknown}, status=status.HTTP_400_BAD_REQUEST)
        filters = dict(body.validated_data)
        keep_type = filters.pop("keep_type", None)
        return self.state(services.session_set_filters(session=session, filters=filters, keep_type=keep_type))


class FeedbackCreateView(SessionAPIView):
    """Add feedback: a mask over the part of the seed photo the shopper does not like."""

    @extend_schema(
        operation_id="sessions_feedback_create",
        tags=["sessions"],
        request=s.FeedbackCreateSerializer,
        parameters=[SESSION_ID, s.SlateQuerySerializer],
        responses={
            **{code: answer for code, answer in STATE.items() if code != 200},
            201: s.SessionStateSerializer,
            413: OpenApiResponse(description="Body larger than the mask limit."),
            422: NOT_READY,
        },
        summary="Add a region dislike painted on the current seed (PNG data URL or run-length mask).",
    )
    def post(self, request: Request, session_id: str) -> Response:
        session = self.shopping_session(session_id)
        if _content_length(request) > MAX_FEEDBACK_BODY_BYTES:  # refused before parsing
            return Response(
                {"mask": [f"The request is too large: at most {MAX_FEEDBACK_BODY_BYTES} bytes."]},
                status=status.HTTP_413_REQUEST_ENTITY_TOO_LARGE,
            )
        body = s.FeedbackCreateSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        event = services.feedback_add(session=session, **body.validated_data)
        return self.state(event.session, status.HTTP_201_CREATED)


class FeedbackUndoView(SessionAPIView):
    """Deactivate the most recent active feedback; the slate returns to what it was before it."""

    @extend_schema(
        operation_id="sessions_undo",
        tags=["sessions"],
        request=None,
        parameters=[SESSION_ID, s.SlateQuerySerializer],
        responses=STATE,
        summary="Undo the most recent active feedback.",
    )
    def post(self, request: Request, session_id: str) -> Response:
        session = self.shopping_session(session_id)
        services.feedback_undo(session=session)
        return self.state(session)


class FeedbackDetailView(SessionAPIView):
    """Deactivate one feedback of the history."""

    @extend_schema(
        operation_id="sessions_feedback_destroy",
        tags=["sessions"],
        parameters=[SESSION_ID, FEEDBACK_ID, s.SlateQuerySerializer],
        responses=STATE,
        summary="Remove one feedback (it stops steering the slate).",
    )
    def delete(self, request: Request, session_id: str, feedback_id: str) -> Response:
        session = self.shopping_session(session_id)
        services.feedback_remove(session=session, feedback_id=feedback_id)
        return self.state(session)


class PNGRenderer(BaseRenderer):
    """Lets clients ask for image/png; error bodies on this route are still JSON."""

    media_type = "image/png"
    format = "png"
    charset = None
    render_style = "binary"

    def render(self, data, accepted_media_type=None, renderer_context=None) -> bytes:
        return data if isinstance(data, bytes) else JSONRenderer().render(data)


class FeedbackMaskView(SessionAPIView):
    """The stored mask of one feedback as a PNG, for the history chips."""

    renderer_classes = [JSONRenderer, PNGRenderer]

    @extend_schema(
        operation_id="sessions_feedback_mask",
        tags=["sessions"],
        parameters=[SESSION_ID, FEEDBACK_ID],
        responses={(200, "image/png"): OpenApiTypes.BINARY, 404: NOT_FOUND},
        summary="The stored mask as a PNG (transparent background, painted area opaque), seed-image size.",
    )
    def get(self, request: Request, session_id: str, feedback_id: str) -> HttpResponse:
        session = self.shopping_session(session_id)
        event = selectors.feedback_get(session=session, feedback_id=feedback_id)
        mask = masks.mask_unpack(event.mask_bits, event.mask_width, event.mask_height)
        response = HttpResponse(masks.mask_to_png(mask), content_type="image/png")
        response["Cache-Control"] = "private, max-age=86400"  # a stored mask never changes
        return response


class SessionResetView(SessionAPIView):
    """Deactivate every feedback and forget visited seeds; the seed stays."""

    @extend_schema(
        operation_id="sessions_reset",
        tags=["sessions"],
        request=None,
        parameters=[SESSION_ID, s.SlateQuerySerializer],
        responses=STATE,
        summary="Start over on the current seed: all feedback inactive, visited seeds forgotten.",
    )
    def post(self, request: Request, session_id: str) -> Response:
        return self.state(services.session_reset(session=self.shopping_session(session_id)))


class ProductSimilarView(SessionAPIView):
    """Plain visual neighbours of a product, outside any session."""

    @extend_schema(
        operation_id="products_similar",
        tags=["products"],
        parameters=[
            OpenApiParameter("id", OpenApiTypes.INT, OpenApiParameter.PATH, description="Product id."),
            s.SimilarQuerySerializer,
        ],
        responses={200: s.SimilarSerializer, 400: BAD_REQUEST, 404: NOT_FOUND, 409: NOT_READY},
        summary="A product's visually nearest neighbours (no session), with optional filters.",
    )
    def get(self, request: Request, pk: int) -> Response:
        query = s.SimilarQuerySerializer(data=request.query_params)
        query.is_valid(raise_exception=True)
        params = dict(query.validated_data)
        page, k = params.pop("page"), params.pop("k")
        product, items = services.similar_products(product_id=pk, k=k, page=page, filters=params)
        data = {"product": product, "results": [item.__dict__ for item in items]}
        return Response(s.SimilarSerializer(data, context={"request": request}).data)
