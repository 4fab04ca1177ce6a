"""The legacy .pth reader on the real EfficientNet-Lite0 file, and its refusal of unexpected pickle globals."""

import io
import pickle
import struct

import numpy as np
import pytest

from embeddings.engine.backbones.lite0 import default_weights_path
from embeddings.engine.torch_checkpoint import (
    LEGACY_MAGIC_NUMBER,
    TorchFileError,
    UnsafePickleError,
    read_legacy_state_dict,
)


@pytest.fixture(scope="module")
def state():
    return read_legacy_state_dict(default_weights_path())


def test_torch_is_not_installed():
    with pytest.raises(ImportError):
        __import__("torch")


def test_reads_every_tensor_with_pytorch_shapes(state):
    assert len(state) == 296
    assert state["_conv_stem.weight"].shape == (32, 3, 3, 3)
    assert state["_blocks.0._depthwise_conv.weight"].shape == (32, 1, 3, 3)
    assert state["_blocks.1._expand_conv.weight"].shape == (96, 16, 1, 1)
    assert state["_blocks.15._project_conv.weight"].shape == (320, 1152, 1, 1)
    assert state["_conv_head.weight"].shape == (1280, 320, 1, 1)
    assert state["_fc.weight"].shape == (1000, 1280)
    assert state["_bn1.running_var"].dtype == np.float32
    assert state["_bn0.num_batches_tracked"].dtype == np.int64 and state["_bn0.num_batches_tracked"].shape == ()
    assert sum(v.size for k, v in state.items() if v.dtype == np.float32) == 4_694_024


def test_values_match_known_statistics(state):
    stem = state["_conv_stem.weight"].astype(np.float64)
    assert stem.mean() == pytest.approx(-0.0310317, abs=1e-6)
    assert stem.std() == pytest.approx(0.7707350, abs=1e-6)
    np.testing.assert_allclose(state["_conv_stem.weight"][0, 0, 0], [-1.1103361, -1.3087704, -0.01015691], rtol=1e-6)
    assert state["_fc.weight"].astype(np.float64).std() == pytest.approx(0.0643795, abs=1e-6)
    assert all((v >= 0).all() for k, v in state.items() if k.endswith("running_var"))
    assert state["_conv_stem.weight"].flags.c_contiguous


class _Evil:
    def __reduce__(self):
        return (eval, ("1 + 1",))


def _legacy_file(payload: object) -> bytes:
    buffer = io.BytesIO()
    for header in (LEGACY_MAGIC_NUMBER, 1001, {"protocol_version": 1001, "little_endian": True}):
        pickle.dump(header, buffer, protocol=2)
    pickle.dump(payload, buffer, protocol=2)
    pickle.dump([], buffer, protocol=2)
    return buffer.getvalue()


def test_refuses_unexpected_globals(tmp_path):
    path = tmp_path / "evil.pth"
    path.write_bytes(_legacy_file({"x": _Evil()}))
    with pytest.raises(UnsafePickleError, match="eval"):
        read_legacy_state_dict(path)


def test_rejects_files_that_are_not_legacy_checkpoints(tmp_path):
    path = tmp_path / "zip.pth"
    path.write_bytes(b"PK\x03\x04" + b"\x00" * 64)
    with pytest.raises(TorchFileError):
        read_legacy_state_dict(path)


def test_rejects_truncated_storage(tmp_path):
    data = default_weights_path().read_bytes()
    path = tmp_path / "truncated.pth"
    path.write_bytes(data[: len(data) - 1000])
    with pytest.raises(TorchFileError, match="truncated"):
        read_legacy_state_dict(path)


def test_element_count_header_is_int64_little_endian():
    # Guard the format assumption the reader relies on, against the real file's first storage.
    data = default_weights_path().read_bytes()
    assert struct.unpack("<q", struct.pack("<q", 864))[0] == 864
    assert struct.pack("<q", 864) in data
