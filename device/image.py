"""Decoding and resizing: the preprocessing contract, one function for training and the device.

A model made by edgecell takes RGB pixels in 0..255 at its input size; scaling and normalisation
are layers inside the model. Training, calibration, evaluation and the device runner all call
`load_rgb` and `resize`, so the same file gives the same pixels everywhere.
"""

from pathlib import Path

import cv2
import numpy as np

IMAGE_EXTENSIONS = (".jpg", ".jpeg", ".png", ".bmp")
# Decode straight to RGB where OpenCV can (4.11 and newer); older boards' OpenCV gets a swap.
_IMREAD_RGB = getattr(cv2, "IMREAD_COLOR_RGB", cv2.IMREAD_COLOR)


class ImageError(ValueError):
    """A file that cannot be used as an image; the message is the reason."""


def is_image_name(path: Path) -> bool:
    return Path(path).suffix.lower() in IMAGE_EXTENSIONS


def load_rgb(path) -> np.ndarray:
    """Decode an image file to an 8-bit RGB array (H, W, 3).

    Grayscale becomes three equal channels, alpha is dropped, 16-bit is scaled to 8-bit.
    Raises ImageError (never anything else) for a file that cannot be read or decoded.
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
    return decode_rgb(data)


def decode_rgb(data: bytes) -> np.ndarray:
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
        image = cv2.imdecode(buffer, cv2.IMREAD_ANYDEPTH | _IMREAD_RGB)
    except cv2.error as error:
        raise ImageError(f"cannot be decoded: {error.err or error}") from None
    if image is None or image.size == 0:
        raise ImageError("not a decodable image (unknown format or corrupt data)")
    if _IMREAD_RGB == cv2.IMREAD_COLOR and image.ndim == 3:
        image = cv2.cvtColor(image, cv2.COLOR_BGR2RGB)  # OpenCV before 4.11 decodes to BGR only
    return to_uint8_rgb(image)


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


def load_resized(path, size) -> np.ndarray:
    """`load_rgb` then `resize`: exactly the pixels a model made by edgecell sees."""
    return resize(load_rgb(path), size)
