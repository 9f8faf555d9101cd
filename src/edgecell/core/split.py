"""`split.json`: which images of a class-folder dataset train, which validate (early stopping) and
which are held out, written by `edgecell train` and read by export, evaluate and bench."""

import json
from dataclasses import dataclass
from pathlib import Path

from edgecell.core.errors import EdgecellError
from edgecell.core.modelfolder import SPLIT_FILE


@dataclass(frozen=True)
class Sample:
    path: str  # relative to the dataset root, with forward slashes
    label: int


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


def read_split(model_dir) -> Split:
    path = Path(model_dir) / SPLIT_FILE
    try:
        return Split.from_json(json.loads(path.read_text()))
    except FileNotFoundError:
        raise EdgecellError(
            f"{path} does not exist; is {model_dir} a model folder written by `edgecell train`?"
        ) from None
    except (ValueError, KeyError, TypeError) as error:
        raise EdgecellError(f"{path} is not a valid split file ({error}); retrain to write it again.") from None
