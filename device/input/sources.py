"""What `edgecell infer` classifies: image files, folders, globs and video files, as frames.

`expand` turns the SOURCE arguments into a list of inputs in a stable order: a folder is walked
recursively (sorted, images only, by extension), a glob is expanded and sorted, a video file is
read frame by frame. `frames` then yields one `Frame` per image or video frame, decoded to RGB or
carrying the reason it could not be. A bad input is a failed frame, never an exception, so one
broken file does not stop a run over thousands.
"""

import glob
import os
import time
from pathlib import Path
from typing import NamedTuple, Optional

import cv2

from edgecell.core.errors import EdgecellError
from edgecell.core.regular_file import NotRegularFile, check_regular
from edgecell.device.input import image
from edgecell.device.input.frame import Frame, bgr_to_rgb

VIDEO_EXTENSIONS = (".mp4", ".avi", ".mkv", ".mov", ".m4v", ".webm", ".mpg", ".mpeg", ".h264")
_GLOB_CHARS = "*?["


class Input(NamedTuple):
    """One expanded SOURCE entry: a path to decode as an image or read as a video, or an error."""

    path: str
    kind: str  # "image", "video" or "error"
    error: Optional[str] = None


def is_video_name(path) -> bool:
    return os.path.splitext(path)[1].lower() in VIDEO_EXTENSIONS  # Path(path).suffix, without pathlib's cost


def expand(sources) -> list:
    """The `Input`s named by SOURCE arguments, in a stable order, each path once (`many/**` matches
    a folder and every file under it; a file named twice is classified once).

    Raises EdgecellError (a usage error) when the arguments name nothing at all to classify.
    """
    inputs = _Unique()
    for source in sources:
        source = str(source)
        path = Path(source)
        if path.is_dir() and not image.is_image_name(path):
            found = walk(path)
            if not found:
                raise EdgecellError(
                    f"Folder {source} holds no image files (looked for {', '.join(image.IMAGE_EXTENSIONS)} "
                    "in it and its subfolders)."
                )
            inputs.extend(found)
        elif os.path.lexists(source):
            # A named file is tried whatever its extension; a folder or broken link named like
            # an image fails with its reason when it is read.
            inputs.append(Input(source, "video" if is_video_name(source) else "image"))
        elif any(c in source for c in _GLOB_CHARS):
            matches = sorted(glob.glob(source, recursive=True))
            if not matches:
                inputs.append(Input(source, "error", "no file matches this pattern"))
            for match in matches:
                if Path(match).is_dir() and not image.is_image_name(match):
                    inputs.extend(walk(Path(match)))
                else:
                    inputs.append(Input(match, "video" if is_video_name(match) else "image"))
        else:
            inputs.append(Input(source, "error", "file not found"))
    return list(inputs)


class _Unique(list):
    """A list of `Input`s that keeps the first of each path (as normalised by os.path.normpath)."""

    def __init__(self):
        super().__init__()
        self._seen = set()

    def append(self, item: Input):
        key = os.path.normpath(item.path)
        if key not in self._seen:
            self._seen.add(key)
            super().append(item)

    def extend(self, items):
        for item in items:
            self.append(item)


def walk(folder: Path) -> list:
    """Image-named entries under `folder`, recursively, sorted by path.

    Entries are chosen by name: a broken link or a folder named like an image is listed too, and
    fails with its reason when read, rather than vanishing from the count. Symbolic links to
    folders are not followed (no loops).
    """
    found, unreadable = [], []

    def failed(error: OSError):
        unreadable.append(Input(error.filename, "error", f"folder cannot be read: {error.strerror}"))

    for root, dirs, files in os.walk(folder, onerror=failed, followlinks=False):
        dirs.sort()
        for name in sorted(files) + [d for d in dirs if image.is_image_name(d)]:
            if image.is_image_name(name):
                found.append(os.path.join(root, name))
    # sorted by their parts, as Path(p).parts would (os.walk joins with os.sep), at a tenth of the cost
    return [Input(path, "image") for path in sorted(found, key=lambda p: p.split(os.sep))] + unreadable


class Pending(NamedTuple):
    """An image file not decoded yet, so that whoever runs `decode` can do it on another core
    (device/loop/decode_pool.py); `frames(..., lazy=True)` yields these for image files."""

    path: str
    fit: Optional[tuple]
    max_pixels: int

    def decode(self) -> Frame:
        return decode(self.path, self.fit, self.max_pixels)


def frames(inputs, fit=None, max_pixels: int = image.MAX_PIXELS, lazy: bool = False):
    """Decode `inputs` one after the other, yielding a `Frame` for each image or video frame.
    An image that would decode to more than `max_pixels` is a failed frame, never decoded.

    `fit` is the model's input size when its decode rule lets a large JPEG decode reduced
    (`Classifier.decode_fit`); None decodes every pixel. With `lazy`, an image file is yielded as
    a `Pending` for its consumer to decode (a video's frames, read in order, are decoded here)."""
    for item in inputs:
        if item.kind == "error":
            yield Frame(item.path, None, item.error)
        elif item.kind == "video":
            yield from video_frames(item.path)
        elif lazy:
            yield Pending(item.path, fit, max_pixels)
        else:
            yield decode(item.path, fit, max_pixels)


def decode(path: str, fit=None, max_pixels: int = image.MAX_PIXELS) -> Frame:
    start = time.perf_counter()
    try:
        rgb = image.load_rgb(path, fit, max_pixels)
    except image.ImageError as error:
        return Frame(path, None, str(error), _ms_since(start))
    return Frame(path, rgb, None, _ms_since(start))


def video_frames(path: str):
    """Every frame of a video file, named `path#N` (N from 0)."""
    try:
        check_regular(path)  # OpenCV would block on a FIFO named like a video
    except NotRegularFile as error:
        yield Frame(path, None, f"is {error.kind}, not a video file")
        return
    except OSError as error:
        yield Frame(path, None, f"cannot be read: {error.strerror or error}")
        return
    capture = cv2.VideoCapture(path)
    try:
        if not capture.isOpened():
            yield Frame(path, None, "cannot be opened as a video (unknown format or corrupt data)")
            return
        index = 0
        while True:
            start = time.perf_counter()
            ok, bgr = capture.read()
            if not ok or bgr is None:
                break
            yield Frame(f"{path}#{index}", bgr_to_rgb(bgr), None, _ms_since(start))
            index += 1
        if index == 0:
            yield Frame(path, None, "video holds no decodable frame")
    finally:
        capture.release()


def _ms_since(start: float) -> float:
    return (time.perf_counter() - start) * 1000.0
