"""The int8 model's uint8 input, rewritten so XNNPACK runs its conversion to int8.

A full-integer export takes uint8 pixels and computes in int8: the converter puts a QUANTIZE op
from uint8 to int8 after the input. XNNPACK, the runtime's default CPU delegate, does not take a
QUANTIZE between the two 8-bit types, so that op runs outside it in the builtin kernel, which on
x86 requantizes the 200x200x3 input one element at a time: 0.07 ms, more than a tenth of the
edge network's whole float32 invoke.

XNNPACK does take DEQUANTIZE from uint8 to float32 and QUANTIZE from float32 to int8, both
vectorized, so that QUANTIZE becomes the pair, through a float32 tensor. The values are the same:
the pixels (scale 1, zero point 0) are exact in float32, and QUANTIZE rounds to the nearest
step as the requantization does. The output's QUANTIZE from int8 to uint8 stays: four or ten
scores, and splitting it measured no faster. Figures: docs/benchmarks.md#int8-against-float32.
"""

import numpy as np
from ai_edge_litert import schema_py_generated as schema

from edgecell.converters import flatbuffer


def through_float(content: bytes) -> bytes:
    """`content` with the QUANTIZE from its uint8 input to int8 split into DEQUANTIZE + QUANTIZE."""
    model = flatbuffer.unpack(content)
    graph = model.subgraphs[0]
    pixels = graph.inputs[0]
    quantize = _code_index(model, "QUANTIZE")
    mixed = [
        op
        for op in graph.operators
        if op.opcodeIndex == quantize
        and list(op.inputs) == [pixels]
        and graph.tensors[pixels].type == schema.TensorType.UINT8
        and graph.tensors[op.outputs[0]].type == schema.TensorType.INT8
    ]
    if not mixed:
        return content
    dequantize = _code_index(model, "DEQUANTIZE", add=True)  # version 1: from uint8 (op_version.cc)
    source = graph.tensors[pixels]
    model.buffers.append(schema.BufferT())
    between = schema.TensorT()
    between.name = bytes(source.name or b"") + b"_float"
    between.type = schema.TensorType.FLOAT32
    between.shape = np.array(source.shape, dtype=np.int32)
    if source.shapeSignature is not None:
        between.shapeSignature = np.array(source.shapeSignature, dtype=np.int32)
    between.buffer = len(model.buffers) - 1
    graph.tensors.append(between)
    split = schema.OperatorT()
    split.opcodeIndex = dequantize
    split.inputs = np.array([pixels], dtype=np.int32)
    split.outputs = np.array([len(graph.tensors) - 1], dtype=np.int32)
    for op in mixed:
        op.inputs = np.array([len(graph.tensors) - 1], dtype=np.int32)
    graph.operators.insert(graph.operators.index(mixed[0]), split)
    return flatbuffer.pack(model)


def _code_index(model, name: str, add: bool = False):
    """The index of builtin op `name` in the model's operator codes, added (version 1) if asked."""
    builtin = getattr(schema.BuiltinOperator, name)
    for index, code in enumerate(model.operatorCodes):
        if max(code.builtinCode, code.deprecatedBuiltinCode) == builtin:
            return index
    if not add:
        return None
    code = schema.OperatorCodeT()
    code.builtinCode = builtin
    code.deprecatedBuiltinCode = min(builtin, 127)
    code.version = 1
    model.operatorCodes.append(code)
    return len(model.operatorCodes) - 1
