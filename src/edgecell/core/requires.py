"""Optional dependencies, imported only by the functions that need them."""

import contextlib
import os
import sys
import tempfile

from edgecell.core.errors import EdgecellError

TRAIN_EXTRA = "pip install 'edgecell[train]'"
# What TensorFlow's C++ side prints while it loads (absl's note, CPU features, oneDNN): a line
# holding any of these is left out; any other line printed then still reaches standard error.
START_UP = (
    "absl::InitializeLog",
    "cpu_feature_guard",
    "port.cc",
    "oneDNN",
    "rebuild TensorFlow",
    "To enable the following instructions",
)


def tensorflow(needed_for: str):
    """Import TensorFlow, or explain in one sentence how to install it."""
    # TensorFlow's C++ start-up lines stay out of every command's output; TF_CPP_MIN_LOG_LEVEL=0
    # shows them. The variable alone no longer keeps them out (absl prints before TensorFlow's
    # own level applies), so what the import writes to standard error is read and sifted.
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    if "tensorflow" in sys.modules:
        return sys.modules["tensorflow"]
    try:
        with _start_up_lines_left_out(os.environ["TF_CPP_MIN_LOG_LEVEL"] != "0"):
            import tensorflow as tf
    except ImportError as error:
        raise EdgecellError(
            f"{needed_for} needs TensorFlow, which is not installed here ({error.msg}); install it with: {TRAIN_EXTRA}"
        ) from None
    return tf


@contextlib.contextmanager
def _start_up_lines_left_out(active: bool):
    """Standard error (the file descriptor, where C++ writes) goes to a temporary file while the
    block runs; then every line of it but TensorFlow's start-up lines is written out."""
    if not active:
        yield
        return
    sys.stderr.flush()
    saved = os.dup(2)
    with tempfile.TemporaryFile() as caught:
        os.dup2(caught.fileno(), 2)
        try:
            yield
        finally:
            sys.stderr.flush()
            os.dup2(saved, 2)
            os.close(saved)
            caught.seek(0)
            for line in caught.read().decode("utf-8", "replace").splitlines(keepends=True):
                if not any(mark in line for mark in START_UP):
                    sys.stderr.write(line)
            sys.stderr.flush()


def keras(needed_for: str):
    tensorflow(needed_for)
    import keras

    return keras
