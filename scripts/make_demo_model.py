"""Make the demo model edgecell ships (models/demo/): `python scripts/make_demo_model.py [--workdir DIR]`.

Runs `edgecell demo` (scikit-learn's digits written as PNG folders, trained, exported to int8 and
checked), then copies into models/demo/:
- digits_int8.tflite, the int8 model with its edgecell metadata, and labels.txt;
- images/<label>_<index>.png, one held-out digit per class (the one the model is surest of);
- expected.json, {image name: {"label", "score"}} as this int8 model classifies them here, so a
  board or an emulator can check that it gives the same answers.
Needs the train extra; takes about a minute on two cores.
"""

import argparse
import shutil
import tempfile
from pathlib import Path

DEMO_DIR = Path(__file__).resolve().parent / "demo"


def ship(model_dir: Path, out: Path = DEMO_DIR) -> dict:
    """Copy the demo's int8 model, labels and one held-out image per class (the one classified
    right with the highest score) into `out`; returns what expected.json holds."""
    from edgecell.converters.export_run import EXPORT_DIR, model_file
    from edgecell.core import atomic
    from edgecell.core.split import read_split
    from edgecell.device.input.image import load_rgb
    from edgecell.device.model.classifier import Classifier

    model_dir, out = Path(model_dir), Path(out)
    model = model_dir / EXPORT_DIR / model_file("int8")
    classifier = Classifier(model)
    split = read_split(model_dir)
    images = out / "images"
    if images.exists():
        shutil.rmtree(images)
    images.mkdir(parents=True)
    expected = {}
    for label, name in enumerate(split.classes):
        best = None  # the held-out image of this class the model is surest of, so emulators agree
        for sample in (s for s in split.test if s.label == label):
            scores = classifier.classify(load_rgb(Path(split.root) / sample.path))
            if int(scores.argmax()) == label and (best is None or scores[label] > best[1]):
                best = (sample, float(scores[label]))
        if best is None:
            continue
        target = f"{name}_{Path(best[0].path).stem}.png"
        shutil.copyfile(Path(split.root) / best[0].path, images / target)
        expected[target] = {"label": name, "score": round(best[1], 6)}
    atomic.write_bytes(out / "digits_int8.tflite", model.read_bytes())
    atomic.write_text(out / "labels.txt", "\n".join(split.classes) + "\n")
    atomic.write_json(out / "expected.json", expected)
    return expected


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--workdir", type=Path, help="Where the demo writes its dataset and model (default: a temporary folder)."
    )
    args = parser.parse_args()
    from edgecell.digits_demo import run

    with tempfile.TemporaryDirectory() as scratch:
        workdir = args.workdir or Path(scratch)
        result = run(workdir, verbose=0)
        expected = ship(Path(result["model_dir"]))
    print(f"Wrote {DEMO_DIR}: digits_int8.tflite, labels.txt, expected.json and {len(expected)} images.")


if __name__ == "__main__":
    main()
