"""Classification metrics for training and evaluation; the comparison with a constant is the board's own
(`edgecell.device.measure.baseline`), so `bench --data` and export report it alike."""

import numpy as np

from edgecell.core.numbers import percent
from edgecell.device.measure.baseline import baseline, confusion_matrix


def per_class(matrix: np.ndarray, classes) -> list:
    """Precision, recall (the per-class accuracy), F1 and support of each class."""
    rows = []
    for i, name in enumerate(classes):
        tp = int(matrix[i, i])
        predicted = int(matrix[:, i].sum())
        support = int(matrix[i, :].sum())
        precision = tp / predicted if predicted else 0.0
        recall = tp / support if support else 0.0
        f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
        rows.append({"class": name, "precision": precision, "recall": recall, "f1": f1, "support": support})
    return rows


def accuracy(y_true, y_pred) -> float:
    y_true = np.asarray(y_true)
    return float((y_true == np.asarray(y_pred)).mean()) if len(y_true) else 0.0


def summary(y_true, y_pred, classes) -> dict:
    matrix = confusion_matrix(y_true, y_pred, len(classes))
    result = {
        "accuracy": accuracy(y_true, y_pred),
        "per_class": per_class(matrix, classes),
        "confusion_matrix": matrix.tolist(),
    }
    result.update(baseline(matrix, classes, result["accuracy"]))
    return result


def format_baseline(result: dict) -> str:
    """One line: accuracy beside the majority-class rate, balanced accuracy and each class's recall."""
    recalls = ", ".join(f"{r['class']} {percent(r['recall'])}" for r in result["per_class"])
    return (
        f"Accuracy {percent(result['accuracy'])} against {percent(result['majority_rate'])} for always answering "
        f"'{result['majority_class']}'; balanced accuracy {percent(result['balanced_accuracy'])}; recall: {recalls}."
    )


def format_table(rows) -> str:
    """The per-class table as aligned text."""
    width = max([5] + [len(r["class"]) for r in rows])
    lines = [f"{'class':<{width}}  precision  recall     f1  support"]
    for r in rows:
        lines.append(
            f"{r['class']:<{width}}  {r['precision']:9.3f}  {r['recall']:6.3f}  {r['f1']:5.3f}  {r['support']:7d}"
        )
    return "\n".join(lines)
