"""Django admin for the catalog: products with thumbnails and filters, images, and the "Import catalog" pages."""

from django.contrib import admin, messages
from django.db.models import Prefetch, QuerySet
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import get_object_or_404, redirect
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils.html import format_html
from django.views.decorators.csrf import csrf_exempt, csrf_protect

from catalog.forms import CatalogImportForm, import_field_limits
from catalog.models import ImportJob, Product, ProductImage
from catalog.selectors import product_hidden_reason, products_recommendable
from catalog.services.jobs import import_job_create
from catalog.services.report import ImportReport
from catalog.uploads import (
    LimitedUploadHandler,
    import_max_upload_bytes,
    upload_limit_install,
    upload_refused_by_length,
)

THUMBNAIL_PX = 64
# An import creates and updates products (and deactivates them with "deactivate missing"), so it needs those rights
# besides the right to create the job itself.
IMPORT_PERMISSIONS = ("catalog.add_importjob", "catalog.add_product", "catalog.change_product")


def thumbnail(image: ProductImage | None, size: int = THUMBNAIL_PX) -> str:
    """An <img> tag for a stored photo, or a dash."""
    if image is None or not image.file:
        return "—"
    return format_html(
        '<img src="{}" alt="" loading="lazy" style="width:{}px;height:{}px;object-fit:contain;background:#fff">',
        image.file.url,
        size,
        size,
    )


class ProductImageInline(admin.TabularInline):
    """The photos of a product, with previews, embedding status and error."""

    model = ProductImage
    extra = 0
    fields = ["preview", "position", "file", "source_name", "width", "height", "embedding_status", "embedding_error"]
    readonly_fields = ["preview", "source_name", "width", "height", "embedding_status", "embedding_error"]

    @admin.display(description="Preview")
    def preview(self, image: ProductImage) -> str:
        return thumbnail(image, 96)


class ShownToShoppersFilter(admin.SimpleListFilter):
    """Products shoppers see (catalog.selectors.products_recommendable) or not."""

    title = "shown to shoppers"
    parameter_name = "shown"

    def lookups(self, request: HttpRequest, model_admin: admin.ModelAdmin) -> list[tuple[str, str]]:
        return [("yes", "Yes"), ("no", "No")]

    def queryset(self, request: HttpRequest, queryset: QuerySet[Product]) -> QuerySet[Product]:
        shown = products_recommendable().values("pk")
        if self.value() == "yes":
            return queryset.filter(pk__in=shown)
        if self.value() == "no":
            return queryset.exclude(pk__in=shown)
        return queryset


@admin.register(Product)
class ProductAdmin(admin.ModelAdmin):
    """Products: thumbnails, search by name or external id, filters by attribute and embedding status."""

    list_display = [
        "preview",
        "name",
        "external_id",
        "article_type",
        "base_colour",
        "gender",
        "embedding",
        "is_active",
        "shown_to_shoppers",
    ]
    list_display_links = ["preview", "name"]
    list_filter = [
        ShownToShoppersFilter,
        "is_active",
        "gender",
        "master_category",
        "sub_category",
        "article_type",
        "base_colour",
        "images__embedding_status",
    ]
    search_fields = ["name", "=external_id"]
    list_per_page = 50
    readonly_fields = ["created_at", "updated_at"]
    inlines = [ProductImageInline]

    def get_queryset(self, request: HttpRequest) -> QuerySet[Product]:
        images = Prefetch("images", queryset=ProductImage.objects.order_by("position", "id"))
        return super().get_queryset(request).prefetch_related(images)

    @admin.display(description="Photo")
    def preview(self, product: Product) -> str:
        return thumbnail(product.primary_image)

    @admin.display(description="Embedding")
    def embedding(self, product: Product) -> str:
        image = product.primary_image
        return image.get_embedding_status_display() if image else "no photo"

    @admin.display(description="Shown to shoppers")
    def shown_to_shoppers(self, product: Product) -> str:
        reason = product_hidden_reason(product=product)
        return f"no: {reason}" if reason else "yes"


@admin.register(ProductImage)
class ProductImageAdmin(admin.ModelAdmin):
    """Product photos: status filter and the error that stopped an embedding or import."""

    list_display = ["preview", "product", "position", "embedding_status", "embedded_with", "import_note", "error"]
    list_filter = ["embedding_status", "embedded_with"]
    list_select_related = ["product"]
    search_fields = ["product__name", "=product__external_id", "=content_hash", "source_name"]
    raw_id_fields = ["product"]
    readonly_fields = [
        "preview",
        "content_hash",
        "width",
        "height",
        "bytes",
        "import_note",
        "created_at",
        "updated_at",
    ]

    @admin.display(description="Photo")
    def preview(self, image: ProductImage) -> str:
        return thumbnail(image)

    @admin.display(description="Error")
    def error(self, image: ProductImage) -> str:
        return image.embedding_error[:120]


