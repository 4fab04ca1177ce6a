"""Read PyTorch's legacy (non-zip) ``torch.save`` files into numpy arrays, without PyTorch.

Layout of a legacy file: magic-number pickle, protocol-version pickle, sys-info pickle, the pickled object (tensors
reference storages through persistent ids), a pickled list of storage keys, then for each key in that order an int64
little-endian element count followed by the raw little-endian bytes. Unpickling is restricted: only the handful of
globals a state dict needs are allowed; anything else raises ``UnsafePickleError``.
"""

from __future__ import annotations

import collections
import pickle
from dataclasses import dataclass
from pathlib import Path
from typing import Any, BinaryIO

import numpy as np

LEGACY_MAGIC_NUMBER = 0x1950A86A20F9469CFC6C
SUPPORTED_PROTOCOL_VERSION = 1001

STORAGE_DTYPES: dict[str, np.dtype] = {
    "DoubleStorage": np.dtype("<f8"),
    "FloatStorage": np.dtype("<f4"),
    "HalfStorage": np.dtype("<f2"),
    "LongStorage": np.dtype("<i8"),
    "IntStorage": np.dtype("<i4"),
    "ShortStorage": np.dtype("<i2"),
    "CharStorage": np.dtype("i1"),
    "ByteStorage": np.dtype("u1"),
    "BoolStorage": np.dtype("?"),
}


class TorchFileError(ValueError):
    """The file is not a readable legacy PyTorch checkpoint."""


class UnsafePickleError(TorchFileError):
    """The pickle asked for a global outside the allow-list."""


@dataclass(frozen=True)
class _StorageType:
    dtype: np.dtype


@dataclass
class _StorageRef:
    key: str
    dtype: np.dtype
    numel: int
    view: tuple[str, int, int] | None = None  # (base key, element offset, element count)


@dataclass
class _TensorStub:
    storage: _StorageRef
    offset: int
    size: tuple[int, ...]
    stride: tuple[int, ...]


def _rebuild_tensor_v2(storage, storage_offset, size, stride, requires_grad=False, backward_hooks=None, metadata=None):
    return _TensorStub(storage, int(storage_offset), tuple(size), tuple(stride))


def _rebuild_tensor(storage, storage_offset, size, stride):
    return _TensorStub(storage, int(storage_offset), tuple(size), tuple(stride))


def _rebuild_parameter(data, requires_grad=False, backward_hooks=None):
    return data


_ALLOWED_GLOBALS: dict[tuple[str, str], Any] = {
    ("collections", "OrderedDict"): collections.OrderedDict,
    ("torch._utils", "_rebuild_tensor_v2"): _rebuild_tensor_v2,
    ("torch._utils", "_rebuild_tensor"): _rebuild_tensor,
    ("torch._utils", "_rebuild_parameter"): _rebuild_parameter,
    **{("torch", name): _StorageType(dtype) for name, dtype in STORAGE_DTYPES.items()},
}


class _RestrictedUnpickler(pickle.Unpickler):
    """An unpickler that resolves only allow-listed globals and records storage references."""

    def __init__(self, file: BinaryIO) -> None:
        super().__init__(file)
        self.storages: dict[str, _StorageRef] = {}

    def find_class(self, module: str, name: str) -> Any:
        try:
            return _ALLOWED_GLOBALS[(module, name)]
        except KeyError:
            raise UnsafePickleError(f"refusing to load global {module}.{name} from a weights file") from None

    def persistent_load(self, pid: Any) -> Any:
        if not (isinstance(pid, tuple) and pid and pid[0] == "storage" and len(pid) in (5, 6)):
            raise TorchFileError(f"unexpected persistent id {pid!r}")
        _, storage_type, key, _location, numel, *rest = pid
        if not isinstance(storage_type, _StorageType):
            raise TorchFileError(f"unexpected storage type {storage_type!r}")
        ref = self.storages.setdefault(str(key), _StorageRef(str(key), storage_type.dtype, int(numel)))
        view = rest[0] if rest else None
        if view is not None:
            view_key, view_offset, view_size = view
            return _StorageRef(str(view_key), ref.dtype, int(view_size), (ref.key, int(view_offset), int(view_size)))
        return ref


def _load_restricted(file: BinaryIO) -> Any:
    return _RestrictedUnpickler(file).load()


def read_legacy_state_dict(path: str | Path) -> dict[str, np.ndarray]:
    """Read a legacy-format ``torch.save`` state dict into ``{name: numpy array}`` (C-contiguous copies)."""
    with open(path, "rb") as file:
        try:
            magic = _load_restricted(file)
            if magic != LEGACY_MAGIC_NUMBER:
                raise TorchFileError(f"{path}: not a legacy PyTorch file (bad magic number)")
            protocol = _load_restricted(file)
            if protocol != SUPPORTED_PROTOCOL_VERSION:
                raise TorchFileError(f"{path}: unsupported protocol version {protocol!r}")
            sys_info = _load_restricted(file)
            if not sys_info.get("little_endian", True):
                raise TorchFileError(f"{path}: big-endian checkpoints are not supported")
            unpickler = _RestrictedUnpickler(file)
            state = unpickler.load()
            keys = _load_restricted(file)
        except (pickle.UnpicklingError, EOFError, AttributeError, TypeError) as exc:
            raise TorchFileError(f"{path}: corrupt pickle stream ({exc})") from exc
        if not isinstance(state, dict):
            raise TorchFileError(f"{path}: expected a state dict, found {type(state).__name__}")
        buffers = _read_storages(file, keys, unpickler.storages, path)
    return {name: _materialise(name, tensor, buffers) for name, tensor in state.items()}


def _read_storages(
    file: BinaryIO, keys: list[str], refs: dict[str, _StorageRef], path: str | Path
) -> dict[str, np.ndarray]:
    buffers: dict[str, np.ndarray] = {}
    for key in keys:
        ref = refs.get(str(key))
        if ref is None:
            raise TorchFileError(f"{path}: storage {key} is listed but never referenced")
        header = file.read(8)
        if len(header) != 8:
            raise TorchFileError(f"{path}: truncated before storage {key}")
        count = int(np.frombuffer(header, dtype="<i8")[0])
        raw = file.read(count * ref.dtype.itemsize)
        if len(raw) != count * ref.dtype.itemsize:
            raise TorchFileError(f"{path}: storage {key} is truncated")
        buffers[str(key)] = np.frombuffer(raw, dtype=ref.dtype)
    return buffers


def _materialise(name: str, tensor: Any, buffers: dict[str, np.ndarray]) -> np.ndarray:
    if not isinstance(tensor, _TensorStub):
        raise TorchFileError(f"entry {name!r} is not a tensor ({type(tensor).__name__})")
    ref = tensor.storage
    if ref.view is not None:
        base_key, view_offset, view_size = ref.view
        storage = buffers[base_key][view_offset : view_offset + view_size]
    else:
        storage = buffers[ref.key]
    if not tensor.size:
        return storage[tensor.offset : tensor.offset + 1].reshape(()).copy()
    extent = tensor.offset + 1 + sum((dim - 1) * step for dim, step in zip(tensor.size, tensor.stride, strict=True))
    if extent > storage.size:
        raise TorchFileError(f"tensor {name!r} reaches past the end of its storage")
    itemsize = storage.dtype.itemsize
    view = np.lib.stride_tricks.as_strided(
        storage[tensor.offset :], shape=tensor.size, strides=tuple(step * itemsize for step in tensor.stride)
    )
    return np.ascontiguousarray(view).copy()
