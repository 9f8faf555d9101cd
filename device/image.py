"""Decoding and resizing: the preprocessing contract, one function for training and the device.

A model made by edgecell takes RGB pixels in 0..255 at its input size; scaling and normalisation
are layers inside the model. Training, calibration, evaluation and the device runner all call
`load_rgb` and `resize`, so the same file gives the same pixels everywhere. Given the model's input
size (`fit`), a large JPEG is decoded at a reduced scale first, by the rule in `decode_scale`.
"""

from pathlib import Path

import cv2
import numpy as np

from edgecell.device import decode_scale
from edgecell.device.image_header import declared_size

IMAGE_EXTENSIONS = (".jpg", ".jpeg", ".png", ".bmp")
# Decode straight to RGB where OpenCV can (4.11 and newer); older boards' OpenCV gets a swap.
_IMREAD_RGB = getattr(cv2, "IMREAD_COLOR_RGB", cv2.IMREAD_COLOR)
# The reduced flags without their colour bit (IMREAD_REDUCED_COLOR_2 is REDUCED_GRAYSCALE_2 | COLOR),
# so they combine with IMREAD_COLOR_RGB, which OpenCV refuses beside IMREAD_COLOR.
_REDUCED = {2: cv2.IMREAD_REDUCED_GRAYSCALE_2, 4: cv2.IMREAD_REDUCED_GRAYSCALE_4, 8: cv2.IMREAD_REDUCED_GRAYSCALE_8}


class ImageError(ValueError):
    """A file that cannot be used as an image; the message is the reason."""


def is_image_name(path: Path) -> bool:
    return Path(path).suffix.lower() in IMAGE_EXTENSIONS


def load_rgb(path, fit=None) -> np.ndarray:
    """Decode an image file to an 8-bit RGB array (H, W, 3).

    Grayscale becomes three equal channels, alpha is dropped, 16-bit is scaled to 8-bit.
    With `fit`, the (height, width) the pixels will be resized to, a JPEG at least twice that in
    both sides is decoded at 1/2, 1/4 or 1/8 of its size (`decode_scale.reduction`); None decodes
    every pixel. Raises ImageError (never anything else) for a file that cannot be read or decoded.
    """
    path = Path(path)
    try:
        data = path.read_bytes()
    except IsADirectoryError:
        raise ImageError("is a folder, not an image file") from None
    except FileNotFoundError:
        raise ImageError("file not found (or a broken link)") from None
    except OSError as error:
        raise ImageError(f"cannot be read: {error.strerror or error}") from None
    return decode_rgb(data, fit)


def decode_rgb(data: bytes, fit=None) -> np.ndarray:
    """Decode encoded image bytes; see `load_rgb`."""
    if not data:
        raise ImageError("empty file (0 bytes)")
    if data[:2] == b"\xff\xd8" and b"\xff\xd9" not in data[-64:]:
        # libjpeg decodes a truncated JPEG with a grey bottom and only a warning; refuse it.
        # Inside the entropy-coded data 0xFF is always followed by 0x00 or a restart marker,
        # so an end-of-image marker near the end means the file is complete.
        raise ImageError("truncated JPEG (no end-of-image marker)")
    buffer = np.frombuffer(data, dtype=np.uint8)
    try:
        image = cv2.imdecode(buffer, cv2.IMREAD_ANYDEPTH | _IMREAD_RGB | _reduced_flag(data, fit))
    except cv2.error as error:
        raise ImageError(f"cannot be decoded: {error.err or error}") from None
    if image is None or image.size == 0:
        raise ImageError("not a decodable image (unknown format or corrupt data)")
    if _IMREAD_RGB == cv2.IMREAD_COLOR and image.ndim == 3:
        image = cv2.cvtColor(image, cv2.COLOR_BGR2RGB)  # OpenCV before 4.11 decodes to BGR only
    return to_uint8_rgb(image)


def _reduced_flag(data: bytes, fit) -> int:
    """The IMREAD_REDUCED_* bits for a JPEG that may be decoded small for `fit`; 0 for a full decode."""
    if fit is None or data[:2] != b"\xff\xd8":  # only libjpeg scales in the DCT domain; other formats as they are
        return 0
    size = declared_size(data)
    if size is None:
        return 0
    return _REDUCED.get(decode_scale.reduction(size[0], size[1], fit), 0)


def to_uint8_rgb(image: np.ndarray) -> np.ndarray:
    """Bring a decoded array of any depth and channel count to 8-bit, 3-channel RGB."""
    if image.dtype == np.uint16:
        image = (image.astype(np.uint32) * 255 + 32767) // 65535
        image = image.astype(np.uint8)
    elif image.dtype in (np.float32, np.float64):
        image = np.clip(image * 255.0 + 0.5, 0, 255).astype(np.uint8)
    elif image.dtype != np.uint8:
        raise ImageError(f"unsupported pixel type {image.dtype}")
    if image.ndim == 2:
        image = np.repeat(image[:, :, None], 3, axis=2)
    elif image.shape[2] == 1:
        image = np.repeat(image, 3, axis=2)
    elif image.shape[2] == 4:
        image = image[:, :, :3]
    return np.ascontiguousarray(image)


def resize(rgb: np.ndarray, size) -> np.ndarray:
    """Resize to (height, width): area averaging when shrinking, bilinear when enlarging."""
    height, width = size
    if rgb.shape[0] == height and rgb.shape[1] == width:
        return rgb
    shrinking = rgb.shape[0] >= height and rgb.shape[1] >= width
    interpolation = cv2.INTER_AREA if shrinking else cv2.INTER_LINEAR
    return cv2.resize(rgb, (width, height), interpolation=interpolation)


def load_resized(path, size, rule: str = decode_scale.DEFAULT) -> np.ndarray:
    """`load_rgb` then `resize` under decode `rule`: exactly the pixels a model made by edgecell sees."""
    return resize(load_rgb(path, decode_scale.fit(rule, size)), size)
