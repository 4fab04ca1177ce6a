"""Scheduling index rebuilds: mark the index dirty, queue one coalesced rebuild, run it only if still needed."""

from __future__ import annotations

from django.conf import settings
from django.db import transaction

from embeddings.models import IndexVersion
from embeddings.services import coordination
from embeddings.services.index_builder import build_locked, index_params

# How long a claimed rebuild blocks scheduling another one past its countdown. Short, so a worker killed while
# holding the countdown task does not hold back the index for the visibility timeout; a duplicate rebuild is
# harmless (it finds the dirty flag cleared, and the lock serialises builds).
SCHEDULE_GRACE_SECONDS = 60


def index_request_rebuild() -> bool:
    """Note that embeddings changed and schedule one coalesced rebuild; True if this call scheduled it."""
    if settings.CELERY_TASK_ALWAYS_EAGER:
        return False  # single process (demo, tests): the caller builds once at the end with build_index
    from embeddings.tasks import rebuild_index_task

    delay = settings.LOOKAWAY_INDEX_REBUILD_DELAY
    coordination.index_mark_dirty()
    if not coordination.index_claim_schedule(ttl_seconds=delay + SCHEDULE_GRACE_SECONDS):
        return False
    transaction.on_commit(lambda: rebuild_index_task.apply_async(countdown=delay))
    return True


def index_rebuild_if_dirty(*, backbone_version: str, force: bool = False) -> IndexVersion | None:
    """Run the scheduled rebuild: build only if something changed since the last one (or if forced)."""
    coordination.index_release_schedule()
    with coordination.rebuild_lock():
        if not coordination.index_take_dirty() and not force:
            return None
        try:
            return build_locked(backbone_version=backbone_version, params=index_params(), progress=None)
        except BaseException:
            coordination.index_mark_dirty()  # try again next time
            raise
