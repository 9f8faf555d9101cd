"""Optional dependencies, imported only by the functions that need them."""

import os

from edgecell.core.errors import EdgecellError

TRAIN_EXTRA = "pip install 'edgecell[train]'"


def tensorflow(needed_for: str):
    """Import TensorFlow, or explain in one sentence how to install it."""
    # TensorFlow's C++ start-up lines (absl, CPU features, oneDNN) stay out of every command's output;
    # TF_CPP_MIN_LOG_LEVEL=0 shows them.
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    try:
        import tensorflow as tf
    except ImportError as error:
        raise EdgecellError(
            f"{needed_for} needs TensorFlow, which is not installed here ({error.msg}); install it with: {TRAIN_EXTRA}"
        ) from None
    return tf


def keras(needed_for: str):
    tensorflow(needed_for)
    import keras

    return keras
