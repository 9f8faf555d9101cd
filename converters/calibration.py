"""The int8 calibration set: training images only, stratified across classes.

Full-integer quantization picks each tensor's int8 range from the values it takes on these
images. They come from the training side of `split.json` (never the held-out images the
accuracy check uses), in proportion to each class's share, decoded and resized by the same
`load_resized` the board uses, under the model's decode rule.
"""

from pathlib import Path
from typing import NamedTuple

import numpy as np

from edgecell.core.errors import EdgecellError
from edgecell.core.split import Split
from edgecell.device.input import decode_scale
from edgecell.device.input.image import ImageError, load_resized

DEFAULT_SAMPLES = 300


class Calibration(NamedTuple):
    images: np.ndarray  # uint8 (N, H, W, 3)
    paths: list
    per_class: dict  # {label: count}
    warning: str  # "" when `requested` images were available


def choose(split: Split, count: int, seed: int = 4) -> list:
    """Up to `count` training samples, each class in proportion to its share (at least one each)."""
    train = split.train
    if not train:
        raise EdgecellError(
            "split.json lists no training images, and int8 calibration uses only training images; "
            "retrain the model or export without int8 (--quantize float32)."
        )
    if count >= len(train):
        return list(train)
    rng = np.random.default_rng(seed)
    by_class = {}
    for sample in train:
        by_class.setdefault(sample.label, []).append(sample)
    quotas = _quotas({label: len(members) for label, members in by_class.items()}, count)
    chosen = []
    for label, members in sorted(by_class.items()):
        order = rng.permutation(len(members))[: quotas[label]]
        chosen += [members[i] for i in sorted(order)]
    return chosen


def _quotas(sizes: dict, count: int) -> dict:
    """Split `count` over classes in proportion to `sizes` (largest remainders), at least one each."""
    total = sum(sizes.values())
    exact = {label: count * n / total for label, n in sizes.items()}
    quotas = {label: min(sizes[label], max(1, int(share))) for label, share in exact.items()}
    by_remainder = sorted(sizes, key=lambda label: exact[label] - int(exact[label]), reverse=True)
    while sum(quotas.values()) < count:
        grew = False
        for label in by_remainder:
            if sum(quotas.values()) < count and quotas[label] < sizes[label]:
                quotas[label] += 1
                grew = True
        if not grew:
            break
    return quotas


def load(split: Split, count: int, input_size, seed: int = 4, decode: str = decode_scale.DEFAULT) -> Calibration:
    """Decode the chosen training images at the model's input size."""
    samples = choose(split, count, seed)
    root = Path(split.root)
    images, paths, per_class = [], [], {}
    for sample in samples:
        path = root / sample.path
        try:
            images.append(load_resized(path, input_size, decode))
        except ImageError:
            continue  # a training image gone since training; the count below says so
        paths.append(str(path))
        label = split.classes[sample.label]
        per_class[label] = per_class.get(label, 0) + 1
    if not images:
        raise EdgecellError(
            f"None of the {len(samples)} training images chosen for int8 calibration under {root} can be read; "
            "give the dataset folder back or export without int8 (--quantize float32)."
        )
    warning = ""
    if len(images) < count:
        warning = (
            f"Only {len(images)} training images are available for int8 calibration "
            f"(--calib-samples {count}); calibrating on those."
        )
    return Calibration(np.stack(images), paths, per_class, warning)


def representative(calibration: Calibration):
    """The representative-dataset function TFLiteConverter calls: one float32 image at a time."""

    def batches():
        for image in calibration.images:
            yield [image[None].astype(np.float32)]

    return batches
