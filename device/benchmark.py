"""`edgecell bench`: how fast a .tflite runs here, at what accuracy, in how much memory.

Like TensorFlow Lite's benchmark tool (init, first inference, warm-up, timed runs), but in
Python through the same `Classifier` that `edgecell infer` uses, and with real images when given
a dataset: then it also reports accuracy and the end-to-end latency of decode + preprocess +
invoke + scores. Without images the inputs are random values of the model's input type.

Peak memory is the operating system's high-water mark of this process (VmHWM), so with several
models in one run each row is the peak so far, not that model's alone. Nothing here imports
TensorFlow; the optional Keras baseline lives with training (`edgecell.train.keras_bench`).
"""

import resource
import sys
import time
from pathlib import Path
from typing import NamedTuple, Optional

import numpy as np

from edgecell.core.errors import EdgecellError
from edgecell.core.modelfolder import SPLIT_FILE
from edgecell.device.input import classfolder, image
from edgecell.device.measure.accuracy import Interval, wilson
from edgecell.device.measure.baseline import against_constant
from edgecell.device.measure.stats import Latency, latency, per_second
from edgecell.device.model import runtime
from edgecell.device.model.classifier import Classifier
from edgecell.device.model.scores import best

MAX_INPUTS = 32  # distinct input tensors cycled through the timed invokes


class Run(NamedTuple):
    """One model at one thread count."""

    name: str  # file name, or "keras predict" / "keras call"
    variant: str  # the metadata's variant (int8, float32, ...) or the input type
    runtime: str
    threads: Optional[int]  # None: the runtime's default
    size_bytes: int
    init_ms: float  # load and allocate tensors
    first_ms: float  # the first inference, before warm-up
    invoke: Latency  # the timed runs: inference alone, input already preprocessed
    per_second: float  # timed runs per second of wall time
    peak_memory_mb: float  # the process's high-water mark after this run
    images: int = 0  # with --data: images classified end to end
    accuracy: Optional[float] = None
    end_to_end: Optional[Latency] = None  # decode + preprocess + invoke + scores, per image
    baseline: Optional[dict] = None  # with --data: beside a constant answer (device/measure/baseline.py)

    @property
    def accuracy_interval(self) -> Optional[Interval]:
        """The 95% Wilson interval of `accuracy`, over the images classified end to end."""
        if self.accuracy is None or self.end_to_end is None or not self.end_to_end.count:
            return None
        count = self.end_to_end.count
        return wilson(round(self.accuracy * count), count)

    def as_dict(self) -> dict:
        out = self._asdict()
        out["accuracy_interval"] = list(self.accuracy_interval) if self.accuracy_interval else None
        out["invoke"] = self.invoke.as_dict()
        out["end_to_end"] = self.end_to_end.as_dict() if self.end_to_end else None
        return out


class Images(NamedTuple):
    paths: list
    labels: list  # class index of each path
    classes: list


def peak_memory_mb() -> float:
    """The high-water mark of this process's resident memory, as the kernel counts it."""
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024.0
    except (OSError, ValueError, IndexError):
        pass
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss  # kB on Linux, bytes on macOS
    return peak / (1024.0 * 1024.0) if sys.platform == "darwin" else peak / 1024.0


def find_images(data) -> Images:
    """The images of `data`: a model folder's held-out split (split.json), or a class folder."""
    data = Path(data)
    if (data / SPLIT_FILE).is_file():
        return Images(*classfolder.test_split(data))
    folder = classfolder.scan(data, validate=False)
    return Images([folder.abspath(s) for s in folder.samples], [s.label for s in folder.samples], folder.classes)


def random_inputs(shape, dtype, count: int = 8, seed: int = 0) -> list:
    """Random tensors of the model's input type: pixels 0..255 for float, the full range for integers."""
    rng = np.random.default_rng(seed)
    dtype = np.dtype(dtype)
    if np.issubdtype(dtype, np.integer):
        info = np.iinfo(dtype)
        return [rng.integers(info.min, info.max, shape, endpoint=True).astype(dtype) for _ in range(count)]
    return [rng.uniform(0, 255, shape).astype(dtype) for _ in range(count)]


def variant_of(classifier: Classifier) -> str:
    meta = classifier.metadata or {}
    return str(meta.get("variant") or f"{np.dtype(classifier.input_dtype).name} in")


