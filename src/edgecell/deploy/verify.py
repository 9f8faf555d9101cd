"""Is the board's answer ours? The held-out images are classified here and on the board, and each
image must get the same label with every score within one output quantization step.

A different runtime, numpy, OpenCV or CPU can change answers (a tie broken the other way under
emulated arm64 is one seen case), so the board is asked, not assumed.
"""

from pathlib import Path
from typing import NamedTuple

from edgecell.core.digest import sha256
from edgecell.core.errors import EdgecellError
from edgecell.core.modelfolder import LABELS_FILE, SPLIT_FILE
from edgecell.device.input import classfolder, sources
from edgecell.device.loop import runner
from edgecell.device.model.classifier import Classifier
from edgecell.models import DEMO_IMAGES, DEMO_MODEL

MAX_IMAGES = 48  # a few dozen: enough to catch a board that differs, quick to copy and run
TOP_K = 5  # scores compared per image
FLOAT_TOLERANCE = (
    5e-3  # LiteRT and tflite-runtime 2.14 float outputs differ by ~1.2e-3 (tests/converters/test_compat.py)
)
PRINTED = 1e-6  # `edgecell infer` writes scores rounded to 6 decimals


class Reference(NamedTuple):
    images: dict  # staged name (unique, flat) -> the image here
    answers: dict  # staged name -> [(label, score)], best first
    step: float  # one output quantization step (or the float tolerance)
    top_k: int


class Verdict(NamedTuple):
    identical: int
    total: int
    differing: list  # "image: why", one per image that differs

    @property
    def ok(self) -> bool:
        return self.identical == self.total


def held_out_images(model: Path, images=None) -> list:
    """At most MAX_IMAGES images to prove `model` with: --images, the model folder's test split, or
    the demo images for the shipped demo model, spread evenly over what there is."""
    if images is not None:
        found = sorted(Path(i.path) for i in sources.expand([str(images)]) if i.kind == "image")
        if not found:
            raise EdgecellError(f"--images {images} holds no images; give a folder of .jpg or .png files.")
        return spread(found)
    for folder in (model.parent, model.parent.parent):
        if (folder / SPLIT_FILE).is_file() and (folder / LABELS_FILE).is_file():
            paths, labels, _, _ = classfolder.held_out(folder)
            by_class = {}
            for path, label in zip(paths, labels):
                by_class.setdefault(label, []).append(Path(path))
            longest = max(map(len, by_class.values()), default=0)
            rounds = [group[i] for i in range(longest) for group in by_class.values() if i < len(group)]
            return rounds[:MAX_IMAGES]  # class by class, so every class is tried
    if DEMO_MODEL.is_file() and sha256(model) == sha256(DEMO_MODEL):
        return sorted(DEMO_IMAGES.glob("*.png"))
    raise EdgecellError(
        f"{model} has no held-out images beside it (no {SPLIT_FILE} in its model folder); "
        "give a few dozen labelled images with --images DIR."
    )


def spread(paths: list) -> list:
    if len(paths) <= MAX_IMAGES:
        return paths
    return [paths[i * len(paths) // MAX_IMAGES] for i in range(MAX_IMAGES)]


def reference(model: Path, images: list) -> Reference:
    """The same run here: each image through the same Classifier `edgecell infer` uses."""
    classifier = Classifier(model)
    scale = classifier.interpreter.get_output_details()[0]["quantization"][0]
    k = min(TOP_K, classifier.num_classes)
    staged, answers = {}, {}
    for i, path in enumerate(images):
        name = f"{i:03d}_{path.name}"  # flat and unique: two classes may both hold 0001.png
        result = runner.classify_frame(classifier, sources.decode(str(path), classifier.decode_fit), k)
        if result.ok:  # an image that does not decode here proves nothing there
            staged[name] = path
            answers[name] = [(c.label, c.score) for c in result.classes]
    if not answers:
        raise EdgecellError(f"None of the {len(images)} held-out images could be read here; give others with --images.")
    return Reference(staged, answers, float(scale) if scale else FLOAT_TOLERANCE, k)


def compare(ref: Reference, rows: list) -> Verdict:
    board = {Path(row["source"]).name: row for row in rows}
    differing = []
    for name, ours in ref.answers.items():
        shown = str(ref.images[name])
        row = board.get(name)
        if row is None or row.get("status") != "ok":
            differing.append(f"{shown}: failed on the board ({(row or {}).get('error') or 'no answer'})")
            continue
        theirs = {c["label"]: c["score"] for c in row["top_k"]}
        if row["label"] != ours[0][0]:
            differing.append(f"{shown}: {row['label']} there, {ours[0][0]} here")
            continue
        worst = max((abs(score - theirs[label]) for label, score in ours if label in theirs), default=0.0)
        if worst > ref.step + PRINTED:
            differing.append(f"{shown}: scores differ by {worst:.4f} (one step is {ref.step:.4f})")
    return Verdict(len(ref.answers) - len(differing), len(ref.answers), differing)
