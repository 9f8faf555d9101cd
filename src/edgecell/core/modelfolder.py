"""The model folder `edgecell train` writes (its file names), and loading its `model.keras` safely."""

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
# what `edgecell train` writes, in the order it names them
TRAINED_FILES = (MODEL_FILE, LABELS_FILE, SPLIT_FILE, CONFIG_FILE, REPORT_FILE, CURVES_FILE, CONFUSION_FILE)
# What a .keras archive may inflate to, read from its zip directory before Keras opens it: a
# config.json of a few kilobytes can declare (and inflate to) gigabytes. Python's zipfile never
# inflates a member past the size its directory declares, so checking those sizes is enough.
MAX_KERAS_CONFIG_BYTES = 64 << 20
MAX_KERAS_BYTES = 4 << 30


def require_model(model_dir) -> Path:
    """`model_dir` when it holds `model.keras`; otherwise one sentence naming what to give instead."""
    model_dir = Path(model_dir)
    if model_dir.is_file() and model_dir.name == MODEL_FILE:
        raise EdgecellError(f"{model_dir} is the model file; give its folder: {model_dir.parent}.")
    if not model_dir.exists():
        raise EdgecellError(f"{model_dir} does not exist; give the model folder `edgecell train` wrote.")
    if not (model_dir / MODEL_FILE).is_file():
        raise EdgecellError(
            f"{model_dir} holds no {MODEL_FILE}, so it is not a trained model folder; "
            "give the folder `edgecell train` wrote."
        )
    return model_dir


def load_keras(model_dir):
    """Load `model.keras` in Keras' safe mode (code inside the file is never run) and check it
    against `labels.txt`."""
    import zipfile  # here: the board reads the model folder's names, never model.keras

    model_dir = require_model(model_dir)
    keras = requires.keras("Loading a Keras model")
    path = model_dir / MODEL_FILE
    if not zipfile.is_zipfile(path):  # Keras would say "File not found" of a truncated or foreign file
        raise EdgecellError(
            f"{path} is not a Keras model file (not a complete .keras zip archive: truncated, "
            "or something else under that name); train again or restore it."
        )
    _check_inflated_sizes(path)
    try:
        model = keras.models.load_model(path, safe_mode=True, compile=False)
    except Exception as error:  # Keras raises ValueError, OSError, zipfile errors ... for a bad file
        text = " ".join(str(error).split()) or type(error).__name__  # one line, whatever Keras wrote
        if "safe_mode" in text:  # a Lambda layer or other Python code inside the file
            reason = text.split(" This carries a potential risk")[0].split(" If you trust")[0]
            raise EdgecellError(
                f"{path} contains Python code (a Lambda layer or a custom function), which "
                f"edgecell never runs from a model file (Keras' safe mode: {reason[:400]}); "
                "rebuild the model without it."
            ) from None
        raise EdgecellError(f"{path} cannot be loaded as a Keras model ({text[:300]}).") from None
    labels = read_labels(model_dir / LABELS_FILE)
    outputs = model.outputs[0].shape[-1]
    if outputs != len(labels):
        raise EdgecellError(
            f"{path} has {outputs} outputs but {model_dir / LABELS_FILE} lists {len(labels)} labels; "
            "they must match one to one."
        )
    return model, labels


def _check_inflated_sizes(path: Path) -> None:
    import zipfile

    try:
        with zipfile.ZipFile(path) as archive:
            members = archive.infolist()
    except (zipfile.BadZipFile, OSError) as error:
        raise EdgecellError(f"{path} cannot be loaded as a Keras model ({error}).") from None
    for member in members:
        if member.filename.endswith(".json") and member.file_size > MAX_KERAS_CONFIG_BYTES:
            raise EdgecellError(
                f"{path} holds a {member.filename} that inflates to {member.file_size >> 20} MB, over the "
                f"{MAX_KERAS_CONFIG_BYTES >> 20} MB a model's config may be; "
                "it was not loaded (a damaged or crafted file)."
            )
    total = sum(member.file_size for member in members)
    if total > MAX_KERAS_BYTES:
        raise EdgecellError(
            f"{path} inflates to {total >> 20} MB, over the {MAX_KERAS_BYTES >> 30} GB edgecell loads; "
            "it was not loaded (a damaged or crafted file)."
        )
