"""Request and response shapes of the session API (thin: validation of types and ranges only)."""

from __future__ import annotations

from django.conf import settings
from django.urls import reverse
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from catalog.api.serializers import ProductCardSerializer
from feedback import masks
from feedback.models import FeedbackEvent

MAX_K = 50  # products per slate page; more is a catalog listing, not a recommendation
MAX_PAGE = 50  # slate pages; the engine's candidate pools are a few hundred products deep


class SlateQuerySerializer(serializers.Serializer):
    """Query parameters choosing one page of a slate."""

    page = serializers.IntegerField(min_value=1, max_value=MAX_PAGE, default=1)
    k = serializers.IntegerField(min_value=1, max_value=MAX_K, required=False)

    def validate(self, attrs: dict) -> dict:
        attrs.setdefault("k", settings.LOOKAWAY_SLATE_SIZE)
        return attrs


class FilterFieldsMixin(serializers.Serializer):
    """The four slate filters, each an exact Product attribute value (empty: no filter)."""

    gender = serializers.CharField(max_length=64, required=False, allow_blank=True)
    master_category = serializers.CharField(max_length=64, required=False, allow_blank=True)
    article_type = serializers.CharField(max_length=64, required=False, allow_blank=True)
    base_colour = serializers.CharField(max_length=64, required=False, allow_blank=True)


class SimilarQuerySerializer(SlateQuerySerializer, FilterFieldsMixin):
    """Query parameters of the `similar` endpoint."""


class FiltersSerializer(FilterFieldsMixin):
    """Body of POST sessions/{id}/filters/: the filters replace the previous ones."""

    keep_type = serializers.BooleanField(
        required=False,
        help_text="Show the seed's article type and gender first (the default filter, on for a new session); false "
        "removes it. Missing: unchanged.",
    )


class SessionCreateSerializer(serializers.Serializer):
    """Body of POST sessions/."""

    seed_id = serializers.IntegerField(required=False, allow_null=True, help_text="Product to start on.")


class SeedSerializer(serializers.Serializer):
    """Body of POST sessions/{id}/seed/."""

    product_id = serializers.IntegerField(help_text="The new seed product.")


@extend_schema_field(
    {"type": "array", "items": {"type": "integer", "minimum": 0}, "maxItems": masks.MAX_PAYLOAD_BYTES}
)
class RunLengthField(serializers.Field):
    """A list of non-negative integer counts, checked in one pass.

    DRF's ListField(child=IntegerField) runs a field per item (~10 us each): a 2 MB body of a million zeros kept a
    worker busy for seconds before the mask was refused. Errors keep ListField's shape: {"<index>": [message]}.
    """

    default_error_messages = {
        "not_a_list": 'Expected a list of items but got type "{input_type}".',
        "max_length": "Ensure this field has no more than {max_length} elements.",
        "invalid": "A valid integer is required.",
        "min_value": "Ensure this value is greater than or equal to 0.",
    }

    def __init__(self, *, max_length: int, **kwargs) -> None:
        super().__init__(**kwargs)
        self.max_length = max_length

    def to_internal_value(self, data: object) -> list[int]:
        if not isinstance(data, list):
            self.fail("not_a_list", input_type=type(data).__name__)
        if len(data) > self.max_length:
            self.fail("max_length", max_length=self.max_length)
        for index, count in enumerate(data):
            if type(count) is not int:  # JSON integers only: no bools, floats or strings
                raise serializers.ValidationError({str(index): [self.error_messages["invalid"]]})
            if count < 0:
                raise serializers.ValidationError({str(index): [self.error_messages["min_value"]]})
        return data

    def to_representation(self, value: list[int]) -> list[int]:
        return list(value)


