"""Index versions on disk and their records: activate (swap CURRENT), roll back, prune, choose the one to serve."""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from datetime import datetime

from django.conf import settings
from django.db import transaction

from embeddings.engine.index import AnnoyCatalogView, IndexStore, read_manifest, verify_index_version
from embeddings.engine.index.store import IndexPointerError
from embeddings.models import IndexVersion

logger = logging.getLogger(__name__)


class IndexBuildError(Exception):
    """An index cannot be built or activated (nothing to index, unknown version, ...)."""


def index_store() -> IndexStore:
    """The index root configured for this deployment."""
    return IndexStore(settings.LOOKAWAY_INDEX_DIR)


def index_version_record(*, store: IndexStore, version: str, manifest: dict | None = None) -> IndexVersion:
    """The IndexVersion row of a version on disk, created from its manifest (read from disk unless given)."""
    directory = store.version_dir(version)
    manifest = manifest if manifest is not None else read_manifest(directory)
    snapshot = manifest.get("snapshot_at")
    return IndexVersion.objects.create(
        version=version,
        path=str(directory),
        items=manifest["items"],
        dimension=manifest["dim"],
        metric=manifest["metric"],
        trees=manifest["trees"],
        search_k=manifest["search_k"],
        build_seconds=manifest.get("build_seconds", 0.0),
        checksum=manifest["checksum"],
        backbone_version=manifest["backbone_version"],
        snapshot_at=datetime.fromisoformat(snapshot) if snapshot else None,
    )


def index_activate(*, version: str) -> IndexVersion:
    """Point CURRENT at a complete version (atomic file swap) and mark it current in the database."""
    store = index_store()
    if version not in store.versions():
        raise IndexBuildError(f"index version {version} is not on disk")
    store.set_current(version)
    with transaction.atomic():
        IndexVersion.objects.filter(is_current=True).exclude(version=version).update(is_current=False)
        record = IndexVersion.objects.filter(version=version).first()
        if record is None:
            record = index_version_record(store=store, version=version)
        record.is_current = True
        record.save(update_fields=["is_current"])
    return record


def index_rollback(*, to_version: str | None = None) -> IndexVersion:
    """Make the previous version (or `to_version`) current again, after verifying it.

    Without `to_version`, the newest older version that verifies (damaged ones are skipped and reported); with an
    unreadable CURRENT pointer, the newest version that verifies.
    """
    store = index_store()
    versions = store.versions()
    try:
        current = store.current_version()
    except IndexPointerError:
        current = None  # a garbage pointer: any version that verifies is better
    if to_version is not None:
        if to_version not in versions:
            known = ", ".join(versions) or "none"
            raise IndexBuildError(f"index version {to_version} is not on disk (known: {known})")
        candidates = [to_version]
    else:
        candidates = [v for v in reversed(versions) if current is None or v < current]
        if not candidates:
            raise IndexBuildError("no earlier index version to roll back to")
    problems = []
    for version in candidates:
        try:
            verify_index_version(store.version_dir(version))
        except Exception as exc:  # noqa: BLE001 - a damaged version is skipped, with its reason
            problems.append(f"index version {version} failed verification: {exc}")
            logger.error("%s", problems[-1])
            continue
        return index_activate(version=version)
    raise IndexBuildError("; ".join(problems))


def index_prune() -> list[str]:
    """Delete versions beyond LOOKAWAY_INDEX_KEEP_VERSIONS (never the current one) and their records."""
    deleted = index_store().prune(keep=settings.LOOKAWAY_INDEX_KEEP_VERSIONS)
    if deleted:
        IndexVersion.objects.filter(version__in=deleted).delete()
    return deleted


@dataclass
class IndexChoice:
    """Which index version readers can serve: the current one if it verifies, else an older verified one, else
    none (exact search over the database); `problems` says what was wrong (empty when all is well)."""

    view: AnnoyCatalogView | None
    current: str | None
    problems: list[str] = field(default_factory=list)

    @property
    def version(self) -> str | None:
        return self.view.version if self.view is not None else None

    @property
    def degraded(self) -> bool:
        return bool(self.problems)


def index_choose_usable(*, backbone_version: str, store: IndexStore | None = None) -> IndexChoice:
    """The version a reader should memory-map, after verifying it (files, sizes, checksum, self-queries).

    A damaged current version (truncated or overwritten file, missing file, bad manifest, unreadable CURRENT) is
    never loaded: the newest older version built by this backbone that verifies is served instead, or none (exact
    search). Fix with `manage.py rollback_index` (makes that fallback current) or `manage.py build_index`.
    """
    store = store or index_store()
    problems: list[str] = []
    try:
        current = store.current_version()
    except IndexPointerError as exc:
        problems.append(str(exc))
        current, candidates = None, list(reversed(store.versions()))
    else:
        if current is None:
            return IndexChoice(view=None, current=None)
        candidates = [current, *(v for v in reversed(store.versions()) if v < current)]
    for version in candidates:
        try:
            view = verify_index_version(store.version_dir(version), samples=2, full=None)
        except Exception as exc:  # noqa: BLE001 - any damage means "do not serve this version"
            problems.append(f"index version {version} is unusable: {exc}")
            continue
        if view.manifest.get("backbone_version") != backbone_version:
            if version == current:
                # Expected after a backbone change: exact search until build_index (not damage).
                return IndexChoice(view=None, current=current, problems=problems)
            continue
        return IndexChoice(view=view, current=current, problems=problems)
    return IndexChoice(view=None, current=current, problems=problems)
