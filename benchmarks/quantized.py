"""Item 2: int8 against float32 invoke, same network, same image, one thread, taking turns."""

from benchmarks.timing import interleaved, ratio
from edgecell.device.input.image import load_rgb
from edgecell.device.model.classifier import Classifier

TARGET = 0.5  # int8 at most half the float32 time


def invoker(path, image_path, threads: int = 1):
    """A zero-argument call running one bare invoke of `path` on the preprocessed `image_path`."""
    classifier = Classifier(path, threads=threads)
    tensor = classifier.preprocess(load_rgb(image_path))
    return lambda: classifier.invoke(tensor)


def int8_vs_float32(models: dict, image_path, runs: int) -> list:
    """One ratio per network: {arch: {"float32": path, "int8": path}}."""
    rows = []
    for arch, paths in models.items():
        times = interleaved({v: invoker(paths[v], image_path) for v in ("float32", "int8")}, runs)
        rows.append(ratio(2, f"{arch}: int8 / float32 invoke, 1 thread", times["int8"], times["float32"], TARGET))
    return rows
