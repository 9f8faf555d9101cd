"""The edgecell metadata a .tflite file carries, read without TensorFlow.

`edgecell export` stores one JSON document in the model's flatbuffer `metadata` list under the
name `edgecell`: labels, input size, colour order, pixel range and normalisation, the accuracy of
the source model and the edgecell version. The board needs nothing but the .tflite file.

Reading uses a minimal flatbuffer walk of the TFLite schema (Model.metadata -> Metadata.buffer ->
Buffer.data), so it works with any runtime, tflite-runtime 2.14 included.
"""

import json
import math
import struct

METADATA_NAME = "edgecell"
FORMAT = "edgecell-classifier/1"

# Field indices in the TFLite schema (tensorflow/compiler/mlir/lite/schema/schema.fbs).
_MODEL_BUFFERS, _MODEL_METADATA = 4, 6
_METADATA_NAME, _METADATA_BUFFER = 0, 1
_BUFFER_DATA, _BUFFER_OFFSET, _BUFFER_SIZE = 0, 1, 2


class MetadataError(ValueError):
    """A .tflite whose flatbuffer or edgecell metadata is malformed; the message says how."""


def read(model: bytes):
    """The edgecell metadata dict of a .tflite's bytes, or None when the model has none."""
    raw = read_entries(model).get(METADATA_NAME)
    if raw is None:
        return None
    try:
        meta = json.loads(raw.decode("utf-8"))
    except (UnicodeDecodeError, ValueError) as error:
        raise MetadataError(f"its edgecell metadata is not valid JSON ({error})") from None
    if not isinstance(meta, dict) or not isinstance(meta.get("labels"), list):
        raise MetadataError("its edgecell metadata has no list of labels")
    _check_fields(meta)
    return meta


def _check_fields(meta: dict) -> None:
    """The fields a runner uses have the types it needs (valid JSON can still say anything)."""
    if not all(isinstance(label, str) or _is_number(label) for label in meta["labels"]):
        raise MetadataError("its edgecell metadata has labels that are not text")
    for part in ("input", "source"):
        if not isinstance(meta.get(part, {}), dict):
            raise MetadataError(f"its edgecell metadata has an {part!r} that is not an object")
    model_input = meta.get("input", {})
    for key in ("mean", "std"):
        value = model_input.get(key, 0.0 if key == "mean" else 1.0)
        values = value if isinstance(value, list) else [value]
        if len(values) not in (1, 3) or not all(_is_number(v) and math.isfinite(v) and abs(v) < 1e30 for v in values):
            raise MetadataError(f"its edgecell metadata input {key} {json.dumps(value)[:40]} is not one number or three (R,G,B)")
        if key == "std" and any(abs(v) < 1e-30 for v in values):  # zero once in float32
            raise MetadataError(f"its edgecell metadata input std {json.dumps(value)[:40]} is zero or too close to it")
    for key in ("height", "width"):
        value = model_input.get(key, 1)
        if not (isinstance(value, int) and not isinstance(value, bool) and value > 0):
            raise MetadataError(f"its edgecell metadata input {key} {json.dumps(value)[:40]} is not a positive whole number")


def _is_number(value) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def read_entries(model: bytes) -> dict:
    """Every named metadata entry of a .tflite as {name: bytes}."""
    buf = memoryview(model)
    try:
        if len(buf) < 8 or bytes(buf[4:8]) != b"TFL3":
            raise MetadataError("it is not a TFLite flatbuffer (no TFL3 identifier)")
        root = _u32(buf, 0)
        buffers = _vector(buf, root, _MODEL_BUFFERS)
        entries = {}
        for meta in _tables(buf, root, _MODEL_METADATA):
            name = _string(buf, meta, _METADATA_NAME)
            index = _scalar(buf, meta, _METADATA_BUFFER, "<I", 0)
            if buffers is None or index >= buffers[1]:
                raise MetadataError(f"metadata entry {name!r} points at buffer {index}, which does not exist")
            entries[name] = _buffer_data(buf, _indirect(buf, buffers[0] + 4 * index))
        return entries
    except (struct.error, IndexError):
        raise MetadataError("its flatbuffer is truncated or corrupt") from None


def _buffer_data(buf, table) -> bytes:
    data = _vector(buf, table, _BUFFER_DATA)
    if data is not None:
        start, length = data
        _check(buf, start, length)
        return bytes(buf[start : start + length])
    offset = _scalar(buf, table, _BUFFER_OFFSET, "<Q", 0)  # large models keep buffers after the flatbuffer
    size = _scalar(buf, table, _BUFFER_SIZE, "<Q", 0)
    _check(buf, offset, size)
    return bytes(buf[offset : offset + size])


def _u32(buf, pos):
    return struct.unpack_from("<I", buf, pos)[0]


def _check(buf, start, length):
    if start < 0 or length < 0 or start + length > len(buf):
        raise MetadataError("its flatbuffer is truncated or corrupt")


def _field(buf, table, index):
    """Absolute position of field `index` of the table at `table`, or None when absent."""
    vtable = table - struct.unpack_from("<i", buf, table)[0]
    vtable_size = struct.unpack_from("<H", buf, vtable)[0]
    entry = 4 + 2 * index
    if entry >= vtable_size:
        return None
    offset = struct.unpack_from("<H", buf, vtable + entry)[0]
    return table + offset if offset else None


def _indirect(buf, pos):
    return pos + _u32(buf, pos)


def _scalar(buf, table, index, fmt, default):
    pos = _field(buf, table, index)
    return default if pos is None else struct.unpack_from(fmt, buf, pos)[0]


def _vector(buf, table, index):
    """(start of elements, length) of a vector field, or None."""
    pos = _field(buf, table, index)
    if pos is None:
        return None
    vec = _indirect(buf, pos)
    length = _u32(buf, vec)
    _check(buf, vec + 4, length)
    return vec + 4, length


def _tables(buf, table, index):
    vec = _vector(buf, table, index)
    if vec is None:
        return []
    start, length = vec
    _check(buf, start, 4 * length)
    return [_indirect(buf, start + 4 * i) for i in range(length)]


def _string(buf, table, index):
    vec = _vector(buf, table, index)
    if vec is None:
        return ""
    start, length = vec
    return bytes(buf[start : start + length]).decode("utf-8", errors="replace")
