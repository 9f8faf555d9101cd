"""The accuracy check: each exported model against the Keras model, on the same held-out images.

The .tflite runs through `edgecell.device.model.classifier.Classifier`, the code path `edgecell infer`
takes on the board (same decoding, resizing and dequantization), and the Keras model sees the
same decoded pixels. Per variant: accuracy, the drop in percentage points against Keras, the
paired counts the drop is made of (both right, Keras only, TFLite only, neither; what its interval
in `edgecell.device.measure.accuracy` is computed from), top-1 agreement with Keras, per-class accuracy
change and the flips it is made of (by true class: Keras right and TFLite wrong, the reverse),
the largest probability difference, the median invoke latency on this machine, and the
figures beside a constant answer (majority-class rate, balanced accuracy, each class's recall).
"""

import time
from pathlib import Path
from typing import NamedTuple, Optional

import numpy as np

from edgecell.core.errors import EdgecellError
from edgecell.device.input import decode_scale
from edgecell.device.input.image import ImageError, load_resized
from edgecell.device.measure.accuracy import Paired, paired
from edgecell.device.measure.baseline import against_constant
from edgecell.device.measure.stats import latency
from edgecell.device.model.classifier import Classifier
from edgecell.device.model.scores import best


class HeldOut(NamedTuple):
    images: np.ndarray  # uint8 (N, H, W, 3) at the model's input size
    labels: np.ndarray  # (N,) class indices
    paths: list
    unreadable: list  # paths that could not be decoded


class Check(NamedTuple):
    accuracy: float
    drop_points: float  # Keras accuracy minus this one, in percentage points (positive = worse)
    counts: Paired  # on the same images: both right, Keras only, TFLite only, neither
    agreement: float  # share of images where the top-1 class equals Keras' top-1
    per_class_change: dict  # {label: change in percentage points against Keras}
    flips_by_class: dict  # {label: {"images", "keras_only", "tflite_only"}}: where the paired totals come from
    max_probability_diff: float
    latency_ms_p50: float
    runtime: str
    baseline: dict  # beside a constant answer: majority-class rate, balanced accuracy, recalls, verdict
    scores: Optional[np.ndarray] = None  # the TFLite model's (N, classes) scores (its unknown threshold's input)


def load_held_out(paths, labels, input_size, decode: str = decode_scale.DEFAULT) -> HeldOut:
    """The images decoded and resized as the board will (under decode rule `decode`)."""
    images, kept, unreadable = [], [], []
    for path, label in zip(paths, labels):
        try:
            images.append(load_resized(path, input_size, decode))
            kept.append((str(path), int(label)))
        except ImageError:
            unreadable.append(str(path))
    if not images:
        raise EdgecellError(
            f"None of the {len(paths)} held-out images can be read, so no accuracy can be checked; "
            "give a class-folder dataset with --data."
        )
    return HeldOut(np.stack(images), np.array([label for _, label in kept]), [p for p, _ in kept], unreadable)


def keras_probabilities(model, held_out: HeldOut, batch_size: int = 64) -> np.ndarray:
    return np.asarray(model.predict(held_out.images.astype(np.float32), batch_size=batch_size, verbose=0))


def tflite_probabilities(model_path: Path, held_out: HeldOut, threads=None):
    """(scores (N, classes), invoke milliseconds per image, runtime name) through the device path."""
    classifier = Classifier(model_path, threads=threads)
    scores, timings = [], []
    for image in held_out.images:
        tensor = classifier.preprocess(image)
        started = time.perf_counter()
        raw = classifier.invoke(tensor)
        timings.append((time.perf_counter() - started) * 1000.0)
        scores.append(classifier.scores(raw))
    runtime = f"{classifier.runtime.name} {classifier.runtime.version}"
    return np.stack(scores), timings, runtime


def accuracy(probabilities: np.ndarray, labels: np.ndarray) -> float:
    return float((best(probabilities) == labels).mean())


def per_class_accuracy(probabilities, labels, classes) -> dict:
    predicted = best(probabilities)
    return {
        name: float((predicted[labels == i] == i).mean()) if np.any(labels == i) else None
        for i, name in enumerate(classes)
    }


def flips_by_class(keras: np.ndarray, tflite: np.ndarray, labels: np.ndarray, classes) -> dict:
    """Per true class: its images, those Keras gets right and TFLite wrong, and the reverse.

    The rows add up to the paired totals' `keras_only` and `tflite_only`; they show which classes the
    quantization cost (an int8 that loses three Monocytes and nothing else says so here, while the
    totals only say three)."""
    keras_right, tflite_right = best(keras) == labels, best(tflite) == labels
    return {
        name: {
            "images": int(np.sum(labels == i)),
            "keras_only": int(np.sum((labels == i) & keras_right & ~tflite_right)),
            "tflite_only": int(np.sum((labels == i) & ~keras_right & tflite_right)),
        }
        for i, name in enumerate(classes)
    }


def compare(keras: np.ndarray, tflite: np.ndarray, labels: np.ndarray, classes, timings, runtime: str) -> Check:
    keras_accuracy, tflite_accuracy = accuracy(keras, labels), accuracy(tflite, labels)
    before = per_class_accuracy(keras, labels, classes)
    after = per_class_accuracy(tflite, labels, classes)
    change = {
        name: None if before[name] is None else round(100.0 * (after[name] - before[name]), 4) for name in classes
    }
    return Check(
        accuracy=tflite_accuracy,
        drop_points=round(100.0 * (keras_accuracy - tflite_accuracy), 4),
        agreement=float((best(keras) == best(tflite)).mean()),
        counts=paired(best(keras) == labels, best(tflite) == labels),
        per_class_change=change,
        flips_by_class=flips_by_class(keras, tflite, labels, classes),
        max_probability_diff=float(np.abs(keras - tflite).max()),
        latency_ms_p50=latency(timings).p50,
        runtime=runtime,
        baseline=against_constant(labels, best(tflite), classes),
        scores=tflite,
    )


def against_keras(model_path: Path, keras: np.ndarray, held_out: HeldOut, classes, threads=None) -> Check:
    scores, timings, runtime = tflite_probabilities(model_path, held_out, threads)
    return compare(keras, scores, held_out.labels, classes, timings, runtime)
