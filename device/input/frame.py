"""The frame: what every source (files, folders, videos, cameras) hands the loop, one per image.

A frame that could not be read carries the reason instead of pixels, so one bad input is a failed
row and never stops a run.
"""

from typing import NamedTuple, Optional

import cv2
import numpy as np

from edgecell.device.input import image


class Frame(NamedTuple):
    """One image to classify: its name, its RGB pixels or the reason there are none."""

    name: str
    rgb: Optional[np.ndarray]
    error: Optional[str] = None
    decode_ms: float = 0.0
    tensor: Optional[np.ndarray] = None  # the model's input, when preprocessed ahead (runner.py)
    preprocess_ms: Optional[float] = None
    wait_ms: float = 0.0  # waiting for the source to deliver (a camera's next frame): not decoding


def bgr_to_rgb(bgr: np.ndarray) -> np.ndarray:
    """An OpenCV capture frame (BGR, or grey, or BGRA) as 8-bit RGB."""
    if bgr.ndim == 2 or bgr.shape[2] == 1:
        return image.to_uint8_rgb(bgr)
    code = cv2.COLOR_BGRA2RGB if bgr.shape[2] == 4 else cv2.COLOR_BGR2RGB
    return image.to_uint8_rgb(cv2.cvtColor(bgr, code))
