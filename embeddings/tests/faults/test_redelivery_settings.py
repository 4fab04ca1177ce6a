"""A killed worker's unacknowledged batch is looked for on every restore tick (kombu's default: every 10th, i.e.
~100 s late), and a restore mutex left by a worker killed mid-scan expires in 60 s (default 300 s)."""

import os
import time
import uuid

import pytest
import redis
from kombu import Connection

from config.settings import base

BROKER_URL = os.environ.get("TEST_CELERY_BROKER_URL", "redis://127.0.0.1:6379/6")


@pytest.fixture
def broker():
    client = redis.Redis.from_url(BROKER_URL)
    try:
        client.ping()
    except redis.exceptions.ConnectionError:
        pytest.skip(f"needs Redis at {BROKER_URL}")
    yield client


def test_project_transport_options_restore_a_dead_workers_message_on_the_next_tick(broker):
    options = {**base.CELERY_BROKER_TRANSPORT_OPTIONS, "visibility_timeout": 1}
    assert options["unacked_restore_interval"] * options["unacked_restore_throttle"] <= 10
    assert options["unacked_mutex_expire"] <= 60
    queue = f"faults-{uuid.uuid4().hex[:8]}"
    with Connection(BROKER_URL, transport_options=options) as conn:
        channel = conn.default_channel
        producer = conn.Producer(channel)
        producer.publish({"batch": [1, 2]}, routing_key=queue, declare=[conn.SimpleQueue(queue).queue])
        message = channel.basic_get(queue, no_ack=False)  # a worker took it ... and was killed before acking
        assert message is not None and channel.client.llen(queue) == 0
        tag = message.delivery_tag
        channel.qos._delivered.clear()  # forget it locally, as a dead process would
        restore = channel.qos.restore_visible
        restore(num=10, interval=channel.unacked_restore_throttle)  # first tick: not old enough yet
        time.sleep(1.2)
        restore(num=10, interval=channel.unacked_restore_throttle)  # second tick: kombu's default skips it
        try:
            assert channel.client.llen(queue) == 1, "the unacknowledged message was not handed out again"
        finally:
            channel.client.delete(queue)
            channel.client.hdel(channel.unacked_key, tag)
            channel.client.zrem(channel.unacked_index_key, tag)
