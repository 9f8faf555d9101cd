"""Edit a .tflite flatbuffer: unpack it with the TFLite schema's object API, change it, pack it.

The schema comes with ai-edge-litert (`ai_edge_litert.schema_py_generated`), so editing a model
needs neither TensorFlow nor a schema file of our own.
"""

import flatbuffers
import numpy as np
from ai_edge_litert import schema_py_generated as schema

FILE_IDENTIFIER = b"TFL3"


def unpack(content: bytes) -> "schema.ModelT":
    return schema.ModelT.InitFromPackedBuf(bytearray(content), 0)


def pack(model: "schema.ModelT") -> bytes:
    builder = flatbuffers.Builder(1024)
    builder.Finish(model.Pack(builder), file_identifier=FILE_IDENTIFIER)
    return bytes(builder.Output())


def set_metadata(content: bytes, name: str, data: bytes) -> bytes:
    """`content` with metadata entry `name` holding `data` (an entry of that name is replaced).

    Anything appended after the flatbuffer (a zip of associated files) is dropped: packing
    writes the flatbuffer alone.
    """
    return set_metadata_entries(content, {name: data})


def set_metadata_entries(content: bytes, entries: dict) -> bytes:
    """`content` with each {name: data} of `entries` as a metadata entry, in one unpack and pack."""
    model = unpack(content)
    model.buffers = model.buffers or []
    for replaced in [m for m in (model.metadata or []) if _text(m.name) in entries]:
        model.buffers[replaced.buffer].data = None  # empty the old entry's buffer rather than carry it
    model.metadata = [m for m in (model.metadata or []) if _text(m.name) not in entries]
    for name, data in entries.items():
        model.buffers.append(schema.BufferT(data=np.frombuffer(data, dtype=np.uint8)))
        model.metadata.append(schema.MetadataT(name=name, buffer=len(model.buffers) - 1))
    return pack(model)


def input_type(content: bytes) -> str:
    """The name of the first input tensor's type (FLOAT32, UINT8, INT8, ...)."""
    model = unpack(content)
    graph = model.subgraphs[0]
    code = graph.tensors[graph.inputs[0]].type
    return next(name for name, value in vars(schema.TensorType).items() if value == code)


def set_input_quantization(content: bytes, scale: float, zero_point: int) -> bytes:
    """`content` with the (only) input tensor's quantization set to `scale` and `zero_point`.

    Safe only where the input feeds QUANTIZE ops, which requantize from whatever the input's
    parameters say to the calibrated ones inside, or DEQUANTIZE ops (a first layer kept in float by
    `--fallback`), which then hand it the pixels as they are; anything else is refused.
    """
    model = unpack(content)
    graph = model.subgraphs[0]
    index = graph.inputs[0]
    allowed = {_builtin_code("QUANTIZE"), _builtin_code("DEQUANTIZE")}
    for op in graph.operators:
        if index in list(op.inputs):
            code = model.operatorCodes[op.opcodeIndex]
            if max(code.builtinCode, code.deprecatedBuiltinCode) not in allowed:
                raise ValueError(
                    "the model's input feeds an op other than QUANTIZE or DEQUANTIZE; its scale cannot be changed"
                )
    tensor = graph.tensors[index]
    if tensor.quantization is None:
        tensor.quantization = schema.QuantizationParametersT()
    tensor.quantization.scale = np.array([scale], dtype=np.float32)
    tensor.quantization.zeroPoint = np.array([zero_point], dtype=np.int64)
    tensor.quantization.min = None
    tensor.quantization.max = None
    return pack(model)


def _builtin_code(name: str) -> int:
    return getattr(schema.BuiltinOperator, name)


def _text(value) -> str:
    return value.decode("utf-8") if isinstance(value, bytes) else str(value)
