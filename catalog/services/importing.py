"""The catalog import: CSV rows and photos into Product / ProductImage, in idempotent transactional batches."""

import logging
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from itertools import islice, repeat
from pathlib import Path

from django.db import DatabaseError, InterfaceError, OperationalError, transaction
from django.db.models import Prefetch
from django.utils import timezone

from catalog.models import EmbeddingStatus, Product, ProductImage
from catalog.services.csv_rows import KAGGLE, CatalogFileError, CatalogRow, catalog_rows, csv_count_rows, csv_text_read
from catalog.services.photos import photo_values
from catalog.services.report import ImportReport, Problem

logger = logging.getLogger(__name__)

# 500 rows per transaction: one SELECT and a few bulk statements per batch, short enough locks, and a failing
# batch re-done row by row costs at most 500 savepoints.
DEFAULT_BATCH_SIZE = 500

# Photo checks overlap file I/O with decoding; 4 threads keep 2 cores busy without crowding a shared machine.
IMAGE_WORKERS = 4

ProgressCallback = Callable[[int, int], None]


@dataclass
class _Planned:
    """What one row will write: the product (new or changed), the image (new or changed) and the outcome."""

    row: CatalogRow
    product: Product
    product_fields: list[str]
    is_new: bool
    image: ProductImage | None = None
    image_is_new: bool = False
    image_fields: list[str] = field(default_factory=list)
    problems: list[Problem] = field(default_factory=list)

    @property
    def outcome(self) -> str:
        """created, updated or unchanged (decided before writing, so it survives the write)."""
        if self.is_new:
            return "created"
        return "updated" if self.product_fields or self.image_fields or self.image_is_new else "unchanged"

    @property
    def image_file_written(self) -> bool:
        """True when this row stores a (new) photo file that needs an embedding."""
        return self.image is not None and (self.image_is_new or "file" in self.image_fields) and bool(self.image.file)


def _batches(rows: Iterable[CatalogRow], size: int) -> Iterator[list[CatalogRow]]:
    iterator = iter(rows)
    while batch := list(islice(iterator, size)):
        yield batch


def _photo_values(row: CatalogRow, root: Path, current: ProductImage | None) -> tuple[dict | None, list[Problem]]:
    return photo_values(row=row, root=root, current=current)


def _plan(row: CatalogRow, existing: Product | None, image: tuple[dict | None, list[Problem]]) -> _Planned:
    """Compare the row (and its checked photo) with what is stored and decide which fields to write."""
    values = dict(row.fields, is_active=True)
    if row.attributes is not None:
        values["attributes"] = row.attributes
    if existing is None:
        product, changed, is_new = Product(external_id=row.external_id, **values), [], True
    else:
        product, is_new = existing, False
        changed = [name for name, value in values.items() if getattr(existing, name) != value]
        for name in changed:
            setattr(product, name, values[name])
    current = existing.primary_image if existing is not None else None
    planned = _Planned(row, product, changed, is_new, problems=list(row.warnings))
    desired, problems = image
    planned.problems += problems
    if desired is None:
        return planned
    if current is None:
        planned.image, planned.image_is_new = ProductImage(position=0, **desired), True
        return planned
    image_fields = [name for name, value in desired.items() if getattr(current, name) != value]
    if image_fields:
        for name in image_fields:
            setattr(current, name, desired[name])
        planned.image, planned.image_fields = current, image_fields
    return planned


def _write_batch(plans: list[_Planned]) -> list[int]:
    """Bulk-write one batch in the current transaction; returns the ids of images to embed."""
    now = timezone.now()
    new_products = [p.product for p in plans if p.is_new]
    Product.objects.bulk_create(new_products)
    changed = [p for p in plans if p.product_fields]
    if changed:
        fields = sorted({name for p in changed for name in p.product_fields} | {"updated_at"})
        for p in changed:
            p.product.updated_at = now
        Product.objects.bulk_update([p.product for p in changed], fields)
    new_images = []
    for p in plans:
        if p.image_is_new:
            p.image.product = p.product
            new_images.append(p.image)
    ProductImage.objects.bulk_create(new_images)
    changed_images = [p for p in plans if p.image_fields]
    if changed_images:
        fields = sorted({name for p in changed_images for name in p.image_fields} | {"updated_at"})
        for p in changed_images:
            p.image.updated_at = now
        ProductImage.objects.bulk_update([p.image for p in changed_images], fields)
        _forget_old_embeddings([p.image.pk for p in changed_images if "file" in p.image_fields])
    return [p.image.pk for p in plans if p.image_file_written and p.image.embedding_status == EmbeddingStatus.PENDING]


def _forget_old_embeddings(image_ids: list[int]) -> None:
    """The photo of these images changed: their stored embeddings describe the old one, delete them (same batch)."""
    from embeddings.services.embedding import embeddings_forget

    if image_ids:
        embeddings_forget(image_ids=image_ids)


def _write_one(plan: _Planned) -> list[int]:
    """Fallback: write one row in its own savepoint."""
    with transaction.atomic():
        return _write_batch([plan])


def _reset_unsaved(plans: list[_Planned]) -> None:
    """After a rolled-back bulk_create, forget the primary keys it may have handed out."""
    for plan in plans:
        for obj, is_new in ((plan.product, plan.is_new), (plan.image, plan.image_is_new)):
            if obj is not None and is_new:
                obj.pk = None
                obj._state.adding = True


