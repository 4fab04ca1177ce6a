"""keras.applications backbones never fall back to random weights: missing weights fail fast with instructions."""

import time

import pytest

from embeddings.engine.backbones import BackboneUnavailable, build_backbone, keras_apps


@pytest.fixture
def empty_keras_home(tmp_path, monkeypatch):
    monkeypatch.setenv("KERAS_HOME", str(tmp_path / "keras-home"))
    monkeypatch.setattr(keras_apps, "DOWNLOAD_TIMEOUT_SECONDS", 3)
    return tmp_path / "keras-home"


def _assert_instructions(message: str) -> None:
    assert "resnet50" in message
    assert "LOOKAWAY_BACKBONE_WEIGHTS" in message
    assert "resnet50_weights_tf_dim_ordering_tf_kernels_notop.h5" in message
    assert "efficientnet_lite0" in message


def test_no_cached_weights_and_downloads_disabled(empty_keras_home, tmp_path):
    with pytest.raises(BackboneUnavailable) as info:
        build_backbone("resnet50", model_dir=tmp_path, allow_download=False)
    _assert_instructions(str(info.value))
    assert str(empty_keras_home / "models") in str(info.value)


def test_offline_download_fails_fast_with_instructions(empty_keras_home, tmp_path):
    # This machine has no network: the real download must fail, quickly, and leave no partial file behind.
    started = time.monotonic()
    try:
        build_backbone("resnet50", model_dir=tmp_path)
    except BackboneUnavailable as exc:
        _assert_instructions(str(exc))
        assert "download failed" in str(exc)
    else:  # pragma: no cover - only on a machine with network access
        pytest.skip("network available: the weights were downloaded")
    assert time.monotonic() - started < 30
    assert not (empty_keras_home / "models" / "resnet50_weights_tf_dim_ordering_tf_kernels_notop.h5").exists()


def test_unresponsive_server_is_bounded_by_the_timeout(empty_keras_home, tmp_path, monkeypatch):
    # A socket that accepts nothing: without the timeout, urllib would wait for minutes.
    import socket

    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(0)
    port = listener.getsockname()[1]
    app = keras_apps.KERAS_APPS["resnet50"]
    patched = keras_apps.KerasApp(**{**app.__dict__, "origin": f"http://127.0.0.1:{port}/{app.file_name}"})
    monkeypatch.setitem(keras_apps.KERAS_APPS, "resnet50", patched)
    monkeypatch.setattr(keras_apps, "DOWNLOAD_TIMEOUT_SECONDS", 1)
    started = time.monotonic()
    try:
        with pytest.raises(BackboneUnavailable, match="download failed"):
            build_backbone("resnet50", model_dir=tmp_path)
    finally:
        listener.close()
    assert time.monotonic() - started < 15


def test_configured_weights_file_must_exist(tmp_path):
    with pytest.raises(BackboneUnavailable, match="LOOKAWAY_BACKBONE_WEIGHTS points to .*missing.h5"):
        build_backbone("inception_v3", model_dir=tmp_path, weights_path=tmp_path / "missing.h5")


def test_configured_weights_file_must_be_weights(tmp_path):
    bad = tmp_path / "garbage.h5"
    bad.write_bytes(b"\x00" * 128)
    with pytest.raises(BackboneUnavailable, match="cannot load efficientnet_b0 weights"):
        build_backbone("efficientnet_b0", model_dir=tmp_path, weights_path=bad)


@pytest.mark.slow
@pytest.mark.parametrize("name", ["inception_v3"])
def test_architectures_match_their_specs(name):
    # Untrained architecture only (no weights here): checks the wrapper's declared grid/dim and the odd 299/8 grid.
    import numpy as np

    from embeddings.engine.cell_shapes import SHAPE_CHANNELS

    app = keras_apps.KERAS_APPS[name]
    backbone = keras_apps.wrap(app, None, version=f"{name}/untrained/s8")
    size = backbone.input_size
    batch = np.random.default_rng(0).integers(0, 256, (2, size, size, 3), dtype=np.uint8)
    vectors, maps = backbone.forward(batch)
    assert vectors.shape == (2, backbone.dim) and maps.shape == (2, backbone.grid, backbone.grid, backbone.dim)
    [first, _] = backbone.features(batch)
    assert first.spatial.shape == (backbone.grid, backbone.grid, SHAPE_CHANNELS) and first.colours.shape[:2] == maps.shape[1:3]
