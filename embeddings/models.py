"""Stored embeddings (one per image and backbone version) and the Annoy index versions built from them."""

from django.db import models


class ImageEmbedding(models.Model):
    """What the backbone computed for one product image: global vector, reduced spatial map, colour grid."""

    image = models.ForeignKey("catalog.ProductImage", related_name="embeddings", on_delete=models.CASCADE)
    backbone_version = models.CharField(max_length=128, db_index=True)
    dimension = models.PositiveIntegerField()
    # float32 little-endian, L2-normalised, `dimension` values.
    vector = models.BinaryField()
    # float16 (grid, grid, channels) reduced spatial feature map; shape in spatial_shape.
    spatial = models.BinaryField()
    spatial_shape = models.JSONField(default=list)
    # float16 (grid, grid, 3) mean CIELAB colour per cell.
    colours = models.BinaryField()
    # When this embedding was (re)computed: the "fresh" set is everything newer than the current index build.
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["image", "backbone_version"], name="unique_image_backbone")]
        indexes = [models.Index(fields=["backbone_version", "created_at"], name="embedding_version_created")]

    def __str__(self) -> str:
        return f"embedding of image {self.image_id} by {self.backbone_version}"


class IndexVersion(models.Model):
    """One immutable Annoy index build; exactly one is current at a time."""

    version = models.CharField(max_length=64, unique=True)
    path = models.CharField(max_length=500)
    items = models.PositiveIntegerField()
    dimension = models.PositiveIntegerField()
    metric = models.CharField(max_length=16, default="angular")
    trees = models.PositiveIntegerField()
    search_k = models.IntegerField(default=-1)
    build_seconds = models.FloatField()
    checksum = models.CharField(max_length=64)
    backbone_version = models.CharField(max_length=128)
    is_current = models.BooleanField(default=False, db_index=True)
    # Embeddings computed after this instant are not in the index: readers search them exactly ("fresh" set).
    snapshot_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"index {self.version} ({self.items} items)"
