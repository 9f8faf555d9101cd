"""`--unknown auto` on a stream where half the frames are of a class the model never saw.

    python benchmarks/unknown.py [--epochs 15] [--target 0.95] [--confidence 0.95]

scikit-learn's handwritten digits, split by class and by image before anything is trained:
- digits 0 to 4 are the model's classes: three quarters of each train it (edgecell's own split
  holds out its test and validation parts, export's check images with `--check-val`), the last
  quarter is the known half of both streams;
- digits 5, 6 and 7 are never trained on: half of their images are export's `--check-unknown`
  (as many as the check images, the streams' half-and-half mix), the other half the unseen half
  of one stream (like what export was given: the guarantee's own setting);
- digits 8 and 9 are in neither training nor export: the unseen half of the other stream.

Per training seed, the model is exported twice (int8 and float32 each: int8 moves scores), on its
check images alone and with `--check-unknown`; each model classifies both streams through
`infer_run.run` with `--unknown auto`, as `edgecell infer` does. Printed per model and stream:
the threshold, the share of unseen frames answered unknown, the share of known frames answered,
and the accuracy of the answers given (an unseen frame answered with a class is wrong).
"""

import argparse
import datetime
import shutil
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))  # run as a script from anywhere

from edgecell.converters.context import Settings  # noqa: E402
from edgecell.converters.convert import Variant  # noqa: E402
from edgecell.converters.export_run import export, model_file  # noqa: E402
from edgecell.core.errors import EdgecellError  # noqa: E402
from edgecell.core.split import read_split  # noqa: E402
from edgecell.device import infer_run  # noqa: E402
from edgecell.device.measure.machine import cpu_model  # noqa: E402
from edgecell.device.model.classifier import Classifier  # noqa: E402
from edgecell.device.sinks.base import Sink  # noqa: E402
from edgecell.digits_demo import DEMO_IMG_SIZE, write_digits  # noqa: E402
from edgecell.train.config import TrainConfig  # noqa: E402
from edgecell.train.training import train  # noqa: E402

KNOWN, FOR_EXPORT, NEVER = "01234", "567", "89"
STREAMS = {
    "like-others": "digits 5-7, other images than export's",
    "never": "digits 8-9, in neither training nor export",
}


class Answers(Sink):
    """(true digit, answer) of every result: the truth is the class folder the frame came from."""

    def __init__(self):
        self.pairs = []

    def write(self, result):
        self.pairs.append((Path(result.name).parent.name, result.answer))


def split_digits(root: Path) -> dict:
    """The folders of the experiment, from one copy of the digits (see the module's docstring)."""
    write_digits(root / "all")
    for digit_folder in sorted((root / "all").iterdir()):
        digit, images = digit_folder.name, sorted(digit_folder.glob("*.png"))
        if digit in KNOWN:
            cut = len(images) * 3 // 4
            parts = [("train", images[:cut]), ("known", images[cut:])]
        elif digit in FOR_EXPORT:  # export sees one half as images of none of the classes, the stream the other
            parts = [("others", images[::2]), ("like-others", images[1::2])]
        else:
            parts = [("never", images)]
        for part, paths in parts:
            _copy(paths, root / part / digit)
    known = sorted((root / "known").rglob("*.png"))
    streams = {}
    for name, unseen in (("like-others", root / "like-others"), ("never", root / "never")):
        stream = root / f"stream-{name}"
        _copy(known, stream, keep_folders=True)
        _copy(spread(sorted(unseen.rglob("*.png")), len(known)), stream, keep_folders=True)  # the other half
        streams[name] = stream
    return {"train": root / "train", "others": root / "others", **streams}


