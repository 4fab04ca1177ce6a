"""The Django side: one backbone per process from settings, and the convert_weights command."""

import threading

import pytest
from django.core.management import CommandError, call_command

from embeddings.engine.backbones import BackboneUnavailable
from embeddings.serving.backbone import get_backbone


def test_one_backbone_per_process_shared_by_threads(backbone):
    seen = []
    threads = [threading.Thread(target=lambda: seen.append(get_backbone())) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(seen) == 4 and all(b is backbone for b in seen)
    assert backbone.version.startswith("efficientnet_lite0/")


def test_settings_choose_the_backbone_and_missing_weights_say_what_to_do(settings, tmp_path, monkeypatch):
    monkeypatch.setenv("KERAS_HOME", str(tmp_path))
    settings.LOOKAWAY_BACKBONE = "inception_v3"
    settings.LOOKAWAY_BACKBONE_WEIGHTS = str(tmp_path / "inception.h5")
    with pytest.raises(BackboneUnavailable, match="LOOKAWAY_BACKBONE_WEIGHTS points to"):
        get_backbone()


def test_convert_weights_command(tmp_path, capsys):
    call_command("convert_weights", "--model-dir", str(tmp_path))
    converted = tmp_path / "efficientnet_lite0-57934424.weights.h5"
    assert converted.is_file() and converted.stat().st_size > 15_000_000
    assert str(converted) in capsys.readouterr().out
    mtime = converted.stat().st_mtime_ns
    call_command("convert_weights", "--model-dir", str(tmp_path))  # cached: not converted again
    assert converted.stat().st_mtime_ns == mtime
    assert not list(tmp_path.glob(".convert-*"))


def test_convert_weights_command_reports_bad_input(tmp_path):
    bad = tmp_path / "efficientnet-lite0-00000000.pth"
    bad.write_text("hello")
    with pytest.raises(CommandError, match="not an EfficientNet-Lite0 PyTorch weights file"):
        call_command("convert_weights", "--model-dir", str(tmp_path), "--weights", str(bad))
