"""Task wiring: routes match the registered tasks, delivery options, and retries only for transient errors."""

import pytest
import redis
from celery.exceptions import Retry
from django.conf import settings
from django.db import OperationalError

from config.celery_app import app
from embeddings.models import ImageEmbedding
from embeddings.tasks import embed_images_task, rebuild_index_task, requeue_stale_embeddings_task
from embeddings.tests.products import make_product, make_products


def test_routes_name_registered_tasks_and_tf_work_goes_to_its_queue():
    app.loader.import_default_modules()
    for name in settings.CELERY_TASK_ROUTES:
        if name.startswith("embeddings."):
            assert name in app.tasks, f"route for unknown task {name}"
    assert settings.CELERY_TASK_ROUTES[embed_images_task.name] == {"queue": "embeddings"}
    assert settings.CELERY_TASK_ROUTES[rebuild_index_task.name] == {"queue": "default"}
    assert embed_images_task.acks_late and embed_images_task.reject_on_worker_lost
    assert rebuild_index_task.acks_late and rebuild_index_task.reject_on_worker_lost


def test_beat_runs_the_sweep_on_the_default_queue_and_drops_late_runs():
    app.loader.import_default_modules()
    (entry,) = settings.CELERY_BEAT_SCHEDULE.values()
    assert entry["task"] == requeue_stale_embeddings_task.name and entry["task"] in app.tasks
    assert entry["schedule"] == settings.LOOKAWAY_EMBED_SWEEP_SECONDS > 0
    assert entry["options"]["expires"] <= entry["schedule"]
    assert settings.CELERY_TASK_ROUTES[requeue_stale_embeddings_task.name] == {"queue": "default"}


@pytest.mark.parametrize(
    "error, retried",
    [
        (OperationalError("server closed the connection unexpectedly"), True),
        (redis.exceptions.ConnectionError("Connection refused"), True),
        (ValueError("a programming error"), False),
    ],
)
def test_only_transient_errors_are_retried(monkeypatch, error, retried):
    def failing(**kwargs):
        raise error

    monkeypatch.setattr("embeddings.tasks.embed_images_batch", failing)
    with pytest.raises(Retry if retried else type(error)):
        embed_images_task.apply(args=[[1, 2]], throw=True)


@pytest.mark.django_db
def test_bad_image_is_not_retried_and_the_rest_goes_in(fake_backbone, monkeypatch):
    images = make_products(2) + [make_product("garbage", image_bytes=b"\x00" * 64)]
    result = embed_images_task.apply(args=[[i.id for i in images]])
    assert result.successful() and result.result == {"done": 2, "skipped": 0, "failed": 1}
    assert ImageEmbedding.objects.count() == 2