def spread(paths: list, count: int) -> list:
    """`count` of `paths` (sorted by digit), spread evenly over them, so every digit has its share."""
    return [paths[index * len(paths) // count] for index in range(min(count, len(paths)))]


def _copy(paths, folder: Path, keep_folders: bool = False) -> None:
    for path in paths:
        target = folder / path.parent.name if keep_folders else folder
        target.mkdir(parents=True, exist_ok=True)
        shutil.copy(path, target / path.name)


def measure(model: Path, stream: Path, target: float) -> dict:
    classifier = Classifier(model)
    answers = Answers()
    try:
        summary = infer_run.run(
            classifier, infer_run.Source((str(stream),)), infer_run.Options(warmup=0, unknown="auto"), sinks=[answers]
        )
    except EdgecellError as error:  # no threshold recorded: the reason export gave, without the advice
        return {"model": model.name, "error": str(error).split(" (", 1)[-1].rsplit("); export", 1)[0]}
    never = [a for truth, a in answers.pairs if truth not in KNOWN]
    known = [(truth, a) for truth, a in answers.pairs if truth in KNOWN]
    answered = [(truth, a) for truth, a in answers.pairs if a != "unknown"]
    right = sum(truth == a for truth, a in answered)
    return {
        "model": model.name,
        "threshold": summary["unknown"]["threshold"],
        "frames": len(answers.pairs),
        "never_unknown": sum(a == "unknown" for a in never) / len(never),
        "known_answered": sum(a != "unknown" for _, a in known) / len(known),
        "accuracy": right / len(answered) if answered else None,
        "known_right": sum(t == a for t, a in known if a != "unknown") / max(1, sum(a != "unknown" for _, a in known)),
        "meets": bool(answered) and right / len(answered) >= target,
    }


def one_training(root: Path, folders: dict, seed: int, args) -> list:
    """Train once, export twice (without and with --check-unknown), classify both streams with each model."""
    quiet = lambda *_: None  # noqa: E731
    config = TrainConfig(
        data_dir=str(folders["train"]),
        out_dir=str(root / "model"),
        img_size=DEMO_IMG_SIZE,
        epochs=args.epochs,
        patience=4,
        augment="none",
        seed=seed,
    )
    train(config, verbose=0, log=quiet)
    shutil.copytree(root / "model", root / "model-others")
    # as many images of none of the classes as export has held-out images of its classes (the
    # test and validation splits): the half-and-half mix of the streams
    split = read_split(root / "model")
    _copy(spread(sorted(folders["others"].rglob("*.png")), len(split.test) + len(split.val)), root / "some")
    rows = []
    for name, folder, others in (
        ("held-out", root / "model", None),
        ("+ --check-unknown", root / "model-others", root / "some"),
    ):
        settings = Settings(
            variants=(Variant.int8, Variant.float32),
            check_val=True,  # the validation split too: more images, a tighter bound
            check_unknown=others,
            unknown_target=args.target,
            unknown_confidence=args.confidence,
        )
        export(folder, settings, log=quiet)
        for variant in settings.variants:
            for stream in ("like-others", "never"):
                model = folder / "export" / model_file(variant)
                rows.append((name, stream, measure(model, folders[stream], args.target)))
    return rows


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--epochs", type=int, default=15)
    parser.add_argument("--target", type=float, default=0.95)
    parser.add_argument("--confidence", type=float, default=0.95)
    parser.add_argument("--seeds", default="4,5,6", help="training seeds (split, weights): one run each")
    args = parser.parse_args(argv)
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        folders = split_digits(Path(tmp))
        for seed in [int(v) for v in args.seeds.split(",")]:
            rows += [(seed, *row) for row in one_training(Path(tmp) / f"seed{seed}", folders, seed, args)]
    print(f"{datetime.date.today()}, {cpu_model()}; target {args.target:g} at confidence {args.confidence:g}")
    print(
        "| seed | chosen on | model | unseen half of the stream | threshold | unseen frames answered unknown | "
        "known frames answered | "
        "accuracy of the answers given | meets the target | known answers right |"
    )
    print("|---:|---|---|---|---:|---:|---:|---:|---|---:|")
    for seed, name, stream, r in rows:
        unseen = STREAMS[stream]
        if "error" in r:
            print(f"| {seed} | {name} | {r['model']} | {unseen} | none: {r['error']} |")
            continue
        print(
            f"| {seed} | {name} | {r['model']} | {unseen} | {r['threshold']:g} | {100 * r['never_unknown']:.1f}% | "
            f"{100 * r['known_answered']:.1f}% | {100 * r['accuracy']:.2f}% | {'yes' if r['meets'] else 'no'} | "
            f"{100 * r['known_right']:.2f}% |"
        )
    print(f"each stream: {rows[0][3].get('frames')} frames, half of them digits 0-4 that did not train the model")
    return 0


if __name__ == "__main__":
    sys.exit(main())
