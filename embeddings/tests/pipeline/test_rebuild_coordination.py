"""Coalesced rebuilds against the real Redis: many finished batches schedule one rebuild; one rebuild at a time."""

import time

import pytest

from embeddings.models import IndexVersion
from embeddings.services import coordination, embed_images_batch
from embeddings.services.index_scheduling import index_rebuild_if_dirty, index_request_rebuild
from embeddings.tests.products import make_products

pytestmark = pytest.mark.django_db


@pytest.fixture
def with_redis(settings, redis_client):
    """Coordination on the test Redis with a broker configured (not eager); clean keys around the test."""
    client = redis_client
    keys = (coordination.DIRTY_KEY, coordination.SCHEDULED_KEY, coordination.LOCK_KEY)
    client.delete(*keys)
    settings.CELERY_TASK_ALWAYS_EAGER = False
    yield client
    client.delete(*keys)


def test_many_batches_schedule_one_rebuild(with_redis, monkeypatch, django_capture_on_commit_callbacks):
    scheduled = []
    monkeypatch.setattr("embeddings.tasks.rebuild_index_task.apply_async", lambda **kw: scheduled.append(kw))
    with django_capture_on_commit_callbacks(execute=True):
        claimed = [index_request_rebuild() for _ in range(10)]
    assert claimed.count(True) == 1 and len(scheduled) == 1 and scheduled[0]["countdown"] >= 0
    assert coordination.index_is_dirty()
    coordination.index_release_schedule()  # the rebuild started: the next change may schedule another
    with django_capture_on_commit_callbacks(execute=True):
        assert index_request_rebuild() is True
    assert len(scheduled) == 2


def test_a_lost_scheduled_rebuild_blocks_scheduling_only_briefly(
    with_redis, settings, monkeypatch, django_capture_on_commit_callbacks
):
    # Regression: a worker killed while holding the countdown task left the claim for delay + 600 s, so no change
    # could schedule a rebuild until the message came back (up to the visibility timeout).
    settings.LOOKAWAY_INDEX_REBUILD_DELAY = 0
    monkeypatch.setattr("embeddings.services.index_scheduling.SCHEDULE_GRACE_SECONDS", 1)
    scheduled = []
    monkeypatch.setattr("embeddings.tasks.rebuild_index_task.apply_async", lambda **kw: scheduled.append(kw))
    with django_capture_on_commit_callbacks(execute=True):
        assert index_request_rebuild() is True  # ... and this task is lost with its worker
        assert index_request_rebuild() is False
    assert 0 < with_redis.ttl(coordination.SCHEDULED_KEY) <= 1
    time.sleep(1.2)
    with django_capture_on_commit_callbacks(execute=True):
        assert index_request_rebuild() is True
    assert len(scheduled) == 2


def test_rebuild_runs_only_when_dirty_and_one_at_a_time(with_redis, fake_backbone):
    images = make_products(6)
    embed_images_batch(image_ids=[i.id for i in images])
    assert index_rebuild_if_dirty(backbone_version="fake-v1") is None  # nothing marked dirty: no work
    coordination.index_mark_dirty()
    with coordination.rebuild_lock(timeout_seconds=30):
        with pytest.raises(coordination.RebuildInProgress):
            index_rebuild_if_dirty(backbone_version="fake-v1")
    assert coordination.index_is_dirty()  # the refused rebuild did not eat the flag
    record = index_rebuild_if_dirty(backbone_version="fake-v1")
    assert record.is_current and record.items == 6 and not coordination.index_is_dirty()
    assert index_rebuild_if_dirty(backbone_version="fake-v1") is None
    assert index_rebuild_if_dirty(backbone_version="fake-v1", force=True).items == 6
    assert IndexVersion.objects.count() == 2


def test_rebuild_lock_is_renewed_while_held_and_released_after(with_redis):
    with coordination.rebuild_lock(timeout_seconds=1):
        time.sleep(1.6)  # longer than the TTL: only the heartbeat keeps it
        assert with_redis.exists(coordination.LOCK_KEY)
        with pytest.raises(coordination.RebuildInProgress):
            with coordination.rebuild_lock(timeout_seconds=1):
                pass
    assert not with_redis.exists(coordination.LOCK_KEY)


def test_eager_mode_never_schedules_per_batch(settings, monkeypatch):
    settings.CELERY_TASK_ALWAYS_EAGER = True
    monkeypatch.setattr("embeddings.tasks.rebuild_index_task.apply_async", lambda **kw: pytest.fail("scheduled"))
    assert index_request_rebuild() is False