class FeedbackCreateSerializer(serializers.Serializer):
    """Body of POST sessions/{id}/feedback/: one mask, drawn over the seed photo as displayed (width x height)."""

    mask = serializers.CharField(
        required=False,
        trim_whitespace=False,
        max_length=masks.MAX_PAYLOAD_BYTES,
        help_text="PNG data URL 'data:image/png;base64,...' of width x height pixels; painted = alpha > 0 "
        "(PNG with alpha) or non-black (PNG without alpha).",
    )
    rle = RunLengthField(
        required=False,
        max_length=masks.MAX_PAYLOAD_BYTES,
        help_text="Run-length counts over the pixels in row-major order, alternating unpainted/painted, starting "
        "with unpainted; they sum to width * height.",
    )
    width = serializers.IntegerField(min_value=1, max_value=masks.MAX_SIDE, help_text="Displayed image width.")
    height = serializers.IntegerField(min_value=1, max_value=masks.MAX_SIDE, help_text="Displayed image height.")
    seed_id = serializers.IntegerField(
        required=False, help_text="The seed the mask was painted on; refused when the session has moved on."
    )

    def validate(self, attrs: dict) -> dict:
        if ("mask" in attrs) == ("rle" in attrs):
            raise serializers.ValidationError({"mask": ["Send exactly one of `mask` (PNG data URL) or `rle`."]})
        return attrs


class SlateItemSerializer(serializers.Serializer):
    """One recommendation."""

    product = ProductCardSerializer()
    score = serializers.FloatField()
    reason = serializers.CharField()


class SlateSerializer(serializers.Serializer):
    """One page of a slate."""

    page = serializers.IntegerField()
    k = serializers.IntegerField()
    items = SlateItemSerializer(many=True)


class FeedbackSerializer(serializers.ModelSerializer):
    """One feedback of the history (inactive ones were undone or removed)."""

    seed = ProductCardSerializer()
    paused = serializers.SerializerMethodField(
        help_text="Given on another article type than the current seed's: kept but not steering this slate; it "
        "steers again when the shopper comes back to that type."
    )
    mask_url = serializers.SerializerMethodField()

    class Meta:
        model = FeedbackEvent
        fields = ["id", "order", "seed", "active", "paused", "interpreted_as", "created_at", "mask_url"]
        extra_kwargs = {
            "interpreted_as": {
                "help_text": "What the engine took the mask for: `region` (a part of the product, compared with "
                'candidates where painted) or `whole_item` (a mask over nearly the whole product: "not this one").'
            }
        }
        read_only_fields = fields

    @extend_schema_field(serializers.BooleanField())
    def get_paused(self, event: FeedbackEvent) -> bool:
        """Active feedback given on another article type than the current seed's: kept, and steering again when
        the shopper comes back to that type."""
        return event.pk in self.context.get("paused", ())

    @extend_schema_field(serializers.URLField())
    def get_mask_url(self, event: FeedbackEvent) -> str:
        url = reverse("api:session-feedback-mask", kwargs={"session_id": event.session_id, "feedback_id": event.pk})
        request = self.context.get("request")
        return request.build_absolute_uri(url) if request is not None else url


class DefaultFilterSerializer(serializers.Serializer):
    """The default type filter a slate applied (only the fields it set)."""

    article_type = serializers.CharField(required=False)
    gender = serializers.CharField(required=False)


class FiltersOutSerializer(FilterFieldsMixin):
    """The session's current filters (only the ones set)."""


class SessionStateSerializer(serializers.Serializer):
    """A session's state: seed, visited seeds, filters, feedback history and one slate page."""

    id = serializers.UUIDField(source="session.id")
    seed = ProductCardSerializer(allow_null=True)
    visited = serializers.ListField(child=serializers.IntegerField(), source="session.visited")
    filters = FiltersOutSerializer(source="session.filters")
    keep_type = serializers.BooleanField(
        source="session.keep_type", help_text="Whether the default type filter is on (see default_filter)."
    )
    default_filter = DefaultFilterSerializer(
        help_text="The default filter this slate applied: products of the seed's article type and gender first, "
        "topped up with others only when too few remain. Empty when removed (keep_type false), when the shopper's "
        "own filters set those fields, or when the seed has no such attributes."
    )
    feedback = FeedbackSerializer(many=True)
    slate = serializers.SerializerMethodField()

    @extend_schema_field(SlateSerializer)
    def get_slate(self, state) -> dict:
        return SlateSerializer({"page": state.page, "k": state.k, "items": state.items}, context=self.context).data


class SimilarSerializer(serializers.Serializer):
    """A product and its nearest neighbours."""

    product = ProductCardSerializer()
    results = SlateItemSerializer(many=True)
