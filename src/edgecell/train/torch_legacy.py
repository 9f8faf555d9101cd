"""Read a PyTorch checkpoint in the legacy (pre-1.6, not zip) serialization into numpy arrays, without PyTorch.

A checkpoint is a pickle, and a pickle can name any callable to run while it loads. This reader's
Unpickler resolves only the names a state dict needs (`collections.OrderedDict`, torch's storage
types and its tensor-rebuild function, each answered by a function here that builds numpy arrays)
and refuses every other name with one sentence, so a crafted file cannot run code.

The legacy layout is five pickles and raw bytes, in this order: a magic number, the protocol
version, a dict about the writing machine, the object itself (tensors stand for a persistent id
naming their storage), the list of storage keys, then each storage as an int64 element count
followed by its little-endian elements.
"""

from __future__ import annotations

import collections
import io
import pickle
from dataclasses import dataclass
from pathlib import Path

import numpy as np

MAGIC_NUMBER = 0x1950A86A20F9469CFC6C
PROTOCOL_VERSION = 1001

STORAGE_DTYPES = {
    "FloatStorage": np.float32,
    "DoubleStorage": np.float64,
    "HalfStorage": np.float16,
    "LongStorage": np.int64,
    "IntStorage": np.int32,
    "ShortStorage": np.int16,
    "CharStorage": np.int8,
    "ByteStorage": np.uint8,
    "BoolStorage": np.bool_,
}


class CheckpointError(ValueError):
    """The file is not a legacy PyTorch checkpoint this reader accepts; the message says why."""


@dataclass(frozen=True)
class _StorageType:
    dtype: type


@dataclass
class _Storage:
    key: str
    dtype: type
    size: int
    data: np.ndarray | None = None


@dataclass(frozen=True)
class _PendingTensor:
    storage: _Storage
    offset: int
    shape: tuple[int, ...]
    stride: tuple[int, ...]


def _rebuild_tensor(storage, storage_offset, size, stride, *_rest):
    """Stand-in for torch._utils._rebuild_tensor(_v2): the storage bytes come after the pickle."""
    if not isinstance(storage, _Storage):
        raise CheckpointError("a tensor in the checkpoint does not point at a storage; the file is not a state dict.")
    return _PendingTensor(storage, int(storage_offset), tuple(int(s) for s in size), tuple(int(s) for s in stride))


class _RestrictedUnpickler(pickle.Unpickler):
    def __init__(self, file, path: Path, storages: dict[str, _Storage]):
        super().__init__(file)
        self._path = path
        self._storages = storages

    def find_class(self, module, name):
        if module == "collections" and name == "OrderedDict":
            return collections.OrderedDict
        if module == "torch._utils" and name in ("_rebuild_tensor", "_rebuild_tensor_v2"):
            return _rebuild_tensor
        if module == "torch" and name in STORAGE_DTYPES:
            return _StorageType(STORAGE_DTYPES[name])
        raise CheckpointError(
            f"{self._path} asks to load {module}.{name}, which is not a tensor or a plain container; "
            "edgecell reads only state dicts of tensors and refuses anything else a pickle could run."
        )

    def persistent_load(self, pid):
        if not (isinstance(pid, tuple) and len(pid) >= 5 and pid[0] == "storage"):
            raise CheckpointError(f"{self._path} holds a persistent object {pid!r:.60} that is not a tensor storage.")
        _, storage_type, key, _location, size = pid[:5]
        if not isinstance(storage_type, _StorageType):
            raise CheckpointError(f"{self._path} names a storage of an unknown type.")
        key = str(key)
        if key not in self._storages:
            self._storages[key] = _Storage(key, storage_type.dtype, int(size))
        return self._storages[key]


def _materialize(value):
    if isinstance(value, _PendingTensor):
        base = value.storage.data
        itemsize = base.itemsize
        flat = base[value.offset :]
        return np.lib.stride_tricks.as_strided(
            flat, shape=value.shape, strides=tuple(s * itemsize for s in value.stride), writeable=False
        ).copy()
    if isinstance(value, dict):
        return type(value)((k, _materialize(v)) for k, v in value.items())
    if isinstance(value, list | tuple):
        return type(value)(_materialize(v) for v in value)
    return value


def load_state_dict(path: Path) -> dict[str, np.ndarray]:
    """The checkpoint at `path` as {name: numpy array}; CheckpointError (one sentence) for anything else."""
    path = Path(path)
    data = path.read_bytes()
    stream = io.BytesIO(data)
    storages: dict[str, _Storage] = {}

    def load():
        try:
            return _RestrictedUnpickler(stream, path, storages).load()
        except CheckpointError:
            raise
        except Exception as error:
            raise CheckpointError(
                f"{path} is not a legacy PyTorch checkpoint ({type(error).__name__}: {error})."
            ) from None

    if load() != MAGIC_NUMBER:
        raise CheckpointError(f"{path} does not start with PyTorch's legacy magic number; it is not such a checkpoint.")
    if load() != PROTOCOL_VERSION:
        raise CheckpointError(f"{path} uses a serialization protocol other than {PROTOCOL_VERSION}.")
    sys_info = load()
    if isinstance(sys_info, dict) and not sys_info.get("little_endian", True):
        raise CheckpointError(f"{path} was written on a big-endian machine, which this reader does not handle.")
    result = load()
    keys = load()
    if not isinstance(keys, list) or set(map(str, keys)) != set(storages):
        raise CheckpointError(f"{path}'s list of storages does not match the tensors it holds.")
    for key in keys:
        storage = storages[str(key)]
        count_bytes = stream.read(8)
        if len(count_bytes) != 8:
            raise CheckpointError(f"{path} ends before the data of storage {key}.")
        count = int(np.frombuffer(count_bytes, "<i8")[0])
        nbytes = count * np.dtype(storage.dtype).itemsize
        if count != storage.size or stream.tell() + nbytes > len(data):
            raise CheckpointError(f"{path}'s storage {key} is truncated or its size disagrees with its header.")
        dtype = np.dtype(storage.dtype).newbyteorder("<")
        storage.data = np.frombuffer(data, dtype=dtype, count=count, offset=stream.tell())
        stream.seek(nbytes, io.SEEK_CUR)
    result = _materialize(result)
    if not isinstance(result, dict) or not all(isinstance(v, np.ndarray) for v in result.values()):
        raise CheckpointError(f"{path} holds a {type(result).__name__}, not a state dict of tensors.")
    return dict(result)
