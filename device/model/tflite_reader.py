"""A minimal, bounds-checked walk of a .tflite flatbuffer (the TFLite schema's Model table),
with no runtime and no generated code: enough to read the named metadata entries and the operator
codes on any board, tflite-runtime 2.14 included. Every read is checked against the buffer's
length, so a truncated or crafted file is a MetadataError, never an IndexError or a huge read.
"""

import struct


class MetadataError(ValueError):
    """A .tflite whose flatbuffer or edgecell metadata is malformed; the message says how."""


# Field indices in the TFLite schema (tensorflow/compiler/mlir/lite/schema/schema.fbs).
_MODEL_BUFFERS, _MODEL_METADATA = 4, 6
_METADATA_NAME, _METADATA_BUFFER = 0, 1
_BUFFER_DATA, _BUFFER_OFFSET, _BUFFER_SIZE = 0, 1, 2


def read_entries(model: bytes) -> dict:
    """Every named metadata entry of a .tflite as {name: bytes}."""
    buf = memoryview(model)
    try:
        if len(buf) < 8 or bytes(buf[4:8]) != b"TFL3":
            raise MetadataError("it is not a TFLite flatbuffer (no TFL3 identifier)")
        root = u32(buf, 0)
        buffers = vector(buf, root, _MODEL_BUFFERS)
        entries = {}
        for meta in tables(buf, root, _MODEL_METADATA):
            name = string(buf, meta, _METADATA_NAME)
            index = scalar(buf, meta, _METADATA_BUFFER, "<I", 0)
            if buffers is None or index >= buffers[1]:
                raise MetadataError(f"metadata entry {name!r} points at buffer {index}, which does not exist")
            entries[name] = buffer_data(buf, indirect(buf, buffers[0] + 4 * index))
        return entries
    except (struct.error, IndexError):
        raise MetadataError("its flatbuffer is truncated or corrupt") from None


def buffer_data(buf, table) -> bytes:
    data = vector(buf, table, _BUFFER_DATA)
    if data is not None:
        start, length = data
        check_bounds(buf, start, length)
        return bytes(buf[start : start + length])
    offset = scalar(buf, table, _BUFFER_OFFSET, "<Q", 0)  # large models keep buffers after the flatbuffer
    size = scalar(buf, table, _BUFFER_SIZE, "<Q", 0)
    check_bounds(buf, offset, size)
    return bytes(buf[offset : offset + size])


def u32(buf, pos):
    return struct.unpack_from("<I", buf, pos)[0]


def check_bounds(buf, start, length):
    if start < 0 or length < 0 or start + length > len(buf):
        raise MetadataError("its flatbuffer is truncated or corrupt")


def field(buf, table, index):
    """Absolute position of field `index` of the table at `table`, or None when absent."""
    vtable = table - struct.unpack_from("<i", buf, table)[0]
    vtable_size = struct.unpack_from("<H", buf, vtable)[0]
    entry = 4 + 2 * index
    if entry >= vtable_size:
        return None
    offset = struct.unpack_from("<H", buf, vtable + entry)[0]
    return table + offset if offset else None


def indirect(buf, pos):
    return pos + u32(buf, pos)


def scalar(buf, table, index, fmt, default):
    pos = field(buf, table, index)
    return default if pos is None else struct.unpack_from(fmt, buf, pos)[0]


def vector(buf, table, index):
    """(start of elements, length) of a vector field, or None."""
    pos = field(buf, table, index)
    if pos is None:
        return None
    vec = indirect(buf, pos)
    length = u32(buf, vec)
    check_bounds(buf, vec + 4, length)
    return vec + 4, length


def tables(buf, table, index):
    vec = vector(buf, table, index)
    if vec is None:
        return []
    start, length = vec
    check_bounds(buf, start, 4 * length)
    return [indirect(buf, start + 4 * i) for i in range(length)]


def string(buf, table, index):
    vec = vector(buf, table, index)
    if vec is None:
        return ""
    start, length = vec
    return bytes(buf[start : start + length]).decode("utf-8", errors="replace")
