"""Serving under gunicorn: persistent database connections and the per-worker warm-up (config/gunicorn.conf.py)."""

import importlib.util
import os
import sys
from pathlib import Path

import pytest

from embeddings.serving import shared_recommender as recommender

CONFIG = Path(__file__).resolve().parents[3] / "config" / "gunicorn.conf.py"


@pytest.fixture
def gunicorn_config(monkeypatch):
    """Load the gunicorn config file as a module, with a private copy of the environment it edits."""

    def load(**env):
        kept = {k: v for k, v in os.environ.items() if k != "DATABASE_URL" and not k.endswith("_THREADS")}
        monkeypatch.setattr(os, "environ", {**kept, **env})
        spec = importlib.util.spec_from_file_location("lookaway_gunicorn_conf", CONFIG)
        module = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(module)
        return module

    return load


def test_postgres_connections_are_kept_between_requests(gunicorn_config):
    config = gunicorn_config(DATABASE_URL="postgres://shop@db:5432/lookaway", GUNICORN_DB_CONN_MAX_AGE="120")
    assert os.environ["DATABASE_URL"] == "postgres://shop@db:5432/lookaway?conn_max_age=120&conn_health_checks=true"
    keep = config.persistent_connections
    with_options = "postgres://db/x?sslmode=require&conn_max_age=60&conn_health_checks=true"
    assert keep("postgres://db/x?sslmode=require", 60) == with_options
    assert keep("postgres://db/x?conn_max_age=0", 60) == "postgres://db/x?conn_max_age=0"  # the URL's own choice wins
    assert keep("sqlite:////tmp/db.sqlite3", 60) == "sqlite:////tmp/db.sqlite3"
    assert keep("postgres://db/x", 0) == "postgres://db/x"  # GUNICORN_DB_CONN_MAX_AGE=0 turns it off


def test_the_master_does_not_import_tensorflow(gunicorn_config, monkeypatch):
    """Loading the config (what the master does) imports nothing heavy; TensorFlow would not survive the fork."""
    monkeypatch.delitem(sys.modules, "tensorflow", raising=False)
    config = gunicorn_config()
    assert "tensorflow" not in sys.modules
    assert config.preload_app is False and config.worker_class == "gthread"
    # One thread per request for TensorFlow and BLAS, set before any worker starts (unless the environment says).
    assert os.environ["OPENBLAS_NUM_THREADS"] == os.environ["LOOKAWAY_TF_INTRA_OP_THREADS"] == "1"


@pytest.mark.django_db
def test_warm_up_builds_the_engine_and_answers_once(shop_catalog, monkeypatch):
    closed, beats = [], []
    monkeypatch.setattr("django.db.connections.close_all", lambda: closed.append(True))
    recommender.reset_recommender()
    timings = recommender.warm_up(notify=lambda: beats.append(True))
    assert timings["product"] in shop_catalog.product_ids
    assert timings["total_s"] >= timings["engine_s"] >= 0 and len(beats) >= 2
    assert closed == [True]  # the warm-up's connection is not left to the first request's thread
    engine = recommender.get_recommender()
    assert recommender.warm_up()["product"] is not None and recommender.get_recommender() is engine
