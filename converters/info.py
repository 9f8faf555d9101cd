"""`edgecell info`: what a .tflite takes and gives, what it carries, what it needs from a runtime.

Runs on a board: the interpreter of the installed runtime for the tensors, the device's own
flatbuffer reader for the metadata and the op list, no TensorFlow.
"""

from pathlib import Path

import numpy as np

from edgecell.converters import compat
from edgecell.core.errors import EdgecellError
from edgecell.device import metadata, runtime
from edgecell.device.model import read_model


def describe(path, runtime_name: runtime.Runtime = runtime.Runtime.auto) -> dict:
    path = Path(path)
    content = read_model(path)
    try:
        meta = metadata.read(content)
        ops = compat.ops(content)
    except metadata.MetadataError as error:
        raise EdgecellError(f"Model file {path} is not usable: {error}.") from None
    interpreter, info = runtime.load(content, str(path), runtime_name)
    compatibility = compat.check(content)
    return {
        "file": str(path),
        "size_bytes": len(content),
        "runtime": f"{info.name} {info.version}",
        "inputs": [_tensor(t) for t in interpreter.get_input_details()],
        "outputs": [_tensor(t) for t in interpreter.get_output_details()],
        "metadata": meta,
        "ops": [{"name": op.name, "version": op.version} for op in ops],
        compatibility.target: {"loads": compatibility.loads, "problems": compatibility.problems},
    }


def _tensor(details: dict) -> dict:
    scale, zero_point = details["quantization"]
    return {
        "name": details["name"],
        "shape": [int(d) for d in details["shape"]],
        "dtype": np.dtype(details["dtype"]).name,
        "quantization": {"scale": float(scale), "zero_point": int(zero_point)} if scale else None,
    }


def text(described: dict) -> str:
    lines = [f"{described['file']}: {described['size_bytes']:,} bytes (loaded with {described['runtime']})"]
    for kind in ("inputs", "outputs"):
        for t in described[kind]:
            quant = t["quantization"]
            q = f", scale {quant['scale']:.6g} zero point {quant['zero_point']}" if quant else ""
            lines.append(f"{kind[:-1]:6} {t['name']}: {t['dtype']} {t['shape']}{q}")
    meta = described["metadata"]
    if meta is None:
        lines.append("metadata: none (not made by edgecell export; give --labels, --mean and --std to infer)")
    else:
        source = meta.get("source", {})
        inp = meta.get("input", {})
        lines.append(
            f"metadata: {meta.get('format')}, variant {meta.get('variant')}, edgecell {meta.get('edgecell_version')}"
        )
        lines.append(f"  labels ({len(meta['labels'])}): {', '.join(map(str, meta['labels']))}")
        lines.append(
            f"  input: {inp.get('width')}x{inp.get('height')} {inp.get('color')}, pixels {inp.get('pixel_range')}, "
            f"mean {inp.get('mean')} std {inp.get('std')}, in the model: {inp.get('normalization_in_model')}"
        )
        lines.append(f"  decode: {inp.get('decode', 'full (not recorded)')}")
        lines.append(
            f"  source: {source.get('arch')} from {source.get('model_dir')}, Keras accuracy "
            f"{source.get('keras_accuracy')} on {source.get('test_images')} images"
        )
    lines.append("ops: " + ", ".join(f"{op['name']} v{op['version']}" for op in described["ops"]))
    for target in compat.Target:
        verdict = described[target.value]
        lines.append(
            f"{target.value}: " + ("loads" if verdict["loads"] else "does not load: " + "; ".join(verdict["problems"]))
        )
    return "\n".join(lines)
