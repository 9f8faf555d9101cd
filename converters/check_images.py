"""Which images export's accuracy check runs on, and where each came from.

The held-out images (the test split of split.json, or `--data DIR` instead) always; with
`--check-val`, the validation split too; with `--check-data DIR`, every image of another class
folder. More images narrow the interval of the drop (`edgecell.device.measure.accuracy`) without
retraining. An image is used once, and a training image of split.json never: on images the model
learned from, Keras and its quantized copy agree more often than they will in the field.
"""

from pathlib import Path
from typing import NamedTuple

from edgecell.converters import check
from edgecell.core.errors import EdgecellError
from edgecell.core.split import SPLIT_FILE, read_split
from edgecell.device.input import sources
from edgecell.device.input.classfolder import held_out
from edgecell.device.input.image import IMAGE_EXTENSIONS


class CheckImages(NamedTuple):
    images: check.HeldOut
    sources: list  # [{"source": "test split of split.json", "images": 12}, ...], in the order added
    skipped: list  # paths that were not used, with why: unreadable, a duplicate, a training image


def gather(model_dir, input_size, data=None, check_val: bool = False, check_data=None, decode=None) -> CheckImages:
    """The images and labels to check on, decoded under the model folder's rule `decode`, and where each came from."""
    model_dir = Path(model_dir)
    paths, labels, _, skipped = held_out(model_dir, data)
    if not paths:
        where = data or model_dir / SPLIT_FILE
        raise EdgecellError(
            f"{where} holds no held-out images, so no accuracy can be checked; give a class-folder dataset with --data."
        )
    parts = [(f"--data {data}" if data else f"test split of {SPLIT_FILE}", paths, labels)]
    skipped = [s["path"] for s in skipped]
    split = None
    if check_val or check_data is not None:
        split = read_split(model_dir)
    if check_val:
        if not split.val:
            raise EdgecellError(f"{model_dir / SPLIT_FILE} has no validation images; leave out --check-val.")
        root = Path(split.root)
        parts.append(
            (f"validation split of {SPLIT_FILE}", [str(root / s.path) for s in split.val], [s.label for s in split.val])
        )
    if check_data is not None:
        more, more_labels, _, unusable = held_out(model_dir, check_data)
        parts.append((f"--check-data {check_data}", more, more_labels))
        skipped += [s["path"] for s in unusable]

    training = set()
    if split is not None:
        training = {_key(Path(split.root) / s.path) for s in split.train}
    seen, all_paths, all_labels, origin = set(), [], [], {}
    for source, part_paths, part_labels in parts:
        for path, label in zip(part_paths, part_labels):
            key = _key(path)
            if key in seen or key in training:
                skipped.append(f"{path} ({'a training image' if key in training else 'already used'})")
                continue
            seen.add(key)
            all_paths.append(path)
            all_labels.append(label)
            origin[str(path)] = source
    images = check.load_held_out(all_paths, all_labels, input_size, *([decode] if decode else []))
    used = [origin[str(path)] for path in images.paths]
    sources = [{"source": source, "images": used.count(source)} for source, _, _ in parts]
    return CheckImages(images, sources, skipped + images.unreadable)


def unknown(folder, input_size, decode=None) -> check.HeldOut:
    """`--check-unknown DIR`: images of none of the model's classes, every one labelled -1 (no answer
    is right), decoded as the board will. They take part in the unknown threshold only."""
    folder = Path(folder)
    if not folder.is_dir():
        raise EdgecellError(
            f"--check-unknown {folder} is not a folder; give a folder of images of none of the model's classes."
        )
    paths = [i.path for i in sources.walk(folder) if i.kind == "image"]
    if not paths:
        raise EdgecellError(f"--check-unknown {folder} holds no images ({', '.join(IMAGE_EXTENSIONS)}).")
    return check.load_held_out(paths, [-1] * len(paths), input_size, *([decode] if decode else []))


def describe(sources: list) -> str:
    """'12 images: test split of split.json (12)' or '30 images: test split of split.json (12) + ...'"""
    total = sum(s["images"] for s in sources)
    return f"{total} images: " + " + ".join(f"{s['source']} ({s['images']})" for s in sources)


def _key(path) -> str:
    try:
        return str(Path(path).resolve())
    except OSError:
        return str(path)
