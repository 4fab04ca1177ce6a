"""Settings of the scale-out demo (bench/scaleout_demo.py): the local settings, plus quick redelivery of the messages
of a killed worker (kombu scans for them every 2 s instead of every ~100 s), as config/settings/test.py does."""

from config.settings.local import *  # noqa: F403
from config.settings.local import CELERY_BROKER_TRANSPORT_OPTIONS

CELERY_BROKER_TRANSPORT_OPTIONS = {
    **CELERY_BROKER_TRANSPORT_OPTIONS,
    "unacked_restore_interval": 2,
    "unacked_restore_throttle": 1,
    "unacked_mutex_expire": 10,
}
