"""A damaged index never reaches a web process: readers fall back to the previous version (or exact search), say so
in the logs and in index_status, and rollback_index repairs it. A full disk fails a build cleanly."""

import io
import logging
import os
import shutil

import pytest
from django.core.management import CommandError, call_command
from django.test import Client

from embeddings.engine.index import IndexStore
from embeddings.services import embed_images_batch, index_build
from embeddings.services.index_versions import IndexBuildError, index_choose_usable, index_store
from embeddings.serving.catalog_reloader import get_catalog_view, reset_catalog_view
from embeddings.tests.products import make_products

pytestmark = pytest.mark.django_db


@pytest.fixture
def two_versions(fake_backbone):
    """20 embedded products and two index versions; returns (previous, current) version names."""
    images = make_products(20)
    embed_images_batch(image_ids=[i.id for i in images], backbone=fake_backbone)
    first = index_build(backbone_version="fake-v1")
    second = index_build(backbone_version="fake-v1")
    return first.version, second.version


def _overwrite(path, *, at=0.4, fraction=0.2):
    size = path.stat().st_size
    with open(path, "r+b") as handle:
        handle.seek(int(size * at))
        handle.write(os.urandom(max(64, int(size * fraction))))


DAMAGE = {
    # Before the fix: Annoy segfaulted or aborted the whole web process on the first query.
    "annoy_garbage": lambda d, root: _overwrite(d / "index.ann"),
    "annoy_truncated": lambda d, root: os.truncate(d / "index.ann", (d / "index.ann").stat().st_size // 2),
    "vectors_truncated": lambda d, root: os.truncate(d / "vectors.npy", (d / "vectors.npy").stat().st_size // 2),
    "spatial_garbage": lambda d, root: _overwrite(d / "spatial.npy", at=0.5, fraction=0.05),
    # Before the fix: every request answered 500 (FileNotFoundError / JSONDecodeError while loading).
    "lookup_missing": lambda d, root: (d / "lookup_ids.npy").unlink(),
    "manifest_garbage": lambda d, root: (d / "manifest.json").write_text('{"version": '),
    "directory_deleted": lambda d, root: shutil.rmtree(d),
}


@pytest.mark.parametrize("damage", sorted(DAMAGE))
def test_damaged_current_version_falls_back_to_previous_and_rollback_fixes_it(two_versions, damage, caplog):
    previous, current = two_versions
    store = index_store()
    DAMAGE[damage](store.version_dir(current), store.root)
    reset_catalog_view()
    with caplog.at_level(logging.ERROR):
        view = get_catalog_view()
        response = Client().get(f"/api/v1/products/{view.index.ids[0]}/similar/?k=5")
    assert view.version == previous
    assert response.status_code == 200 and len(response.json()["results"]) == 5
    assert f"index {current} is damaged: serving index version {previous}" in caplog.text
    out = io.StringIO()
    with pytest.raises(CommandError, match="DEGRADED: readers serve version"):
        call_command("index_status", stdout=out)
    assert f"index version {current} is unusable" in out.getvalue()
    call_command("rollback_index", stdout=io.StringIO())
    assert IndexStore(store.root).current_version() == previous
    call_command("index_status", stdout=io.StringIO())  # healthy again: no error


def test_garbage_pointer_serves_newest_good_version(two_versions, caplog):
    _, current = two_versions
    store = index_store()
    store.pointer.write_bytes(b"\x00\xff not json")
    reset_catalog_view()
    with caplog.at_level(logging.ERROR):
        assert get_catalog_view().version == current
    assert "CURRENT is unreadable" in caplog.text
    call_command("rollback_index", stdout=io.StringIO())
    assert store.current_version() == current


def test_every_version_damaged_falls_back_to_exact_search(two_versions):
    store = index_store()
    for version in two_versions:
        _overwrite(store.version_dir(version) / "index.ann")
    choice = index_choose_usable(backbone_version="fake-v1")
    assert choice.view is None and len(choice.problems) == 2
    reset_catalog_view()
    view = get_catalog_view()
    assert view.version is None and len(view.fresh) == 20  # exact search over the database embeddings
    with pytest.raises(CommandError, match="failed verification"):
        call_command("rollback_index", stdout=io.StringIO())
    call_command("build_index", stdout=io.StringIO())  # the other one-command fix
    assert index_choose_usable(backbone_version="fake-v1").degraded is False


def test_rollback_skips_a_damaged_previous_version(fake_backbone):
    images = make_products(20)
    embed_images_batch(image_ids=[i.id for i in images], backbone=fake_backbone)
    oldest, middle, newest = (index_build(backbone_version="fake-v1").version for _ in range(3))
    store = index_store()
    _overwrite(store.version_dir(middle) / "vectors.npy")
    _overwrite(store.version_dir(newest) / "index.ann")
    call_command("rollback_index", stdout=io.StringIO())
    assert store.current_version() == oldest


def test_full_disk_fails_the_build_before_writing_and_keeps_the_current_version(two_versions, monkeypatch):
    _, current = two_versions
    store = index_store()
    usage = shutil.disk_usage(store.root)
    monkeypatch.setattr(
        "embeddings.engine.index.annoy_build.shutil.disk_usage", lambda path: usage._replace(free=1024)
    )
    with pytest.raises(IndexBuildError, match="not enough disk space"):
        index_build(backbone_version="fake-v1")
    assert store.current_version() == current and store.incomplete() == []
    assert len(store.versions()) == 2


def test_build_removes_directories_left_by_a_build_that_died(two_versions):
    store = index_store()
    dead = store.versions_dir / "20000101T000000000000Z-dead00"
    dead.mkdir()
    (dead / "vectors.npy").write_bytes(b"\0" * 1024)  # a build killed (SIGKILL, SIGBUS) before its manifest
    assert store.incomplete() == [dead.name]
    index_build(backbone_version="fake-v1")
    assert not dead.exists()


def test_builds_exclude_each_other_without_redis(two_versions):
    # Without Redis a file lock stands in for the rebuild lock, so a leftover is never another build in progress.
    from embeddings.services.coordination import RebuildInProgress, rebuild_lock

    with rebuild_lock():
        with pytest.raises(RebuildInProgress, match="on this machine"):
            index_build(backbone_version="fake-v1")
    assert index_build(backbone_version="fake-v1").is_current
