"""Ask a real TFLite runtime which builtin op versions it registers.

A runtime looks up every operator code a model lists when it builds the interpreter, used or
not, and refuses the model when one is missing. So a model with no operators and one listed
operator code (builtin number, version) loads exactly when the runtime has that kernel version.
"""

import json
import subprocess
import tempfile
from pathlib import Path

import numpy as np
from ai_edge_litert import schema_py_generated as schema

from edgecell.converters import flatbuffer

# Runs inside the runtime's own venv: tries each probe file, prints {file name: loads}.
_PROBE = """
import json, sys, pathlib
from tflite_runtime.interpreter import Interpreter
result = {}
for path in sorted(pathlib.Path(sys.argv[1]).glob("*.tflite")):
    try:
        Interpreter(model_content=path.read_bytes())
        result[path.stem] = True
    except (ValueError, RuntimeError):
        result[path.stem] = False
print(json.dumps(result))
"""


def probe_model(code: int, version: int) -> bytes:
    """A valid model with no operators whose operator-code list holds (code, version)."""
    tensor = schema.TensorT()
    tensor.shape = np.array([1], dtype=np.int32)
    tensor.type = schema.TensorType.FLOAT32
    tensor.buffer = 0
    tensor.name = "x"
    graph = schema.SubGraphT()
    graph.tensors = [tensor]
    graph.inputs = np.array([0], dtype=np.int32)
    graph.outputs = np.array([0], dtype=np.int32)
    graph.operators = []
    model = schema.ModelT()
    model.version = 3
    model.buffers = [schema.BufferT()]
    model.subgraphs = [graph]
    model.operatorCodes = [
        schema.OperatorCodeT(deprecatedBuiltinCode=min(code, 127), version=version, builtinCode=code)
    ]
    return flatbuffer.pack(model)


def loads(python, pairs) -> dict:
    """{(code, version): True when the runtime in `python`'s venv registers it}."""
    with tempfile.TemporaryDirectory() as folder:
        for code, version in pairs:
            (Path(folder) / f"{code}_{version}.tflite").write_bytes(probe_model(code, version))
        done = subprocess.run([str(python), "-c", _PROBE, folder], capture_output=True, text=True, timeout=300)
    if done.returncode != 0:
        raise RuntimeError(f"the probe failed in {python}: {done.stderr[-2000:]}")
    result = json.loads(done.stdout.strip().splitlines()[-1])
    return {tuple(int(part) for part in stem.split("_")): ok for stem, ok in result.items()}


def version_ranges(python, codes, up_to: int = 16) -> dict:
    """{code: (lowest, highest) registered version} for the codes the runtime knows.

    Most ops register versions 1..max; a few start later (BROADCAST_TO starts at 2).
    """
    found = loads(python, [(code, version) for code in codes for version in range(1, up_to + 1)])
    table = {}
    for code in codes:
        versions = [version for version in range(1, up_to + 1) if found.get((code, version))]
        if versions:
            table[code] = (versions[0], versions[-1])
    return table
