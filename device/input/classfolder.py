"""A class-folder dataset (one subfolder per class) as the board reads it: scanned, validated, and
the held-out images a model folder's split names. Training, export and `bench --data` share it."""

import os
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

from edgecell.core import modelfolder
from edgecell.core.errors import EdgecellError
from edgecell.core.labels import read_labels
from edgecell.core.split import Sample, read_split
from edgecell.device.input.image import ImageError, is_image_name, load_rgb


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
    candidates, seen_files = [], set()
    class_dirs = {name: _inode(root / name) for name in classes}
    for label, name in enumerate(classes):
        others = {_inode(root)} | {inode for other, inode in class_dirs.items() if other != name}
        for path in _walk_images(root / name, seen_files, others):
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


def _walk_images(folder: Path, seen_files=None, skip_dirs=()):
    """Image-named files under `folder`, sorted. Links to folders are followed (a dataset may be
    assembled from links), but each folder is visited once by (device, inode), so a link loop
    ends; and each file is listed once, so one image reached by two links cannot be a training
    and a test sample at once. `seen_files` carries the files listed so far across classes;
    `skip_dirs` are (device, inode) of folders never entered (the dataset and the other classes)."""
    seen_dirs, seen_files = set(skip_dirs), set() if seen_files is None else seen_files
    found = []
    for dirpath, dirnames, filenames in os.walk(folder, followlinks=True):
        try:
            info = os.stat(dirpath)
        except OSError:
            dirnames[:] = []
            continue
        if (info.st_dev, info.st_ino) in seen_dirs:
            dirnames[:] = []
            continue
        seen_dirs.add((info.st_dev, info.st_ino))
        dirnames[:] = sorted(d for d in dirnames if not d.startswith("."))
        for name in sorted(filenames):
            if name.startswith(".") or not is_image_name(name):
                continue
            path = Path(dirpath) / name
            try:
                key = os.stat(path)
                key = (key.st_dev, key.st_ino)
            except OSError:  # a broken link: listed, and skipped with its reason when decoded
                key = str(path)
            if key not in seen_files:
                seen_files.add(key)
                found.append(path)
    return sorted(found)


def _inode(path: Path):
    info = os.stat(path)
    return info.st_dev, info.st_ino


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


def held_out(model_dir, data=None):
    """The images to evaluate on: the recorded test split, or every image of another folder.

    Returns (paths, labels, classes, skipped).
    """
    model_dir = Path(model_dir)
    classes = read_labels(model_dir / modelfolder.LABELS_FILE)
    if data is None:
        paths, labels, _ = test_split(model_dir)
        return paths, labels, classes, []
    folder = scan(data)
    if folder.classes != classes:
        raise EdgecellError(
            f"The class folders of {data} ({', '.join(folder.classes)}) are not the model's classes "
            f"({', '.join(classes)})."
        )
    return [folder.abspath(s) for s in folder.samples], [s.label for s in folder.samples], classes, folder.skipped


def test_split(model_dir):
    """(paths, labels, classes) of the images a model folder's split.json holds out for testing."""
    split = read_split(model_dir)
    root = Path(split.root)
    if not root.is_dir():
        raise EdgecellError(
            f"The dataset folder recorded in {Path(model_dir) / modelfolder.SPLIT_FILE} ({root}) is gone; "
            "give the class folder itself with --data."
        )
    return [str(root / s.path) for s in split.test], [s.label for s in split.test], split.classes
