"""A classifier beside a constant that always answers the largest class.

On unbalanced images accuracy alone flatters: a model that says the largest class for every
image scores that class's share. So every report (train, evaluate, `bench --data`, export's
check) puts beside accuracy the majority-class rate, the balanced accuracy (the mean per-class
recall, 1 / classes for a constant) and each class's recall, and says in one sentence, with the
likely fix, when the model is not clearly better than the constant or never answers a class.
Plain numpy, so the board-side commands report it as training does.
"""

import numpy as np

from edgecell.core.numbers import percent

MARGIN = 0.05  # accuracy must beat the majority-class rate by this much to count as clearly better
BALANCED_MARGIN = 0.10  # and balanced accuracy must beat a constant's (1 / classes) by this much
FIX = (
    "train longer (--epochs, --patience), try another --augment policy, "
    "or start from a pretrained network (--arch efficientnet-lite0)"
)


def confusion_matrix(y_true, y_pred, num_classes: int) -> np.ndarray:
    """Rows are true classes, columns predicted classes."""
    matrix = np.zeros((num_classes, num_classes), dtype=np.int64)
    np.add.at(matrix, (np.asarray(y_true, dtype=np.int64), np.asarray(y_pred, dtype=np.int64)), 1)
    return matrix


def baseline(matrix: np.ndarray, classes, acc: float) -> dict:
    """The model of confusion `matrix` (accuracy `acc`) beside a constant that always answers the largest class.

    `majority_rate` is that constant's accuracy, `balanced_accuracy` the mean per-class recall (a
    constant's is 1 / classes), `never_predicted` the classes with images that the model never
    answered, and `verdict` one sentence with the likely fix when the model is not clearly better
    than the constant (None when it is).
    """
    matrix = np.asarray(matrix)
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
        verdict = f"Warning: {' and '.join(why)}; {FIX}."
    return {
        "majority_class": classes[largest] if len(classes) else None,
        "majority_rate": majority,
        "balanced_accuracy": balanced,
        "never_predicted": never,
        "verdict": verdict,
    }


def against_constant(y_true, y_pred, classes) -> dict:
    """Accuracy, each class's recall (None for a class without images) and `baseline`'s figures."""
    classes = list(classes)
    matrix = confusion_matrix(y_true, y_pred, len(classes))
    total = int(matrix.sum())
    acc = float(np.trace(matrix) / total) if total else 0.0
    support = matrix.sum(axis=1)
    recall = {name: float(matrix[i, i] / support[i]) if support[i] else None for i, name in enumerate(classes)}
    return {"accuracy": acc, "per_class_recall": recall, **baseline(matrix, classes, acc)}


def line(result: dict) -> str:
    """One line: accuracy beside the majority-class rate, balanced accuracy and each class's recall."""
    recalls = ", ".join(f"{name} {percent(recall)}" for name, recall in result["per_class_recall"].items())
    return (
        f"accuracy {percent(result['accuracy'])} against {percent(result['majority_rate'])} for always answering "
        f"'{result['majority_class']}'; balanced accuracy {percent(result['balanced_accuracy'])}; recall: {recalls}"
    )
