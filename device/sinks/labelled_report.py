"""`edgecell infer` on a class folder (one subfolder per class, named as the model's labels): the
accuracy of the run against the folder names, as `edgecell evaluate` and `bench --data` report it.

A sink beside the others: it reads each result's name (the path under the folder) and its top-1
class, and nothing else, so a run over a folder that is not labelled costs nothing. The report
gives the accuracy with its 95% Wilson interval beside the majority-class rate (a model that
always answers the biggest class scores that), the balanced accuracy, each class's recall and the
confusion matrix (rows the true class, columns the answer; "other" is an answer outside the
folder's classes, or none above --threshold). With `--confusion FILE.png` the matrix is drawn
there too (`confusion_png.py`).
"""

import os
from pathlib import Path
from typing import Optional

from edgecell.core.errors import EdgecellError
from edgecell.core.numbers import percent
from edgecell.core.printable import printable
from edgecell.device.measure.accuracy import accuracy_interval, balanced_accuracy, per_class_recall
from edgecell.device.sinks import confusion_png
from edgecell.device.sinks.base import Sink

OTHER = "other"


def class_folders(paths, labels) -> Optional[tuple]:
    """(root, classes) when `paths` is one folder whose subfolders (two or more) are all labels of the model."""
    if len(paths) != 1 or not labels or not Path(paths[0]).is_dir():
        return None
    root = Path(paths[0])
    try:
        names = sorted(p.name for p in root.iterdir() if p.is_dir() and not p.name.startswith("."))
    except OSError:
        return None
    known = {str(label).casefold(): str(label) for label in labels}
    if len(names) < 2 or any(name.casefold() not in known for name in names):
        return None
    return root, names


class LabelledReport(Sink):
    """Counts (true folder, top-1 answer) of each classified image; `report()` is the summary's part."""

    key = "labelled"

    def __init__(self, root: Path, classes: list, png: Optional[Path] = None):
        self.root, self.classes, self.png, self.drawn = root, classes, png, None
        self.prefix = os.path.join(str(root), "")  # "root/": a result's name starts with it
        self.index = {name.casefold(): i for i, name in enumerate(classes)}
        self.matrix = [[0] * (len(classes) + 1) for _ in classes]  # last column: OTHER
        self.unlabelled = 0  # images directly in the folder, outside every class subfolder

    def write(self, result) -> None:
        if not result.ok:
            return
        name = result.name  # sources name files by their path under the folder given: a prefix test is enough
        parts = name[len(self.prefix) :].split(os.sep) if name.startswith(self.prefix) else ()
        if len(parts) < 2:
            self.unlabelled += 1
            return
        truth = self.index[parts[0].casefold()]
        answer = self.index.get(result.classes[0].label.casefold(), len(self.classes)) if result.classes else None
        self.matrix[truth][len(self.classes) if answer is None else answer] += 1

    def close(self) -> None:
        if self.png is not None and any(map(any, self.matrix)):
            self.drawn = confusion_png.write(self.report(), self.png)

    def report(self) -> dict:
        n = sum(map(sum, self.matrix))
        correct = sum(self.matrix[i][i] for i in range(len(self.classes)))  # rows keep OTHER: recall counts it wrong
        counts = [sum(row) for row in self.matrix]
        return {
            "folder": str(self.root),
            "classes": self.classes,
            "accuracy": accuracy_interval(correct, n),
            "majority_class_rate": max(counts) / n if n else None,
            "balanced_accuracy": balanced_accuracy(self.matrix),
            "per_class_recall": dict(zip(self.classes, per_class_recall(self.matrix))),
            "confusion_matrix": {"rows": self.classes, "columns": [*self.classes, OTHER], "counts": self.matrix},
            "unlabelled_images": self.unlabelled,
            "confusion_png": None if self.drawn is None else str(self.drawn),
        }

    def lines(self, report: dict) -> list:
        return lines(report)


def check_png(png: Optional[Path]) -> None:
    """One sentence for a --confusion path that cannot be written, before the model loads."""
    if png is None:
        return
    if Path(png).suffix.lower() != ".png":
        raise EdgecellError(f"--confusion {png}: the matrix is drawn as a PNG; give a file name ending in .png.")
    if not Path(png).parent.is_dir():
        raise EdgecellError(f"--confusion {png}: the folder {Path(png).parent} does not exist; create it first.")


def sinks(paths, labels, png: Optional[Path] = None) -> list:
    """The report's sink when `paths` is a labelled class folder, else none (`png` needs one)."""
    found = class_folders(paths, labels)
    if found is None and png is not None:
        raise EdgecellError(
            f"--confusion {png} draws a labelled run's confusion matrix; give one SOURCE folder whose "
            f"subfolders (two or more) are named as the model's labels, or leave --confusion out."
        )
    return [] if found is None else [LabelledReport(*found, png=png)]


def lines(report: dict) -> list:
    """The report as text: the accuracy line, the per-class recall and the confusion matrix."""
    acc = report["accuracy"]
    if acc is None:
        return [f"labelled folder {printable(report['folder'])}: no image classified, so no accuracy"]
    out = [
        f"labelled folder {printable(report['folder'])}: accuracy {percent(acc['accuracy'])} "
        f"({acc['correct']}/{acc['images']}; 95% interval {percent(acc['low'])} to {percent(acc['high'])}), "
        f"majority-class rate {percent(report['majority_class_rate'])}, "
        f"balanced accuracy {percent(report['balanced_accuracy'])}"
    ]
    if report["unlabelled_images"]:
        out.append(f"  {report['unlabelled_images']} image(s) outside the class subfolders are not in the accuracy")
    names = [printable(name) for name in report["confusion_matrix"]["columns"]]
    width = max(7, *(len(name) for name in names))
    recalls = report["per_class_recall"].values()
    out.append("  recall  " + ", ".join(f"{name} {percent(recall)}" for name, recall in zip(names, recalls)))
    out.append("  confusion matrix (rows: true class, columns: answer)")
    out.append("  " + " " * width + "".join(f" {name:>{width}}" for name in names))
    for name, row in zip(names, report["confusion_matrix"]["counts"]):
        out.append(f"  {name:<{width}}" + "".join(f" {count:>{width}}" for count in row))
    if report.get("confusion_png"):
        out.append(f"confusion matrix drawn in {printable(report['confusion_png'])}")
    return out
