"""Test loss, accuracy and the per-class table of a Keras model on held-out images."""

from pathlib import Path

import numpy as np

from edgecell import dataset as ds
from edgecell import metrics, modeldir
from edgecell.errors import EdgecellError

EPSILON = 1e-7  # Keras clips probabilities the same way in its cross-entropy


def cross_entropy(probabilities: np.ndarray, labels) -> float:
    picked = probabilities[np.arange(len(probabilities)), np.asarray(labels, dtype=np.int64)]
    return float(-np.log(np.clip(picked, EPSILON, 1.0)).mean())


def evaluate_model(model, paths, labels, classes, img_size: int, batch_size: int = 32) -> dict:
    """Run `model` over image files; loss, accuracy, per-class table and confusion matrix."""
    from edgecell.pipeline import image_batches

    if not len(paths):
        raise EdgecellError("There are no held-out images to evaluate on; give a folder with --data.")
    batches = image_batches(paths, labels, img_size, batch_size)
    probabilities = model.predict(batches, verbose=0)
    predicted = probabilities.argmax(axis=1)
    result = {"images": len(paths), "loss": cross_entropy(probabilities, labels)}
    result.update(metrics.summary(labels, predicted, classes))
    return result


def held_out(model_dir, data=None):
    """The images to evaluate on: the recorded test split, or every image of another folder.

    Returns (paths, labels, classes, skipped).
    """
    model_dir = Path(model_dir)
    classes = modeldir.read_labels(model_dir / modeldir.LABELS_FILE)
    if data is None:
        split = ds.read_split(model_dir)
        root = Path(split.root)
        if not root.is_dir():
            raise EdgecellError(
                f"The dataset folder recorded in {model_dir / ds.SPLIT_FILE} ({root}) is gone; give it with --data."
            )
        return [str(root / s.path) for s in split.test], [s.label for s in split.test], classes, []
    folder = ds.scan(data)
    if folder.classes != classes:
        raise EdgecellError(
            f"The class folders of {data} ({', '.join(folder.classes)}) are not the model's classes "
            f"({', '.join(classes)})."
        )
    return [folder.abspath(s) for s in folder.samples], [s.label for s in folder.samples], classes, folder.skipped


def evaluate(model_dir, data=None, batch_size: int = 32) -> dict:
    """`edgecell evaluate`: the model on its recorded held-out split, or on another folder."""
    model, classes = modeldir.load_keras(model_dir)
    img_size = int(model.inputs[0].shape[1])
    paths, labels, classes, skipped = held_out(model_dir, data)
    result = evaluate_model(model, paths, labels, classes, img_size, batch_size)
    result["skipped"] = skipped
    return result
