"""A class-folder dataset: one subfolder per class, scanned, validated and split.

The split is stratified and deterministic (seed 4 and a 0.2 test fraction by default, as in the
tutorial this project grew out of), and is written to `split.json` so export evaluates on exactly
the held-out images and calibrates only on training images.
"""

import json
import os
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from edgecell.device.image import ImageError, is_image_name, load_rgb
from edgecell.errors import EdgecellError

SPLIT_FILE = "split.json"


@dataclass(frozen=True)
class Sample:
    path: str  # relative to the dataset root, with forward slashes
    label: int


@dataclass
class Dataset:
    root: Path
    classes: list
    samples: list  # decodable images, sorted by class then path
    skipped: list = field(default_factory=list)  # [{"path": ..., "reason": ...}]

    def counts(self, samples=None) -> dict:
        samples = self.samples if samples is None else samples
        counts = {name: 0 for name in self.classes}
        for sample in samples:
            counts[self.classes[sample.label]] += 1
        return counts

    def abspath(self, sample: Sample) -> str:
        return str(self.root / sample.path)


def scan(root, validate: bool = True, workers: int = 0) -> Dataset:
    """List the images of a class-folder dataset; with `validate`, decode each once.

    Files that are not images (by extension) are ignored; images that cannot be decoded are
    listed in `skipped` with the reason. A missing folder, fewer than two classes or a class
    with no usable image is an EdgecellError.
    """
    root = Path(root)
    if not root.is_dir():
        raise EdgecellError(f"Dataset folder {root} does not exist; give a folder with one subfolder per class.")
    classes = sorted(p.name for p in root.iterdir() if p.is_dir() and not p.name.startswith("."))
    if len(classes) < 2:
        raise EdgecellError(
            f"Dataset folder {root} has {len(classes)} class subfolder(s); a classifier needs at least two "
            "(one subfolder per class, e.g. TRAIN/EOSINOPHIL/*.jpeg)."
        )
    candidates = []
    for label, name in enumerate(classes):
        for path in _walk_images(root / name):
            candidates.append(Sample(path.relative_to(root).as_posix(), label))

    skipped = []
    if validate:
        reasons = _decode_all([root / s.path for s in candidates], workers)
        kept = []
        for sample, reason in zip(candidates, reasons):
            if reason is None:
                kept.append(sample)
            else:
                skipped.append({"path": sample.path, "reason": reason})
        candidates = kept

    dataset = Dataset(root=root, classes=classes, samples=candidates, skipped=skipped)
    empty = [name for name, n in dataset.counts().items() if n == 0]
    if empty:
        raise EdgecellError(
            f"Class folder(s) {', '.join(empty)} in {root} hold no usable image (JPEG, PNG or BMP); "
            "add images or remove the folder."
        )
    return dataset


def _walk_images(folder: Path):
    found = []
    for dirpath, dirnames, filenames in os.walk(folder, followlinks=True):
        dirnames[:] = sorted(d for d in dirnames if not d.startswith("."))
        for name in filenames:
            if not name.startswith(".") and is_image_name(name):
                found.append(Path(dirpath) / name)
    return sorted(found)


def _reason(path: Path):
    try:
        load_rgb(path)
    except ImageError as error:
        return str(error)
    return None


def _decode_all(paths, workers: int):
    workers = workers or min(8, (os.cpu_count() or 1) + 1)
    with ThreadPoolExecutor(workers) as pool:  # OpenCV releases the GIL while decoding
        return list(pool.map(_reason, paths))


@dataclass(frozen=True)
class Split:
    """Which images train, which validate (early stopping) and which are held out for testing."""

    classes: list
    train: list
    val: list
    test: list
    seed: int
    test_fraction: float
    val_fraction: float
    root: str = ""

    def to_json(self) -> dict:
        def rows(samples):
            return [[s.path, s.label] for s in samples]

        return {
            "root": self.root,
            "classes": self.classes,
            "seed": self.seed,
            "test_fraction": self.test_fraction,
            "val_fraction": self.val_fraction,
            "counts": {part: len(getattr(self, part)) for part in ("train", "val", "test")},
            "train": rows(self.train),
            "val": rows(self.val),
            "test": rows(self.test),
        }

    @classmethod
    def from_json(cls, data: dict) -> "Split":
        def samples(part):
            return [Sample(path, int(label)) for path, label in data[part]]

        return cls(
            classes=list(data["classes"]),
            train=samples("train"),
            val=samples("val"),
            test=samples("test"),
            seed=int(data["seed"]),
            test_fraction=float(data["test_fraction"]),
            val_fraction=float(data["val_fraction"]),
            root=data.get("root", ""),
        )


def split(dataset: Dataset, test_fraction: float = 0.2, val_fraction: float = 0.1, seed: int = 4) -> Split:
    """Stratified, deterministic split: each class is shuffled with `seed` and cut by fraction.

    Every class with at least two images keeps one in training and puts at least one in the
    test set; `val_fraction` of the training part (at least one image where a class has three
    or more) is kept for early stopping.
    """
    if not 0.0 < test_fraction < 1.0:
        raise EdgecellError(f"--test-split {test_fraction} is out of range; give a fraction between 0 and 1, e.g. 0.2.")
    if not 0.0 <= val_fraction < 1.0:
        raise EdgecellError(f"Validation fraction {val_fraction} is out of range; give a fraction in [0, 1).")
    rng = np.random.default_rng(seed)
    train, val, test = [], [], []
    for label in range(len(dataset.classes)):
        members = [s for s in dataset.samples if s.label == label]
        order = rng.permutation(len(members))
        members = [members[i] for i in order]
        n = len(members)
        n_test = min(n - 1, max(1, round(n * test_fraction))) if n >= 2 else 0
        rest = n - n_test
        n_val = min(rest - 1, max(1, round(rest * val_fraction))) if (val_fraction > 0 and rest >= 2) else 0
        test += members[:n_test]
        val += members[n_test : n_test + n_val]
        train += members[n_test + n_val :]
    key = lambda s: (s.label, s.path)  # noqa: E731
    return Split(
        classes=list(dataset.classes),
        train=sorted(train, key=key),
        val=sorted(val, key=key),
        test=sorted(test, key=key),
        seed=seed,
        test_fraction=test_fraction,
        val_fraction=val_fraction,
        root=str(dataset.root.resolve()),
    )


def read_split(model_dir) -> Split:
    path = Path(model_dir) / SPLIT_FILE
    try:
        return Split.from_json(json.loads(path.read_text()))
    except FileNotFoundError:
        raise EdgecellError(f"{path} does not exist; is {model_dir} a model folder written by `edgecell train`?") from None
    except (ValueError, KeyError, TypeError) as error:
        raise EdgecellError(f"{path} is not a valid split file ({error}); retrain to write it again.") from None
