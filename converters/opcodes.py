"""The operators a .tflite uses, with their versions, read without TensorFlow or a schema module.

A runtime refuses a model that asks for an op version newer than its own kernels ("Didn't find
op for builtin opcode 'FULLY_CONNECTED' version '12'"), so these pairs decide where it loads.
The flatbuffer is walked with the same minimal reader the device uses for metadata.
"""

import struct
from typing import NamedTuple

from edgecell.device.model import tflite_reader

_MODEL_OPERATOR_CODES = 1
_DEPRECATED_BUILTIN_CODE, _CUSTOM_CODE, _VERSION, _BUILTIN_CODE = 0, 1, 2, 3
PLACEHOLDER_FOR_GREATER_OP_CODES = 127


class OpCode(NamedTuple):
    code: int  # the builtin operator number (BuiltinOperator in the TFLite schema); -1 for custom ops
    name: str
    version: int
    custom: str = ""


def read(model: bytes, names=None) -> list:
    """Every operator code of the model, in the model's order; `names` maps numbers to names."""
    buf = memoryview(model)
    try:
        if len(buf) < 8 or bytes(buf[4:8]) != b"TFL3":
            raise tflite_reader.MetadataError("it is not a TFLite flatbuffer (no TFL3 identifier)")
        root = tflite_reader.u32(buf, 0)
        found = []
        for table in tflite_reader.tables(buf, root, _MODEL_OPERATOR_CODES):
            deprecated = tflite_reader.scalar(buf, table, _DEPRECATED_BUILTIN_CODE, "<b", 0)
            builtin = tflite_reader.scalar(buf, table, _BUILTIN_CODE, "<i", 0)
            version = tflite_reader.scalar(buf, table, _VERSION, "<i", 1)
            custom = tflite_reader.string(buf, table, _CUSTOM_CODE)
            code = max(deprecated, builtin)  # old writers fill only the deprecated int8 field
            if code == 32 and custom:  # BuiltinOperator CUSTOM
                found.append(OpCode(-1, f"custom:{custom}", version, custom))
            else:
                found.append(OpCode(code, name_of(code, names), version))
        return found
    except (struct.error, IndexError):
        raise tflite_reader.MetadataError("its flatbuffer is truncated or corrupt") from None


def name_of(code: int, names=None) -> str:
    if names and code in names:
        return names[code]
    try:  # the schema module comes with ai-edge-litert (not with tflite-runtime)
        from ai_edge_litert import schema_py_generated as schema
    except ImportError:
        return f"BUILTIN_{code}"
    for name, value in vars(schema.BuiltinOperator).items():
        if value == code and not name.startswith("_"):
            return name
    return f"BUILTIN_{code}"
