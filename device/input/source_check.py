"""SOURCE arguments a newcomer gets wrong, caught before any model loads: a model file given as a
SOURCE (`edgecell infer model.tflite cell.jpg`, `--model` forgotten) and a path that is not there.
Both are one sentence and exit 2, as an empty folder is; a glob that matches nothing stays a
failed row (`device/input/sources.py`), since a pattern may legitimately match nothing yet."""

import os
from pathlib import Path

from edgecell.core.errors import EdgecellError

MODEL_SUFFIXES = (".tflite", ".keras", ".h5", ".onnx", ".pb", ".lite")
_GLOB_CHARS = "*?["


def check_paths(paths) -> None:
    """Raise EdgecellError for the first SOURCE that is a model file or does not exist."""
    for source in map(str, paths):
        if Path(source).suffix.lower() in MODEL_SUFFIXES and not Path(source).is_dir():
            raise EdgecellError(f"SOURCE {source} is a model file, not an image; did you mean --model {source}?")
        if any(c in source for c in _GLOB_CHARS) or "://" in source or os.path.lexists(source):
            continue
        raise EdgecellError(f"SOURCE {source} does not exist; give an image file, a folder, a glob or a video file.")
