"""Classification metrics in plain numpy, shared by training, evaluation and export."""

import numpy as np


def confusion_matrix(y_true, y_pred, num_classes: int) -> np.ndarray:
    """Rows are true classes, columns predicted classes."""
    matrix = np.zeros((num_classes, num_classes), dtype=np.int64)
    np.add.at(matrix, (np.asarray(y_true, dtype=np.int64), np.asarray(y_pred, dtype=np.int64)), 1)
    return matrix


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


MARGIN = 0.05  # accuracy must beat the majority-class rate by this much to count as clearly better
BALANCED_MARGIN = 0.10  # and balanced accuracy must beat a constant's (1 / classes) by this much


def summary(y_true, y_pred, classes) -> dict:
    matrix = confusion_matrix(y_true, y_pred, len(classes))
    result = {
        "accuracy": accuracy(y_true, y_pred),
        "per_class": per_class(matrix, classes),
        "confusion_matrix": matrix.tolist(),
    }
    result.update(baseline(matrix, classes, result["accuracy"]))
    return result


def baseline(matrix: np.ndarray, classes, acc: float) -> dict:
    """The model beside a constant that always answers the largest class.

    `majority_rate` is that constant's accuracy, `balanced_accuracy` the mean per-class recall (a
    constant's is 1 / classes), `never_predicted` the classes with images that the model never
    answered, and `verdict` one sentence with the likely fix when the model is not clearly better
    than the constant (None when it is).
    """
    support = matrix.sum(axis=1)
    present = support > 0
    recalls = np.diag(matrix)[present] / support[present] if present.any() else np.zeros(0)
    total = int(support.sum())
    largest = int(np.argmax(support)) if total else 0
    majority = float(support[largest] / total) if total else 0.0
    balanced = float(recalls.mean()) if len(recalls) else 0.0
    never = [classes[i] for i in range(len(classes)) if support[i] and not matrix[:, i].sum()]
    chance = 1 / max(1, int(present.sum()))
    weak = total and (acc < majority + MARGIN or balanced < chance + BALANCED_MARGIN)
    verdict = None
    if weak or never:
        why = []
        if weak:
            why.append(
                f"accuracy {acc:.2f} (balanced {balanced:.2f}) is not clearly better than always answering "
                f"'{classes[largest]}' ({majority:.2f}; balanced {chance:.2f})"
            )
        if never:
            why.append(f"the model never answers {', '.join(repr(c) for c in never)}")
        verdict = (
            f"Warning: {' and '.join(why)}; train longer (--epochs, --patience), try another --augment policy, "
            f"or start from a pretrained network (--arch mobilenetv2 --weights imagenet)."
        )
    return {
        "majority_class": classes[largest] if len(classes) else None,
        "majority_rate": majority,
        "balanced_accuracy": balanced,
        "never_predicted": never,
        "verdict": verdict,
    }


def format_baseline(result: dict) -> str:
    """One line: accuracy beside the majority-class rate, balanced accuracy and each class's recall."""
    recalls = ", ".join(f"{r['class']} {r['recall']:.2f}" for r in result["per_class"])
    return (
        f"Accuracy {result['accuracy']:.4f} against {result['majority_rate']:.4f} for always answering "
        f"'{result['majority_class']}'; balanced accuracy {result['balanced_accuracy']:.4f}; recall: {recalls}."
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