def _import_batch(
    rows: list[CatalogRow], root: Path, report: ImportReport, schedule: Callable, pool: ThreadPoolExecutor
) -> None:
    """Plan and write one batch in one transaction, falling back to per-row savepoints if it fails."""
    images = Prefetch("images", queryset=ProductImage.objects.order_by("position", "id"))
    existing = Product.objects.filter(external_id__in=[r.external_id for r in rows]).prefetch_related(images)
    by_id = {p.external_id: p for p in existing}
    currents = [by_id[r.external_id].primary_image if r.external_id in by_id else None for r in rows]
    # Reading, hashing, decoding and copying photos is I/O and C code that releases the GIL: use threads.
    checked = pool.map(_photo_values, rows, repeat(root), currents)
    plans = [_plan(row, by_id.get(row.external_id), image) for row, image in zip(rows, checked, strict=True)]
    written: list[_Planned] = []
    try:
        with transaction.atomic():
            to_embed = _write_batch([p for p in plans if p.outcome != "unchanged"])
            transaction.on_commit(lambda ids=to_embed: ids and schedule(image_ids=ids), robust=True)
        written = plans
    except (OperationalError, InterfaceError):
        raise  # the connection is gone (server restart, network): row-by-row would only fail N more times
    except DatabaseError as exc:
        logger.warning("batch of %d rows failed (%s): retrying row by row", len(rows), exc)
        _reset_unsaved(plans)
        to_embed = []
        with transaction.atomic():
            for plan in plans:
                if plan.outcome == "unchanged":
                    written.append(plan)
                    continue
                try:
                    to_embed += _write_one(plan)
                    written.append(plan)
                except DatabaseError as row_exc:
                    report.failed += 1
                    report.add(
                        Problem(plan.row.line, "row", f"database refused the row: {row_exc}", plan.row.external_id)
                    )
            transaction.on_commit(lambda ids=to_embed: ids and schedule(image_ids=ids), robust=True)
    for plan in written:
        setattr(report, plan.outcome, getattr(report, plan.outcome) + 1)
        for problem in plan.problems:
            report.add(problem)
        if plan.image is not None and (plan.image_is_new or plan.image_fields):
            if plan.image.embedding_status == EmbeddingStatus.FAILED:
                report.images_failed += 1
            elif plan.image_file_written:
                report.images_stored += 1
    report.images_scheduled += len(to_embed)


def _report_orphan_images(root: Path, seen: set[str], report: ImportReport) -> None:
    """Kaggle layout: photos in images/ that no row mentions are reported (and ignored)."""
    folder = root / "images"
    if not folder.is_dir():
        return
    for path in sorted(folder.iterdir()):
        if path.is_file() and path.stem not in seen:
            report.add(Problem(None, "image", f"images/{path.name} has no row in the CSV: ignored", level="warning"))


def _deactivate_missing(seen: set[str], report: ImportReport) -> None:
    """Deactivate (never delete) active products whose id is not in the file."""
    missing = [
        pk for pk, ext in Product.objects.filter(is_active=True).values_list("pk", "external_id") if ext not in seen
    ]
    for start in range(0, len(missing), DEFAULT_BATCH_SIZE):
        chunk = missing[start : start + DEFAULT_BATCH_SIZE]
        report.deactivated += Product.objects.filter(pk__in=chunk).update(is_active=False, updated_at=timezone.now())


def _no_schedule(*, image_ids: list[int]) -> None:
    """Leave the images pending."""


def catalog_import(
    *,
    csv_path: Path,
    images_root: Path | None = None,
    limit: int | None = None,
    batch_size: int = DEFAULT_BATCH_SIZE,
    deactivate_missing: bool = False,
    on_progress: ProgressCallback | None = None,
    embed: bool = True,
    report: ImportReport | None = None,
) -> ImportReport:
    """Import a catalog CSV (Kaggle styles.csv or generic) and its photos; raises CatalogFileError if unreadable.

    With embed=False new photos stay pending (no task is queued): embed them later in bulk. `report` may hold
    problems found before (e.g. while extracting a zip).
    """
    from embeddings.services import schedule_embedding

    schedule = schedule_embedding if embed else _no_schedule

    if deactivate_missing and limit is not None:
        raise CatalogFileError("--deactivate-missing needs the whole file: it cannot be combined with --limit")
    if batch_size < 1:
        raise CatalogFileError("the batch size must be at least 1")
    csv_path = Path(csv_path)
    root = Path(images_root) if images_root is not None else csv_path.parent
    report = report if report is not None else ImportReport()
    text = csv_text_read(csv_path=csv_path, report=report)
    report.total_rows = csv_count_rows(text=text) if limit is None else min(limit, csv_count_rows(text=text))
    seen: set[str] = set()
    layout, rows = catalog_rows(text=text, report=report, limit=limit, mentioned=seen)
    with ThreadPoolExecutor(max_workers=IMAGE_WORKERS, thread_name_prefix="catalog-import") as pool:
        for batch in _batches(rows, batch_size):
            _import_batch(batch, root, report, schedule, pool)
            if on_progress is not None:
                on_progress(report.processed, report.total_rows)
    if layout.name == KAGGLE and limit is None:
        _report_orphan_images(root, seen, report)
    if deactivate_missing:
        _deactivate_missing(seen, report)
    report.total_rows = max(report.total_rows, report.processed)
    report.problems.sort(key=lambda problem: problem.line or 0)  # file-level problems first, then by line
    if not embed:
        report.images_scheduled = 0
    if on_progress is not None:
        on_progress(report.processed, report.total_rows)
    return report
