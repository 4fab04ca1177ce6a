"""Concurrent feedback on one session (PostgreSQL: real row locks; SQLite serialises writers differently)."""

import threading

import pytest
from django.db import connection, connections

from feedback import services
from feedback.models import FeedbackEvent, ShoppingSession
from feedback.tests.conftest import box_mask, rle_counts

THREADS = 6


@pytest.mark.slow
@pytest.mark.django_db(transaction=True)
def test_concurrent_feedback_keeps_orders_unique_and_loses_nothing(shop_catalog):
    if connection.vendor != "postgresql":
        pytest.skip("needs PostgreSQL: SQLite has no row locks (select_for_update is a no-op there)")
    session = services.session_create(owner_key="a", seed_id=shop_catalog.by_type["Tshirts"][0])
    barrier = threading.Barrier(THREADS)
    errors: list[BaseException] = []

    def paint(index: int) -> None:
        try:
            mine = ShoppingSession.objects.get(pk=session.pk)
            counts = rle_counts(box_mask(60, 60, (index / THREADS, 0.0, (index + 1) / THREADS, 1.0)))
            barrier.wait(timeout=60)
            services.feedback_add(session=mine, rle=counts, width=60, height=60)
            services.session_slate(session=mine, k=4, page=1)  # reads and records `shown` concurrently too
        except BaseException as exc:  # reported by the main thread
            errors.append(exc)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=paint, args=(i,)) for i in range(THREADS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    assert not errors, errors
    orders = sorted(FeedbackEvent.objects.filter(session=session).values_list("order", flat=True))
    assert orders == list(range(1, THREADS + 1))
    session.refresh_from_db()
    assert session.last_order == THREADS
    assert len(session.shown) == len(set(session.shown)) >= 4
