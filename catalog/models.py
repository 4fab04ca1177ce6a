"""Catalog: products, their images and the import jobs that bring them in."""

from django.conf import settings
from django.db import models


class Product(models.Model):
    """A product of the shop, identified by the catalog's own id (external_id)."""

    external_id = models.CharField(max_length=64, unique=True)
    name = models.CharField(max_length=255)
    gender = models.CharField(max_length=32, blank=True, db_index=True)
    master_category = models.CharField(max_length=64, blank=True, db_index=True)
    sub_category = models.CharField(max_length=64, blank=True, db_index=True)
    article_type = models.CharField(max_length=64, blank=True, db_index=True)
    base_colour = models.CharField(max_length=64, blank=True, db_index=True)
    season = models.CharField(max_length=32, blank=True)
    year = models.PositiveSmallIntegerField(null=True, blank=True)
    usage = models.CharField(max_length=64, blank=True)
    # Columns of other catalogs that have no field of their own.
    attributes = models.JSONField(default=dict, blank=True)
    # Products removed from the catalog are deactivated, never deleted: feedback may point at them.
    is_active = models.BooleanField(default=True, db_index=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["id"]
        indexes = [models.Index(fields=["article_type", "gender", "base_colour"], name="product_type_gender_colour")]

    def __str__(self) -> str:
        return f"{self.name} ({self.external_id})"

    @property
    def primary_image(self) -> "ProductImage | None":
        images = getattr(self, "_prefetched_objects_cache", {}).get("images")
        if images is not None:
            return images[0] if images else None
        return self.images.order_by("position", "id").first()


class EmbeddingStatus(models.TextChoices):
    PENDING = "pending", "Pending"
    DONE = "done", "Done"
    FAILED = "failed", "Failed"


class ProductImage(models.Model):
    """One photo of a product; the first (position 0) is the one shown and embedded."""

    product = models.ForeignKey(Product, related_name="images", on_delete=models.CASCADE)
    position = models.PositiveSmallIntegerField(default=0)
    file = models.FileField(upload_to="products/", max_length=255, blank=True)
    # Where the importer found the file (path in the catalog folder or name in the zip).
    source_name = models.CharField(max_length=255, blank=True)
    # SHA-256 of the file bytes: identical photos are stored once and not embedded twice.
    content_hash = models.CharField(max_length=64, blank=True, db_index=True)
    width = models.PositiveIntegerField(null=True, blank=True)
    height = models.PositiveIntegerField(null=True, blank=True)
    bytes = models.PositiveIntegerField(null=True, blank=True)
    embedding_status = models.CharField(
        max_length=16, choices=EmbeddingStatus.choices, default=EmbeddingStatus.PENDING, db_index=True
    )
    embedding_error = models.TextField(blank=True)
    # What the importer did to make the file usable (e.g. "converted CMYK to RGB"); empty when stored as is.
    import_note = models.CharField(max_length=255, blank=True)
    # Which backbone version produced the current embedding (empty while pending).
    embedded_with = models.CharField(max_length=128, blank=True)
    embedded_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["product_id", "position", "id"]
        constraints = [models.UniqueConstraint(fields=["product", "position"], name="unique_image_position")]

    def __str__(self) -> str:
        return f"image {self.position} of {self.product_id}"


class ImportJob(models.Model):
    """A catalog import started from the admin: the uploaded files, progress and the final report."""

    class Status(models.TextChoices):
        QUEUED = "queued", "Queued"
        RUNNING = "running", "Running"
        DONE = "done", "Done"
        FAILED = "failed", "Failed"

    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL)
    csv_file = models.FileField(upload_to="imports/")
    images_zip = models.FileField(upload_to="imports/", blank=True)
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.QUEUED)
    total_rows = models.PositiveIntegerField(default=0)
    processed_rows = models.PositiveIntegerField(default=0)
    # Summary counts and the list of problems (line number, field, reason).
    report = models.JSONField(default=dict, blank=True)
    # Deactivate products missing from this (full) catalog file.
    deactivate_missing = models.BooleanField(default=False)
    error = models.TextField(blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"import #{self.pk} ({self.status})"