def bench_tflite(
    path,
    threads=None,
    runs: int = 200,
    warmup: int = 20,
    images: Optional[Images] = None,
    runtime_name: runtime.Runtime = runtime.Runtime.auto,
    full_decode: bool = False,
) -> Run:
    """Init, first inference, warm-up, `runs` timed invokes; with `images`, accuracy and end to end
    (decoding as the model's rule says, or every pixel with `full_decode`)."""
    start = time.perf_counter()
    classifier = Classifier(path, threads=threads, runtime_name=runtime_name, full_decode=full_decode)
    init_ms = (time.perf_counter() - start) * 1000
    if images is not None:
        _check_classes(classifier, images)
        inputs = [classifier.preprocess(rgb) for rgb in decoded(images.paths[:MAX_INPUTS], classifier.decode_fit)]
    else:
        h, w = classifier.input_size
        inputs = random_inputs((1, h, w, 3), classifier.input_dtype)
    first_ms, invoke, rate = timed(classifier.invoke, inputs, runs, warmup)
    accuracy, end_to_end, compared = None, None, None
    if images is not None:
        fit = classifier.decode_fit

        def classify(path):
            return classifier.scores(classifier.invoke(classifier.preprocess(image.load_rgb(path, fit))))

        accuracy, end_to_end, compared = time_end_to_end(classify, images)
    return Run(
        Path(path).name,
        variant_of(classifier),
        f"{classifier.runtime.name} {classifier.runtime.version}",
        threads,
        classifier.size_bytes,
        init_ms,
        first_ms,
        invoke,
        rate,
        peak_memory_mb(),
        len(images.paths) if images else 0,
        accuracy,
        end_to_end,
        compared,
    )


def _check_classes(classifier: Classifier, images: Images):
    if classifier.labels is not None and list(classifier.labels) != list(images.classes):
        raise EdgecellError(
            f"The classes of the --data images ({', '.join(images.classes)}) are not the classes of "
            f"{classifier.path.name} ({', '.join(classifier.labels)}); give images of the model's own classes."
        )
    if classifier.num_classes != len(images.classes):
        raise EdgecellError(
            f"{classifier.path.name} has {classifier.num_classes} outputs but the --data images "
            f"have {len(images.classes)} classes; they must match one to one."
        )


def decoded(paths, fit=None):
    for path in paths:
        try:
            yield image.load_rgb(path, fit)
        except image.ImageError:
            continue


def timed(call, inputs, runs: int, warmup: int):
    """(first inference ms, Latency of `runs` timed calls, calls per second) cycling through `inputs`."""
    if not inputs:
        raise EdgecellError("None of the --data images could be decoded; give a folder of JPEG, PNG or BMP images.")
    start = time.perf_counter()
    call(inputs[0])
    first_ms = (time.perf_counter() - start) * 1000
    for i in range(warmup):
        call(inputs[i % len(inputs)])
    timings = []
    begin = time.perf_counter()
    for i in range(runs):
        start = time.perf_counter()
        call(inputs[i % len(inputs)])
        timings.append((time.perf_counter() - start) * 1000)
    return first_ms, latency(timings), per_second(runs, time.perf_counter() - begin)


def time_end_to_end(classify, images: Images):
    """(accuracy, per-image Latency, the figures beside a constant answer) of `classify(path) -> scores`
    over every image; undecodable ones skipped."""
    timings, truth, answers = [], [], []
    for path, label in zip(images.paths, images.labels):
        start = time.perf_counter()
        try:
            scores = classify(path)
        except image.ImageError:
            continue
        timings.append((time.perf_counter() - start) * 1000)
        truth.append(label)
        answers.append(int(best(scores)))
    if not timings:
        return None, latency(timings), None
    compared = against_constant(truth, answers, images.classes)
    return compared["accuracy"], latency(timings), compared


def bench(
    models,
    threads=(None,),
    runs: int = 200,
    warmup: int = 20,
    data=None,
    baseline=None,
    runtime_name: runtime.Runtime = runtime.Runtime.auto,
    on_run=lambda run: None,
    full_decode: bool = False,
) -> list:
    """Every model at every thread count, a baseline's rows first when one is given
    (`baseline(runs, warmup, images)`, e.g. the Keras model of `edgecell.train.keras_bench`);
    `on_run` sees each Run as soon as it is measured."""
    if runs < 1 or warmup < 0:
        raise EdgecellError(f"--runs {runs} / --warmup {warmup}: give at least one run and no negative warm-up.")
    images = find_images(data) if data is not None else None
    rows = []
    if baseline is not None:
        for run in baseline(runs, warmup, images):
            on_run(run)
            rows.append(run)
    unique = len({Path(m).name for m in models}) == len(models)
    for model in models:
        for count in threads:
            run = bench_tflite(model, count, runs, warmup, images, runtime_name, full_decode)
            if not unique:  # edge/export/model_int8.tflite and seed/export/model_int8.tflite
                run = run._replace(name=str(model))
            on_run(run)
            rows.append(run)
    return rows
