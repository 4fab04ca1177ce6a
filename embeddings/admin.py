"""Admin for embeddings: progress per backbone, failures with reasons, index versions and a rebuild button."""

from __future__ import annotations

from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponseRedirect
from django.urls import path, reverse
from django.views.decorators.http import require_POST

from catalog.models import EmbeddingStatus, ProductImage
from embeddings.models import ImageEmbedding, IndexVersion
from embeddings.selectors import embedding_progress

FAILURES_SHOWN = 50


def enqueue_rebuild(request: HttpRequest) -> None:
    """Queue a forced index rebuild (nothing was written in this request, so no need to wait for a commit)."""
    from embeddings.tasks import rebuild_index_task

    try:
        rebuild_index_task.delay(force=True)
    except Exception as exc:  # eager mode (no broker) runs the build right here: report its error, not a 500
        messages.error(request, f"Index rebuild failed: {exc}")
    else:
        messages.success(request, "Index rebuild queued (a new version becomes current once it is verified).")


@admin.register(IndexVersion)
class IndexVersionAdmin(admin.ModelAdmin):
    """Index versions, newest first, the current one marked; staff can rebuild."""

    change_list_template = "admin/embeddings/indexversion/change_list.html"
    list_display = (
        "version",
        "is_current",
        "items",
        "trees",
        "search_k",
        "build_seconds",
        "backbone_version",
        "created_at",
    )
    list_filter = ("is_current", "backbone_version")
    readonly_fields = [f.name for f in IndexVersion._meta.fields]
    actions = ["rebuild_index"]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj=None) -> bool:
        return False

    @admin.action(description="Rebuild the index now")
    def rebuild_index(self, request: HttpRequest, queryset) -> None:
        enqueue_rebuild(request)

    def get_urls(self):
        urls = [
            path(
                "rebuild/",
                self.admin_site.admin_view(require_POST(self.rebuild_view)),
                name="embeddings_indexversion_rebuild",
            ),
        ]
        return urls + super().get_urls()

    def rebuild_view(self, request: HttpRequest) -> HttpResponseRedirect:
        if not self.has_change_permission(request):
            raise PermissionDenied
        enqueue_rebuild(request)
        return HttpResponseRedirect(reverse("admin:embeddings_indexversion_changelist"))

    def changelist_view(self, request: HttpRequest, extra_context: dict | None = None):
        failures = ProductImage.objects.filter(embedding_status=EmbeddingStatus.FAILED).select_related("product")
        extra = {
            "embedding_progress": embedding_progress(),
            "embedding_failures": failures.order_by("-updated_at")[:FAILURES_SHOWN],
            "embedding_failure_count": failures.count(),
            "rebuild_url": reverse("admin:embeddings_indexversion_rebuild"),
            "can_rebuild": self.has_change_permission(request),
        }
        return super().changelist_view(request, extra_context={**extra, **(extra_context or {})})


@admin.register(ImageEmbedding)
class ImageEmbeddingAdmin(admin.ModelAdmin):
    """Stored embeddings (read-only)."""

    list_display = ("image", "backbone_version", "dimension", "created_at")
    list_filter = ("backbone_version",)
    list_select_related = ("image",)
    raw_id_fields = ("image",)
    exclude = ("vector", "spatial", "colours")
    readonly_fields = ("image", "backbone_version", "dimension", "spatial_shape", "created_at")

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False
