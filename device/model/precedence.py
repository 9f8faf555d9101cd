"""Where a classifier's labels and normalisation come from, in one order for every command:
the user's flags, then edgecell's metadata, then the model's standard TFLite metadata, then the
ecosystem's convention. Each answer says its source, for `edgecell info` and the run summary.

The convention is what TensorFlow's `label_image`, pycoral and the TFLite Task Library do with a
model that says nothing: an integer (uint8/int8) input takes the 8-bit pixels as they are (its
quantization parameters already are the normalisation), a float input takes (x - 127.5) / 127.5.
The Task Library applies a model's NormalizationOptions to a float input only, and so does this.
"""

from typing import NamedTuple, Optional

import numpy as np

from edgecell.core.errors import EdgecellError
from edgecell.core.labels import as_list, read_label_map

FLOAT_CONVENTION = 127.5  # label_image's --input_mean and --input_std


class Labels(NamedTuple):
    names: Optional[list]  # one per output, or None: classes shown by their index
    source: str


class Normalisation(NamedTuple):
    mean: np.ndarray  # subtracted from 0..255 pixels, one value or R,G,B
    std: np.ndarray
    raw: bool  # the 8-bit pixels go in as they are (int8 inputs: shifted by -128)
    source: str
    notice: Optional[str] = None  # a sentence for stderr when the answer is a guess the user may want to change


def labels(user_file, edgecell_meta: Optional[dict], standard, count: int, model) -> Labels:
    if user_file is not None:
        found, source = read_label_map(user_file), f"--labels {user_file}"
        dense = len(found) == max(found) + 1
        if max(found) >= count or (dense and len(found) != count):
            _mismatch(model, count, source, found)
        return Labels(as_list(found, count), source)
    if edgecell_meta is not None:
        found, source = [str(label) for label in edgecell_meta["labels"]], "edgecell metadata"
    elif standard is not None and standard.labels is not None:
        found = list(standard.labels)
        which = f"display names ({standard.labels_locale})" if standard.labels_locale else "the file without locale"
        source = f"standard metadata: {standard.labels_file}, {which}"
    else:
        return Labels(None, "none: classes are shown by their index (give --labels FILE)")
    if len(found) != count:
        _mismatch(model, count, source, found)
    return Labels(found, source)


def _mismatch(model, count: int, source: str, found):
    dense = not isinstance(found, dict) or len(found) == max(found) + 1
    what = f"{len(found)} labels" if dense else f"indices up to {max(found)}"
    fix = "" if source.startswith("--labels") else " (give --labels FILE)"
    raise EdgecellError(f"{model} has {count} outputs but {source} lists {what}; they must match one to one{fix}.")


def normalisation(mean, std, edgecell_meta: Optional[dict], standard, input_dtype) -> Normalisation:
    """`mean` and `std` are the user's flags (None when not given); a flag given alone keeps the
    metadata's other value, or its neutral one (mean 0, std 1)."""
    integer = np.dtype(input_dtype).kind in "iu"
    if edgecell_meta is not None:
        fallback, source = edgecell_meta.get("input", {}), "edgecell metadata"
        fallback = (fallback.get("mean", 0.0), fallback.get("std", 1.0))
    elif standard is not None and standard.mean is not None and not integer:
        fallback, source = (standard.mean, standard.std or 1.0), "standard metadata (NormalizationOptions)"
    elif integer:
        fallback, source = None, "convention: an integer input takes the 8-bit pixels as they are"
    else:
        fallback = (FLOAT_CONVENTION, FLOAT_CONVENTION)
        source = "convention for a float input without metadata: (x - 127.5) / 127.5"
    if mean is not None or std is not None:
        given = " and ".join(flag for flag, value in (("--mean", mean), ("--std", std)) if value is not None)
        neutral = fallback or (0.0, 1.0)
        mean, std = neutral[0] if mean is None else mean, neutral[1] if std is None else std
        return _checked(mean, std, False, given)
    if fallback is None:
        return _checked(0.0, 1.0, True, source)
    notice = None
    if source.startswith("convention"):
        notice = (
            "This float model has no metadata: its input is taken as (x - 127.5) / 127.5 of 0..255 pixels "
            "(TensorFlow's label_image); give --mean and --std (e.g. --mean 0 --std 255) if it expects otherwise."
        )
    return _checked(*fallback, False, source, notice)


def _checked(mean, std, raw: bool, source: str, notice=None) -> Normalisation:
    mean = np.asarray(mean, dtype=np.float32).reshape(-1)
    std = np.asarray(std, dtype=np.float32).reshape(-1)
    if np.any(std == 0):
        raise EdgecellError("--std must not be zero.")
    return Normalisation(mean, std, raw, source, notice)
