"""Item 5: multiply-accumulates and parameters of a TFLite graph, and a Raspberry Pi 4 estimate.

Counted from the graph the interpreter runs (batch norm already folded into the convolutions),
for the ops that do the arithmetic: CONV_2D, DEPTHWISE_CONV_2D and FULLY_CONNECTED. The Pi 4
figure is an ESTIMATE, never a measurement, scaled from one published reference point,
MobileNet v2 (1.0, 224x224: 300 M MACs, 3.47 M parameters, Sandler et al. 2018) int8 at about
17 ms on a Raspberry Pi 4 in 64-bit mode with XNNPACK, in two ways: by MACs (assumes the same
throughput per MAC, so it flatters small layers and memory-bound graphs), and by time (this
network's invoke over MobileNet v2's, both int8, one thread, measured here: assumes the Pi's
cores favour the two graphs alike, which an x86 core with AVX-512 need not).
"""

from typing import NamedTuple

import numpy as np

from benchmarks.timing import Ratio, interleaved
from edgecell.device.model import runtime

REFERENCE_MACS = 300e6  # MobileNet v2 1.0 at 224x224
REFERENCE_PI4_INT8_MS = 17.0  # on a Pi 4, 64-bit, XNNPACK: the reference point


class Graph(NamedTuple):
    macs: int
    params: int  # elements of the weight and bias tensors of the counted ops
    ops: int  # operators in the graph


def count(path) -> Graph:
    interpreter, _ = runtime.load(open(path, "rb").read(), str(path))
    shapes = {t["index"]: tuple(int(v) for v in t["shape"]) for t in interpreter.get_tensor_details()}
    macs, weights = 0, set()
    ops = interpreter._get_ops_details()  # the only way to walk the graph with the runtime alone
    for op in ops:
        name, inputs, outputs = op["op_name"], list(op["inputs"]), list(op["outputs"])
        if name not in ("CONV_2D", "DEPTHWISE_CONV_2D", "FULLY_CONNECTED"):
            continue
        out = shapes[outputs[0]]
        kernel = shapes[inputs[1]]
        if name == "CONV_2D":  # kernel [out_ch, kh, kw, in_ch]
            macs += int(np.prod(out)) * int(np.prod(kernel[1:]))
        elif name == "DEPTHWISE_CONV_2D":  # kernel [1, kh, kw, channels]
            macs += int(np.prod(out)) * kernel[1] * kernel[2]
        else:  # kernel [units, inputs]
            macs += int(np.prod(out)) * kernel[1]
        weights.update(i for i in inputs[1:] if i >= 0)
    params = sum(int(np.prod(shapes[i])) for i in weights)
    return Graph(macs, params, len(ops))


def pi4_estimate_ms(macs: int) -> float:
    return macs / REFERENCE_MACS * REFERENCE_PI4_INT8_MS


def per_model(models: dict, reference=None, runs: int = 50) -> list:
    """One line per network: MACs relative to MobileNet v2's, the counts, and two Pi 4 ESTIMATES:
    scaled by MACs, and (given the `reference` MobileNet v2 int8 .tflite) by the time this network
    takes against MobileNet v2 here, one thread, taking turns."""
    rows, times = [], {}
    if reference is not None:
        graph = count(reference)
        rows.append(
            Ratio(
                5,
                "MobileNet v2 (reference): MACs counted here / published",
                graph.macs / REFERENCE_MACS,
                None,
                f"{graph.macs / 1e6:.1f} M MACs, {graph.params / 1e6:.2f} M parameters "
                "(published: 300 M, 3.47 M): the counter checked on a known graph",
            )
        )
        calls = {"reference": _invoker(reference)}
        calls.update({arch: _invoker(paths["int8"]) for arch, paths in models.items()})
        times = interleaved(calls, runs)
    for arch, paths in models.items():
        graph = count(paths["int8"])
        detail = (
            f"{graph.macs / 1e6:.1f} M MACs, {graph.params / 1e3:.1f} k parameters; Raspberry Pi 4 int8 "
            f"ESTIMATE {pi4_estimate_ms(graph.macs):.1f} ms by MACs"
        )
        if times:  # minimums: MobileNet v2's larger working set makes its median swing 2x with neighbours' cache use
            here = times[arch].min / times["reference"].min
            detail += (
                f", {here * REFERENCE_PI4_INT8_MS:.1f} ms by time ({times[arch].min:.2f} / "
                f"{times['reference'].min:.2f} ms against MobileNet v2 here, fastest of {times[arch].count})"
            )
        rows.append(
            Ratio(
                5,
                f"{arch}: MACs / MobileNet v2's",
                graph.macs / REFERENCE_MACS,
                None,
                detail + f"; scaled from MobileNet v2 int8 ~{REFERENCE_PI4_INT8_MS:.0f} ms, not measured",
            )
        )
    return rows


def _invoker(path):
    """One bare invoke of `path` on a fixed random input of its type, one thread."""
    interpreter, _ = runtime.load(open(path, "rb").read(), str(path), threads=1)
    detail = interpreter.get_input_details()[0]
    rng = np.random.default_rng(0)
    info = np.iinfo(detail["dtype"]) if np.issubdtype(detail["dtype"], np.integer) else None
    value = (
        rng.integers(info.min, info.max, detail["shape"], endpoint=True)
        if info
        else rng.uniform(0, 255, detail["shape"])
    )
    interpreter.set_tensor(detail["index"], value.astype(detail["dtype"]))
    return interpreter.invoke
