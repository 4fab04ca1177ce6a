"""Shopping sessions and their feedback events (a painted region the shopper does not like, on one seed)."""

import uuid

from django.conf import settings
from django.db import models


class ShoppingSession(models.Model):
    """One shopper's walk through the catalog: current seed, seeds left behind, filters and feedback.

    The id is a random UUID4 (unguessable). A session belongs to the browser that created it, through
    `owner_key`, a random token kept in that browser's Django session (it survives the session key rotation
    at login), and to the signed-in user who created it, if any.
    """

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    owner_key = models.CharField(max_length=64, blank=True, db_index=True)
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.CASCADE, related_name="shopping_sessions"
    )
    # Products are deactivated, never deleted; PROTECT keeps a session's history intact.
    seed = models.ForeignKey("catalog.Product", null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    # Ids of seeds shown before the current one (in the order they were left); never recommended again.
    visited = models.JSONField(default=list, blank=True)
    # Ids of products served in slates so far (for engines that want to vary what they show).
    shown = models.JSONField(default=list, blank=True)
    # Slate filters: any of gender, master_category, article_type, base_colour (exact values).
    filters = models.JSONField(default=dict, blank=True)
    # Keep the product: slates show the current seed's article type and gender first (a default filter the shopper
    # sees as a chip and may remove; the shopper's own filters on those fields win).
    keep_type = models.BooleanField(default=True)
    # Highest feedback order handed out so far; incremented under the session's row lock.
    last_order = models.PositiveIntegerField(default=0)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"session {self.id}"


class FeedbackEvent(models.Model):
    """One region dislike: the mask painted on a seed and what the engine derived from it."""

    session = models.ForeignKey(ShoppingSession, related_name="events", on_delete=models.CASCADE)
    seed = models.ForeignKey("catalog.Product", on_delete=models.PROTECT, related_name="+")
    # np.packbits of the boolean mask (row-major), in the seed image's own pixel coordinates.
    mask_bits = models.BinaryField()
    mask_width = models.PositiveIntegerField()
    mask_height = models.PositiveIntegerField()
    # FeedbackSignal.to_bytes() from embeddings.engine.types.
    signal = models.BinaryField()
    order = models.PositiveIntegerField()
    # The seed's article type when it was painted: the feedback steers slates of that type only (kept, but paused,
    # while the shopper looks at another type).
    seed_type = models.CharField(max_length=64, blank=True, default="")
    # What the engine took the mask for: a region of the product, or the whole product ("not this one").
    interpreted_as = models.CharField(
        max_length=16, choices=[("region", "region"), ("whole_item", "whole item")], default="region"
    )
    # False once undone or removed; inactive events are kept for the record but no longer steer the slate.
    active = models.BooleanField(default=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["session_id", "order"]
        constraints = [models.UniqueConstraint(fields=["session", "order"], name="unique_feedback_order")]

    def __str__(self) -> str:
        return f"feedback {self.order} of {self.session_id}"