@admin.register(ImportJob)
class ImportJobAdmin(admin.ModelAdmin):
    """Import jobs: the "Import catalog" form and a progress/report page per job."""

    list_display = ["__str__", "status", "progress", "created_by", "created_at", "finished_at"]
    list_filter = ["status"]
    list_select_related = ["created_by"]

    def get_urls(self):
        own = [
            # CSRF is checked inside import_view, after the upload limit is in place: Django's CSRF middleware would
            # read request.POST first, spooling the whole body to disk before any limit could apply.
            path(
                "import/", self.admin_site.admin_view(csrf_exempt(self.import_view)), name="catalog_importjob_import"
            ),
            path(
                "<int:job_id>/report/", self.admin_site.admin_view(self.report_view), name="catalog_importjob_report"
            ),
        ]
        return own + super().get_urls()

    @admin.display(description="Rows")
    def progress(self, job: ImportJob) -> str:
        return f"{job.processed_rows} / {job.total_rows}"

    def has_change_permission(self, request: HttpRequest, obj: ImportJob | None = None) -> bool:
        return False

    def add_view(self, request: HttpRequest, form_url: str = "", extra_context=None) -> HttpResponse:
        return redirect("admin:catalog_importjob_import")

    def change_view(self, request: HttpRequest, object_id: str, form_url: str = "", extra_context=None):
        return redirect("admin:catalog_importjob_report", job_id=object_id)

    def import_view(self, request: HttpRequest) -> HttpResponse:
        """Upload a CSV (+ zip) within the size limits, create the job, queue the import, go to the job page."""
        if not request.user.has_perms(IMPORT_PERMISSIONS):
            return HttpResponse(
                "You may not import catalogs: it needs the rights to add import jobs and to add and change products.",
                status=403,
            )
        if request.method == "POST":
            refused = upload_refused_by_length(request=request, limit=import_max_upload_bytes())
            if refused:  # not even CSRF-checked: nothing is read, nothing is done
                return self._import_page(request, CatalogImportForm(data={}, upload_refused=refused), status=413)
            limiter = upload_limit_install(request=request, field_limits=import_field_limits())
            return csrf_protect(self._import_post)(request, limiter)
        return self._import_page(request, CatalogImportForm())

    def _import_post(self, request: HttpRequest, limiter: LimitedUploadHandler) -> HttpResponse:
        form = CatalogImportForm(request.POST, request.FILES, upload_refused=limiter.refused)
        if not form.is_valid():
            return self._import_page(request, form, status=413 if limiter.refused else 200)
        job = import_job_create(
            csv_file=form.cleaned_data["csv_file"],
            images_zip=form.cleaned_data["images_zip"],
            created_by=request.user,
            deactivate_missing=form.cleaned_data["deactivate_missing"],
        )
        messages.info(request, f"Import #{job.pk} queued.")
        return HttpResponseRedirect(reverse("admin:catalog_importjob_report", args=[job.pk]))

    def _import_page(self, request: HttpRequest, form: CatalogImportForm, status: int = 200) -> HttpResponse:
        context = {**self.admin_site.each_context(request), "title": "Import catalog", "form": form, "opts": self.opts}
        return TemplateResponse(request, "admin/catalog/import_form.html", context, status=status)

    def report_view(self, request: HttpRequest, job_id: int) -> HttpResponse:
        """Progress (auto-refresh while running) and the report: counts and problems."""
        if not self.has_view_permission(request):
            return HttpResponse("You may not see import jobs.", status=403)
        job = get_object_or_404(ImportJob.objects.select_related("created_by"), pk=job_id)
        report = ImportReport.from_dict(job.report) if job.report else None
        running = job.status in (ImportJob.Status.QUEUED, ImportJob.Status.RUNNING)
        percent = int(100 * job.processed_rows / job.total_rows) if job.total_rows else (0 if running else 100)
        context = {
            **self.admin_site.each_context(request),
            "title": f"Import #{job.pk}",
            "job": job,
            "report": report,
            "running": running,
            "percent": min(percent, 100),
            "opts": self.opts,
        }
        return TemplateResponse(request, "admin/catalog/import_job.html", context)
