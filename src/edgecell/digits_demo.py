"""`edgecell demo`: the whole pipeline on a real image dataset that ships with scikit-learn.

scikit-learn carries 1,797 scans of handwritten digits (8x8 pixels, 16 grey levels, ten
classes). The demo writes them as a class-folder dataset of PNG files, then runs the pipeline
on it exactly as a user would run it on their own pictures.
"""

from pathlib import Path

from edgecell.core.errors import EdgecellError
from edgecell.device.sinks.base import Sink
from edgecell.train.config import TrainConfig

DEMO_IMG_SIZE = 32
DEMO_EPOCHS = 15


def write_digits(out: Path) -> Path:
    """Write scikit-learn's digits as `out/<digit>/<index>.png`; returns `out`."""
    import cv2
    import numpy as np

    try:
        from sklearn.datasets import load_digits
    except ImportError:
        raise EdgecellError(
            "The demo dataset comes from scikit-learn; install it with: pip install 'edgecell[train]'"
        ) from None
    digits = load_digits()
    out = Path(out)
    for index, (image, target) in enumerate(zip(digits.images, digits.target)):
        folder = out / str(int(target))
        folder.mkdir(parents=True, exist_ok=True)
        pixels = np.clip(image * (255.0 / 16.0) + 0.5, 0, 255).astype(np.uint8)
        path = folder / f"{index:04d}.png"
        if not path.exists():
            cv2.imwrite(str(path), pixels)
    return out


def demo_config(workdir: Path, epochs: int = DEMO_EPOCHS) -> TrainConfig:
    workdir = Path(workdir)
    return TrainConfig(
        data_dir=str(workdir / "digits"),
        out_dir=str(workdir / "model"),
        arch="edge",
        img_size=DEMO_IMG_SIZE,
        epochs=epochs,
        batch_size=16,
        patience=4,
        augment="none",  # the recipe the demo's published figures were measured with
    )


SHOWN = 10  # per-image lines printed by the demo's classify step; the summary covers them all


def run(workdir: Path, epochs: int = DEMO_EPOCHS, verbose: int = 2, log=print) -> dict:
    """Write the dataset, train, export int8 and check it against Keras on the held-out digits,
    then classify the held-out digits as a folder on the device path, timing every image."""
    from edgecell.converters.context import Settings
    from edgecell.converters.export_run import EXPORT_DIR, export, model_file
    from edgecell.train.training import train

    config = demo_config(workdir, epochs)
    write_digits(Path(config.data_dir))
    log(f"Wrote scikit-learn's 1,797 handwritten digits as a class-folder dataset in {config.data_dir}.")
    report = train(config, verbose=verbose, log=log)
    exported = export(config.out_dir, Settings(), log=log)
    model = Path(config.out_dir) / EXPORT_DIR / model_file("int8")
    unseen = held_out_folder(config.out_dir, Path(workdir) / "unseen")
    log(
        f"Classifying the {len(list(unseen.iterdir()))} held-out digits in {unseen} on the device path, "
        f"as `edgecell infer {unseen} --model {model}` does:"
    )
    summary = classify_folder(model, unseen, log)
    return {"train": report, "export": exported, "infer": summary, "model_dir": config.out_dir}


def held_out_folder(model_dir, out: Path) -> Path:
    """Copy the held-out images of the split into one folder, named `<true label>_<file>`."""
    import shutil

    from edgecell.core.split import read_split

    split = read_split(model_dir)
    out.mkdir(parents=True, exist_ok=True)
    for sample in split.test:
        source = Path(split.root) / sample.path
        shutil.copyfile(source, out / f"{split.classes[sample.label]}_{source.name}")
    return out


class _Spread(Sink):
    """A sink that logs `SHOWN` lines spread over the folder, and every failure."""

    def __init__(self, total, log):
        self.every, self.seen, self.log = max(1, (total or 0) // SHOWN), 0, log

    def write(self, result):
        from edgecell.device.sinks import terminal

        if self.seen % self.every == 0 or not result.ok:
            self.log(terminal.line(result))
        self.seen += 1


def classify_folder(model: Path, folder: Path, log) -> dict:
    """What `edgecell infer FOLDER --model MODEL` does (the same library run), with `SHOWN` lines
    spread over the folder."""
    from edgecell.device import infer_run
    from edgecell.device.model.classifier import Classifier
    from edgecell.device.sinks import terminal

    summary = infer_run.run(
        Classifier(model), infer_run.Source((str(folder),)), terminal=lambda total: _Spread(total, log), log=log
    )
    log(terminal.summary_text(summary))
    return summary
