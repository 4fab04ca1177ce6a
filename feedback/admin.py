"""Read-only admin for shopping sessions and their feedback (support and debugging; shoppers own the data)."""

import base64

from django.contrib import admin
from django.db.models import Count, QuerySet
from django.http import HttpRequest
from django.utils.html import format_html

from feedback.masks import mask_to_png, mask_unpack
from feedback.models import FeedbackEvent, ShoppingSession


class ReadOnlyAdmin(admin.ModelAdmin):
    """Nothing here is edited by hand: sessions change only through the shopper's own requests."""

    def has_add_permission(self, request: HttpRequest, obj=None) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj=None) -> bool:
        return False


class FeedbackInline(admin.TabularInline):
    model = FeedbackEvent
    fields = ["order", "seed", "active", "mask_width", "mask_height", "created_at", "mask"]
    readonly_fields = fields
    extra = 0
    can_delete = False
    show_change_link = False

    def has_add_permission(self, request: HttpRequest, obj=None) -> bool:
        return False

    @admin.display(description="mask")
    def mask(self, event: FeedbackEvent) -> str:
        png = mask_to_png(mask_unpack(event.mask_bits, event.mask_width, event.mask_height))
        data_url = "data:image/png;base64," + base64.b64encode(png).decode()
        return format_html('<img src="{}" width="64" style="background:#eee" alt="mask">', data_url)


@admin.register(ShoppingSession)
class ShoppingSessionAdmin(ReadOnlyAdmin):
    list_display = ["id", "user", "seed", "feedback_count", "created_at", "updated_at"]
    list_select_related = ["user", "seed"]
    search_fields = ["id", "user__username"]
    readonly_fields = ["id", "user", "seed", "visited", "filters", "last_order", "created_at", "updated_at"]
    exclude = ["owner_key", "shown"]
    inlines = [FeedbackInline]

    def get_queryset(self, request: HttpRequest) -> QuerySet[ShoppingSession]:
        return super().get_queryset(request).annotate(feedback_total=Count("events"))

    @admin.display(description="feedback", ordering="feedback_total")
    def feedback_count(self, session: ShoppingSession) -> int:
        return session.feedback_total
