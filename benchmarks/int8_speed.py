"""int8 against float32 invoke for the edge network, whole and layer by layer, side by side.

    python benchmarks/int8_speed.py                # about a minute once the models exist
    python benchmarks/int8_speed.py --runs 2000 --fresh

The Python runtime has no per-op profiler, so each layer is timed as a graph of its own: the
trained edge network (200x200, `edgecell train` for one epoch on the suite's images) cut into
its stem, the depthwise and the pointwise half of each block, and the head; each part converted
to float32 and to int8 (int8 in and out, as those tensors are inside the whole model, calibrated
on the activations the calibration images give there). The whole network is converted by
`converters/convert.py` as `edgecell export` does, float32 and int8, and int8 once more as the
converter writes it before `converters/requantize.py` (a QUANTIZE from the uint8 input to int8,
which XNNPACK does not run). Models are made in a process of its own (TensorFlow); the timing
process imports only the device runtime. Every row is a ratio of two medians measured in one
loop, the contenders taking turns, one thread each.
"""

import argparse
import json
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))  # run as a script from anywhere

from benchmarks.timing import interleaved, ratio  # noqa: E402

DEFAULT_WORK = Path.home() / ".cache" / "edgecell-benchmarks" / "int8_speed"
MADE = "made.json"
TARGET = 0.6  # edge int8 invoke at most 0.6 of float32's


