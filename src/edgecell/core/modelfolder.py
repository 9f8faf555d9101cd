"""The model folder `edgecell train` writes (its file names), and loading its `model.keras` safely."""

import zipfile
from pathlib import Path

from edgecell.core import requires
from edgecell.core.errors import EdgecellError
from edgecell.core.labels import read_labels

MODEL_FILE = "model.keras"
LABELS_FILE = "labels.txt"
REPORT_FILE = "train_report.json"
SPLIT_FILE = "split.json"
CONFIG_FILE = "config.json"
CURVES_FILE = "curves.png"
CONFUSION_FILE = "confusion.png"


def require_model(model_dir) -> Path:
    model_dir = Path(model_dir)
    if not (model_dir / MODEL_FILE).is_file():
        raise EdgecellError(
            f"{model_dir} is not a trained model folder (no {MODEL_FILE}); give the folder `edgecell train` wrote."
        )
    return model_dir


def load_keras(model_dir):
    """Load `model.keras` in Keras' safe mode (code inside the file is never run) and check it
    against `labels.txt`."""
    model_dir = require_model(model_dir)
    keras = requires.keras("Loading a Keras model")
    path = model_dir / MODEL_FILE
    if not zipfile.is_zipfile(path):  # Keras would say "File not found" of a truncated or foreign file
        raise EdgecellError(
            f"{path} is not a Keras model file (not a complete .keras zip archive: truncated, "
            "or something else under that name); train again or restore it."
        )
    try:
        model = keras.models.load_model(path, safe_mode=True, compile=False)
    except Exception as error:  # Keras raises ValueError, OSError, zipfile errors ... for a bad file
        first = str(error).strip().splitlines()[0] if str(error).strip() else type(error).__name__
        if "safe_mode" in first:  # a Lambda layer or other Python code inside the file
            raise EdgecellError(
                f"{path} contains Python code (a Lambda layer or a custom function), which "
                "edgecell never runs from a model file; rebuild the model without it."
            ) from None
        raise EdgecellError(f"{path} cannot be loaded as a Keras model ({first[:300]}).") from None
    labels = read_labels(model_dir / LABELS_FILE)
    outputs = model.outputs[0].shape[-1]
    if outputs != len(labels):
        raise EdgecellError(
            f"{path} has {outputs} outputs but {model_dir / LABELS_FILE} lists {len(labels)} labels; "
            "they must match one to one."
        )
    return model, labels
