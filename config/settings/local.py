"""Development and one-command demo settings: SQLite and in-process tasks unless the environment says otherwise."""

from config.settings.base import *  # noqa: F403
from config.settings.base import env

DEBUG = env.bool("DEBUG", default=True)

# The demo's SQLite file, media and index live here: make sure the folder exists on a fresh checkout.
DATA_DIR.mkdir(parents=True, exist_ok=True)  # noqa: F405
