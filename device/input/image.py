"""Decoding and resizing: the preprocessing contract, one function for training and the device.

A model made by edgecell takes RGB pixels in 0..255 at its input size; scaling and normalisation
are layers inside the model. Training, calibration, evaluation and the device runner all call
`load_rgb` and `resize`, so the same file gives the same pixels everywhere. Given the model's input
size (`fit`), a large JPEG is decoded at a reduced scale first, by the rule in `decode_scale`.
"""

import os
from pathlib import Path

import cv2
import numpy as np

from edgecell.core.regular_file import NotRegularFile, read_regular
from edgecell.device.input import decode_scale
from edgecell.device.input.image_header import declared_size

IMAGE_EXTENSIONS = (".jpg", ".jpeg", ".png", ".bmp")
# Decode straight to RGB where OpenCV can (4.11 and newer); older boards' OpenCV gets a swap.
_IMREAD_RGB = getattr(cv2, "IMREAD_COLOR_RGB", cv2.IMREAD_COLOR)
# The reduced flags without their colour bit (IMREAD_REDUCED_COLOR_2 is REDUCED_GRAYSCALE_2 | COLOR),
# so they combine with IMREAD_COLOR_RGB, which OpenCV refuses beside IMREAD_COLOR.
_REDUCED = {2: cv2.IMREAD_REDUCED_GRAYSCALE_2, 4: cv2.IMREAD_REDUCED_GRAYSCALE_4, 8: cv2.IMREAD_REDUCED_GRAYSCALE_8}
# A decoded image holds 3 bytes a pixel (6 for 16-bit): 50 megapixels is 150 MB, more than any
# camera a board meets, and far under what a 30000x30000 decompression bomb would take (2.7 GB).
MAX_PIXELS = 50_000_000
# An image file larger than this is not a photo; reading it whole would be the memory problem.
MAX_FILE_BYTES = 256 << 20


class ImageError(ValueError):
    """A file that cannot be used as an image; the message is the reason."""


def is_image_name(path: Path) -> bool:
    return os.path.splitext(path)[1].lower() in IMAGE_EXTENSIONS  # Path(path).suffix, without pathlib's cost


def load_rgb(path, fit=None, max_pixels: int = MAX_PIXELS) -> np.ndarray:
    """Decode an image file to an 8-bit RGB array (H, W, 3).

    Grayscale becomes three equal channels, alpha is dropped, 16-bit is scaled to 8-bit.
    With `fit`, the (height, width) the pixels will be resized to, a JPEG at least twice that in
    both sides is decoded at 1/2, 1/4 or 1/8 of its size (`decode_scale.reduction`); None decodes
    every pixel. Raises ImageError (never anything else) for a file that cannot be read or decoded,
    that is not a regular file (a FIFO, a device, a folder) or that would decode to more than
    `max_pixels` (read from its header: a decompression bomb is never decoded).
    """
    path = Path(path)
    try:
        data = read_regular(path, MAX_FILE_BYTES)
    except NotRegularFile as error:
        raise ImageError(f"is {error.kind}, not an image file" if error.kind else str(error)) from None
    except FileNotFoundError:
        raise ImageError("file not found (or a broken link)") from None
    except OSError as error:
        raise ImageError(f"cannot be read: {error.strerror or error}") from None
    return decode_rgb(data, fit, max_pixels)


def decode_rgb(data: bytes, fit=None, max_pixels: int = MAX_PIXELS) -> np.ndarray:
    """Decode encoded image bytes; see `load_rgb`."""
    if not data:
        raise ImageError("empty file (0 bytes)")
    size = declared_size(data)
    if size is None:  # only formats whose size is known before decoding are decoded
        raise ImageError("not a decodable image (unknown format or corrupt data)")
    reduction = _reduction(data, size, fit)
    if -(-size[0] // reduction) * -(-size[1] // reduction) > max_pixels:
        raise ImageError(
            f"declares {size[0]}x{size[1]} pixels ({size[0] * size[1] / 1e6:.0f} megapixels), over the "
            f"{max_pixels / 1e6:g}-megapixel cap (--max-pixels); not decoded"
        )
    if data[:2] == b"\xff\xd8" and b"\xff\xd9" not in data[-64:]:
        # libjpeg decodes a truncated JPEG with a grey bottom and only a warning; refuse it.
        # Inside the entropy-coded data 0xFF is always followed by 0x00 or a restart marker,
        # so an end-of-image marker near the end means the file is complete.
        raise ImageError("truncated JPEG (no end-of-image marker)")
    buffer = np.frombuffer(data, dtype=np.uint8)
    try:
        image = cv2.imdecode(buffer, cv2.IMREAD_ANYDEPTH | _IMREAD_RGB | _REDUCED.get(reduction, 0))
    except cv2.error as error:
        raise ImageError(f"cannot be decoded: {error.err or error}") from None
    if image is None or image.size == 0:
        raise ImageError("not a decodable image (unknown format or corrupt data)")
    if _IMREAD_RGB == cv2.IMREAD_COLOR and image.ndim == 3:
        image = cv2.cvtColor(image, cv2.COLOR_BGR2RGB)  # OpenCV before 4.11 decodes to BGR only
    return to_uint8_rgb(image)


def _reduction(data: bytes, size, fit) -> int:
    """1, or 2, 4 or 8 for a JPEG that may be decoded small for `fit` (the IMREAD_REDUCED_* scales)."""
    if fit is None or data[:2] != b"\xff\xd8":  # only libjpeg scales in the DCT domain; other formats as they are
        return 1
    reduction = decode_scale.reduction(size[0], size[1], fit)
    return reduction if reduction in _REDUCED else 1


def to_uint8_rgb(image: np.ndarray) -> np.ndarray:
    """Bring a decoded array of any depth and channel count to 8-bit, 3-channel RGB."""
    if image.dtype == np.uint16:
        # round(v * 255 / 65535) straight to 8 bits, without a 4-byte-a-sample copy: v / 257 is
        # never within float error of a half, so this equals (v * 255 + 32767) // 65535 exactly.
        image = cv2.convertScaleAbs(image, alpha=1 / 257)
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
