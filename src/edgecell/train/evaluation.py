"""Test loss, accuracy and the per-class table of a Keras model on held-out images."""

import numpy as np

from edgecell.core import modelfolder
from edgecell.core.errors import EdgecellError
from edgecell.device.input import decode_scale
from edgecell.device.input.classfolder import held_out
from edgecell.device.measure.accuracy import accuracy_interval
from edgecell.device.model.scores import best
from edgecell.train import metrics

EPSILON = 1e-7  # Keras clips probabilities the same way in its cross-entropy


def cross_entropy(probabilities: np.ndarray, labels) -> float:
    picked = probabilities[np.arange(len(probabilities)), np.asarray(labels, dtype=np.int64)]
    return float(-np.log(np.clip(picked, EPSILON, 1.0)).mean())


def evaluate_model(model, paths, labels, classes, img_size: int, batch_size: int = 32, decode=None) -> dict:
    """Run `model` over image files; loss, accuracy, per-class table and confusion matrix."""
    from edgecell.train.pipeline import Reading, image_batches

    if not len(paths):
        raise EdgecellError("There are no held-out images to evaluate on; give a folder with --data.")
    batches = image_batches(paths, labels, img_size, batch_size, Reading(decode=decode or decode_scale.DEFAULT))
    probabilities = model.predict(batches, verbose=0)
    predicted = best(probabilities)
    result = {"images": len(paths), "loss": cross_entropy(probabilities, labels)}
    result.update(metrics.summary(labels, predicted, classes))
    correct = int(np.sum(predicted == np.asarray(labels)))
    result["accuracy_interval"] = accuracy_interval(correct, len(paths))  # 95% Wilson
    return result


def evaluate(model_dir, data=None, batch_size: int = 32) -> dict:
    """`edgecell evaluate`: the model on its recorded held-out split, or on another folder."""
    model, classes = modelfolder.load_keras(model_dir)
    img_size = int(model.inputs[0].shape[1])
    paths, labels, classes, skipped = held_out(model_dir, data)
    result = evaluate_model(
        model, paths, labels, classes, img_size, batch_size, decode_scale.of_model_folder(model_dir)
    )
    result["skipped"] = skipped
    return result
