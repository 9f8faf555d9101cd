"""The labelled run's confusion matrix as a PNG (`edgecell infer CLASSFOLDER --confusion FILE.png`).

Drawn with OpenCV, which the board install already has (matplotlib, which training's plot uses,
is a 40 MB extra a board should not need): one cell per (true class, answer), shaded by the share
of the true class's images it holds, with the count written in it. Columns are headed by the
class names when they are short, else numbered as the rows are; the last column is `other` (an answer outside
the folder's classes, or none above --threshold).
"""

from pathlib import Path

import cv2
import numpy as np

from edgecell.core import atomic
from edgecell.core.numbers import percent
from edgecell.core.printable import printable

CELL = 44  # pixels per matrix cell
SHORT = 4  # class names up to this many characters head their columns; longer ones are numbered
FONT = cv2.FONT_HERSHEY_SIMPLEX
INK, PAPER, SHADE = (30, 30, 30), (255, 255, 255), np.array([180, 110, 40])  # BGR; SHADE a full row's colour


def draw(report: dict) -> np.ndarray:
    """The BGR image of the labelled report's confusion matrix, with its accuracy line as the title."""
    rows, counts = report["confusion_matrix"]["rows"], report["confusion_matrix"]["counts"]
    short = all(len(_ascii(name)) <= SHORT for name in rows)  # short names head their columns themselves
    heads = [_ascii(name) if short else str(i + 1) for i, name in enumerate(rows)] + ["other"]
    names = [_ascii(name) if short else f"{i + 1} {_ascii(name)}" for i, name in enumerate(rows)]
    left = 16 + max(cv2.getTextSize(name, FONT, 0.5, 1)[0][0] for name in names)
    top, columns = 70, len(rows) + 1
    image = np.full((top + CELL * len(rows) + 30, max(left + CELL * columns + 16, 520), 3), PAPER, np.uint8)
    acc = report["accuracy"]
    cv2.putText(image, _title(report), (10, 22), FONT, 0.5, INK, 1, cv2.LINE_AA)
    cv2.putText(image, f"{acc['correct']}/{acc['images']} images; rows: true class, columns: answer", (10, 42),
                FONT, 0.45, INK, 1, cv2.LINE_AA)  # fmt: skip
    for c, head in enumerate(heads):
        _centred(image, head, left + c * CELL + CELL // 2, top - 8, 0.45)
    for r, (name, row) in enumerate(zip(names, counts)):
        y = top + r * CELL
        cv2.putText(image, name, (8, y + CELL // 2 + 5), FONT, 0.5, INK, 1, cv2.LINE_AA)
        total = sum(row) or 1
        for c, count in enumerate(row):
            x, share = left + c * CELL, count / total
            colour = tuple(int(v) for v in np.array(PAPER) - share * (np.array(PAPER) - SHADE))
            cv2.rectangle(image, (x, y), (x + CELL - 1, y + CELL - 1), colour, -1)
            cv2.rectangle(image, (x, y), (x + CELL - 1, y + CELL - 1), (200, 200, 200), 1)
            _centred(image, str(count), x + CELL // 2, y + CELL // 2 + 5, 0.5, PAPER if share > 0.6 else INK)
    return image


def write(report: dict, target: Path) -> Path:
    """Draw the matrix and write it to `target` (replaced whole, never half-written)."""
    ok, data = cv2.imencode(".png", draw(report))
    if not ok:  # pragma: no cover - OpenCV encodes any BGR uint8 image as PNG
        raise OSError(f"OpenCV could not encode the confusion matrix for {target}")
    return atomic.write_bytes(Path(target), data.tobytes())


def _title(report: dict) -> str:
    return (
        f"accuracy {percent(report['accuracy']['accuracy'])}, balanced {percent(report['balanced_accuracy'])}, "
        f"majority-class rate {percent(report['majority_class_rate'])}"
    )


def _centred(image, text: str, x: int, y: int, scale: float, colour=INK) -> None:
    width = cv2.getTextSize(text, FONT, scale, 1)[0][0]
    cv2.putText(image, text, (x - width // 2, y), FONT, scale, colour, 1, cv2.LINE_AA)


def _ascii(name: str) -> str:
    """OpenCV's fonts draw ASCII only: other characters as the escapes the terminal shows."""
    return printable(str(name)).encode("ascii", "backslashreplace").decode("ascii")