def make(work: Path, img_size: int = 200) -> dict:
    """Write every model this benchmark times; {name: {"float32": path, "int8": path, ...}}."""
    from unittest import mock

    import numpy as np
    import tensorflow as tf

    from benchmarks import models
    from edgecell.converters import calibration, requantize
    from edgecell.converters.convert import Variant, _quiet, convert
    from edgecell.core.modelfolder import load_keras
    from edgecell.core.split import read_split

    folder = models.model_dir(work, "edge", models.write_images(work / "images"), img_size)
    model, _ = load_keras(folder)
    calibrated = calibration.load(read_split(folder), calibration.DEFAULT_SAMPLES, (img_size, img_size))
    representative = calibration.representative(calibrated)
    out = work / "tflite"
    out.mkdir(parents=True, exist_ok=True)
    made = {"whole": {}, "layers": {}}

    def write(name, content):
        path = out / f"{name}.tflite"
        path.write_bytes(content)
        return str(path)

    whole = made["whole"]
    whole["float32"] = write("float32", convert(model, Variant.float32))
    whole["int8"] = write("int8", convert(model, Variant.int8, representative))
    whole["int8 per-tensor"] = write("int8_per_tensor", convert(model, Variant.int8, representative, False))
    with mock.patch.object(requantize, "through_float", lambda content: content):
        whole["int8 as converted"] = write("int8_as_converted", convert(model, Variant.int8, representative))

    activations = calibrated.images.astype(np.float32)
    for name, layers in _parts(model):
        inputs = tf.keras.Input(activations.shape[1:])
        x = inputs
        for layer in layers:
            x = layer(x)
        part = tf.keras.Model(inputs, x)
        samples = activations[:: max(1, len(activations) // 64)]
        converter = tf.lite.TFLiteConverter.from_keras_model(part)
        converter.optimizations = [tf.lite.Optimize.DEFAULT]
        converter.representative_dataset = lambda s=samples: ([a[None]] for a in s)
        converter.target_spec.supported_ops = [tf.lite.OpsSet.TFLITE_BUILTINS_INT8]
        converter.inference_input_type = converter.inference_output_type = tf.int8
        with _quiet():
            int8 = converter.convert()
        shape = "x".join(str(v) for v in activations.shape[1:])
        made["layers"][name] = {
            "input": shape,
            "float32": write(f"{name}_float32", convert(part, Variant.float32)),
            "int8": write(f"{name}_int8", int8),
        }
        activations = part.predict(activations, verbose=0, batch_size=32)
    (work / MADE).write_text(json.dumps(made, indent=2))
    return made


def _parts(model) -> list:
    """[(name, layers)]: the stem (with the input's rescaling), each block's depthwise and
    pointwise halves (convolution, folded batch norm, ReLU6), and the head."""
    parts = []
    for layer in model.layers[1:]:
        name = layer.name
        if name.startswith("block"):
            block, kind = name.split("_")[:2]
            key = f"{block} {'depthwise' if kind == 'dw' else 'pointwise'}"
        elif name.startswith(("stem", "rescaling")):
            key = "stem"
        else:
            key = "head"
        if not parts or parts[-1][0] != key:
            parts.append((key, []))
        parts[-1][1].append(layer)
    return parts


def invoker(path: str, threads: int = 1):
    """A zero-argument call running one bare invoke of `path` on a fixed input."""
    import numpy as np

    from edgecell.device.model import runtime

    interpreter, _ = runtime.load(Path(path).read_bytes(), path, threads=threads)
    detail = interpreter.get_input_details()[0]
    rng = np.random.default_rng(0)
    info = np.iinfo(detail["dtype"]) if detail["dtype"] != np.float32 else None
    tensor = (
        rng.integers(info.min, info.max + 1, detail["shape"]).astype(detail["dtype"])
        if info
        else rng.uniform(0, 6, detail["shape"]).astype(np.float32)
    )
    interpreter.set_tensor(detail["index"], tensor)
    return interpreter.invoke


def measure(made: dict, runs: int) -> list:
    """Ratios: the whole network's variants against float32, then each layer's int8 against float32."""
    whole = made["whole"]
    times = interleaved({name: invoker(path) for name, path in whole.items()}, runs)
    rows = [
        ratio(
            5,
            f"edge 200x200: {name} / float32 invoke",
            times[name],
            times["float32"],
            TARGET if name == "int8" else None,
        )
        for name in whole
        if name != "float32"
    ]
    rows.append(
        ratio(
            5,
            "edge 200x200: int8 / int8 as converted (the input's QUANTIZE outside XNNPACK)",
            times["int8"],
            times["int8 as converted"],
        )
    )
    for name, paths in made["layers"].items():
        layer = interleaved({v: invoker(paths[v]) for v in ("float32", "int8")}, runs)
        micro = {v: _micro(layer[v]) for v in layer}
        rows.append(
            ratio(5, f"{name} ({paths['input']} in): int8 / float32", micro["int8"], micro["float32"], unit="us")
        )
    return rows


def _micro(latency):
    """A Latency in microseconds: a layer takes a few hundredths of a millisecond."""
    return latency._replace(**{f: getattr(latency, f) * 1000 for f in latency._fields if f != "count"})


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--work", type=Path, default=DEFAULT_WORK)
    parser.add_argument("--runs", type=int, default=1000)
    parser.add_argument("--fresh", action="store_true", help="make the models again")
    parser.add_argument("--make", action="store_true", help=argparse.SUPPRESS)  # the model-making child
    args = parser.parse_args(argv)
    if args.make:
        make(args.work)
        return 0
    if args.fresh or not (args.work / MADE).is_file():
        subprocess.run([sys.executable, __file__, "--make", "--work", str(args.work)], check=True)
    made = json.loads((args.work / MADE).read_text())
    import os
    import time

    from edgecell.device.measure.machine import run_context
    from edgecell.device.model.runtime import interpreter_class

    context = run_context(interpreter_class()[1], 1)
    print(
        f"{time.strftime('%Y-%m-%d', time.gmtime())}, {context['cpu']}, {context['cpu_count']} cores "
        f"(load average {os.getloadavg()[0]:.1f}), {context['runtime']} {context['runtime_version']}; "
        f"1 thread, {args.runs} turns each"
    )
    print("| measurement | ratio | target | figures |")
    print("|---|---:|---|---|")
    for row in measure(made, args.runs):
        target = f"<= {row.target}" + (" met" if row.met else " MISSED") if row.target else "-"
        print(f"| {row.what} | {row.value:.3f} | {target} | {row.detail} |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
