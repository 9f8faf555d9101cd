"""Live frames: a USB/V4L2 camera through OpenCV, or the Pi camera through picamera2.

A live loop must classify the newest frame, not the oldest one waiting in a queue. The OpenCV
camera runs a grabber thread that keeps only the latest frame (a slow model skips frames rather
than falling behind); picamera2's `capture_array` already returns the next frame the sensor
delivers. `stream` turns either into `Frame`s, capped by `max_fps`, and when frames stop it
retries with back-off (reopening the camera), reporting each retry; after `Retry.attempts`
failed retries in a row it yields one failed frame and ends, so the run closes with its summary.
A camera device or stream that cannot be opened at the start (a USB camera still enumerating at
boot) is retried the same way; a video file that is not there is an error at once. Empty or
undecodable frames are skipped and counted (`empty_frames`); each camera also counts `stalls`
(no frame in time) and `reconnects`, and `edgecell infer` reports all three in its summary.

A camera is asked for frames near the model's input size (`capture_size`), so the board neither
moves nor resizes megapixels it will shrink anyway: V4L2 through CAP_PROP_FRAME_WIDTH/HEIGHT (the
driver picks its nearest mode), picamera2 through a small main stream (the ISP scales in hardware)
on the smallest sensor mode at least that size. `frame_size` is what actually arrived, for the
summary. picamera2's `lores` stream is not used: on a Pi 4 it is YUV420 only.
"""

import math
import threading
import time
from typing import NamedTuple, Optional

import cv2
import numpy as np

from edgecell.core.credentials import masked
from edgecell.core.errors import EdgecellError
from edgecell.device.input.frame import Frame, bgr_to_rgb

# picamera2's formats are named after DRM fourccs, which list channels from the least
# significant byte: "BGR888" is [R, G, B] in memory (what the model wants), "RGB888" is [B, G, R].
PICAMERA_RGB_FORMAT = "BGR888"


class Retry(NamedTuple):
    attempts: int = 5  # failed retries in a row before giving up
    first_wait: float = 0.25  # seconds before the first retry, doubled at each one
    max_wait: float = 4.0
    frame_timeout: float = 2.0  # no frame for this long counts as a stall


def capture_size(input_size) -> tuple:
    """(width, height) to ask a camera for: the smallest 4:3 frame, width a multiple of 32, that
    covers the model's (height, width) input in both sides."""
    height, width = (int(side) for side in input_size)
    wide = math.ceil(max(width, height * 4 / 3) / 32) * 32
    return wide, wide * 3 // 4


FAILED_READS_AT_END = 10  # failed reads in a row that mean the capture has ended, not a bad frame


class OpenCvCamera:
    """A camera index (`0` is /dev/video0), a device path or stream URL, or a video file.

    A video file is played at its own frame rate, as a camera would deliver it; at its end it
    stops delivering frames like an unplugged camera.
    """

    def __init__(self, device, size=None):
        self.device = int(device) if str(device).isdigit() else str(device)
        # The name goes to the terminal, every results row, /status.json and MQTT: a stream URL's
        # password is masked there (core/credentials.py); only OpenCV is given the real one.
        self.name = f"camera {masked(self.device)}"
        self.size, self.frame_size = (tuple(size) if size else None), None  # (width, height) asked / arrived
        self.reconnects = self.stalls = self.empty_frames = 0
        self.waited_ms = 0.0  # of the last read
        self._ready = threading.Condition()
        self._latest: Optional[np.ndarray] = None
        self._seq = 0
        self._taken = 0
        self._ended = False
        self._capture = None
        self._thread = None
        self._is_file = (
            isinstance(self.device, str) and "://" not in self.device and not self.device.startswith("/dev/")
        )
        if not self._open() and self._is_file:
            raise EdgecellError(
                f"Camera {masked(self.device)} cannot be opened; check that it is connected and free "
                "(ls /dev/video*), or try another --camera index."
            )  # a device or stream that is not there yet is retried by `stream`

    @property
    def is_open(self) -> bool:
        return self._capture is not None

    def _open(self) -> bool:
        capture = cv2.VideoCapture(self.device)
        if not capture.isOpened():
            capture.release()
            return False
        capture.set(cv2.CAP_PROP_BUFFERSIZE, 1)  # V4L2 honours it; others ignore it
        if self.size and not self._is_file:  # V4L2 picks its nearest mode; a file or stream keeps its own
            capture.set(cv2.CAP_PROP_FRAME_WIDTH, self.size[0])
            capture.set(cv2.CAP_PROP_FRAME_HEIGHT, self.size[1])
        fps = capture.get(cv2.CAP_PROP_FPS) if self._is_file else 0
        self._capture, self._ended = capture, False
        self._thread = threading.Thread(target=self._grab, args=(capture, fps), daemon=True, name="camera-grabber")
        self._thread.start()
        return True

    def _grab(self, capture, fps):
        period = 1.0 / fps if fps and fps > 0 else 0.0
        next_at = time.monotonic()
        failed = 0  # failed or empty reads in a row: a bad frame, or the end when there are many
        while True:
            ok, bgr = capture.read()
            with self._ready:
                if self._capture is not capture:  # closed or reopened meanwhile
                    return
                if not ok or bgr is None or bgr.size == 0:
                    failed += 1
                    if failed >= FAILED_READS_AT_END:
                        self._ended = True
                        self._ready.notify_all()
                        return
                    continue
                self.empty_frames, failed = self.empty_frames + failed, 0
                self._seq += 1
                self._latest = bgr
                self._ready.notify_all()
            if period:
                next_at += period
                time.sleep(max(0.0, next_at - time.monotonic()))

    def read(self, timeout: float):
        """(sequence number, RGB) of the newest frame not yet read, or None after `timeout` s.
        `waited_ms` is how long it waited for that frame (the grabbing thread decodes it)."""
        with self._ready:
            if self._capture is None:  # never opened, or lost: `stream` reopens it
                return None
            start = time.perf_counter()
            arrived = self._ready.wait_for(lambda: self._seq > self._taken or self._ended, timeout)
            self.waited_ms = (time.perf_counter() - start) * 1000.0
            if not arrived:
                return None
            if self._seq <= self._taken:
                return None
            seq = self._taken = self._seq
            bgr = self._latest
        self.frame_size = (int(bgr.shape[1]), int(bgr.shape[0]))
        return seq, bgr_to_rgb(bgr)

    def reopen(self) -> bool:
        self._release()
        self.reconnects += 1
        return self._open()

    def _release(self):
        with self._ready:
            capture, self._capture = self._capture, None
            self._ready.notify_all()
        if capture is not None:
            if self._thread is not None:
                self._thread.join(timeout=2.0)
                if self._thread.is_alive():  # stuck in a driver's read: releasing under it could crash
                    return
            capture.release()

    def close(self):
        self._release()


class PiCamera:
    """The Raspberry Pi camera through picamera2, configured for RGB so no channel swap is needed."""

    def __init__(self, camera_num: int = 0, size=(640, 480)):
        try:
            from picamera2 import Picamera2
        except ImportError:
            raise EdgecellError(
                "--picamera needs picamera2, which is installed with: sudo apt install python3-picamera2 "
                "(in a virtual environment made with --system-site-packages)."
            ) from None
        self._factory = Picamera2
        self.camera_num, self.size = camera_num, tuple(size)
        self.frame_size = None
        self.name = f"picamera {camera_num}"
        self.reconnects = self.stalls = self.empty_frames = 0
        self.waited_ms = 0.0  # of the last read
        self._seq = 0
        self._camera = None
        error = self._open()
        if error is not None:
            raise EdgecellError(
                f"Pi camera {camera_num} cannot be opened ({error}); check the cable and "
                "that no other program uses it (rpicam-hello --list-cameras)."
            )

    def _open(self):
        """None when the camera is running, else the reason it is not."""
        try:
            camera = self._factory(self.camera_num)
        except Exception as error:  # picamera2 raises IndexError, RuntimeError ... when no camera answers
            return str(error) or type(error).__name__
        try:
            raw = _smallest_mode(getattr(camera, "sensor_modes", None), self.size)
            config = camera.create_preview_configuration(
                main={"format": PICAMERA_RGB_FORMAT, "size": self.size}, **({"raw": raw} if raw else {})
            )
            camera.configure(config)
            camera.start()
        except Exception as error:
            _quietly(camera.close)
            return str(error) or type(error).__name__
        self._camera = camera
        return None

    def read(self, timeout: float):
        """(sequence number, RGB) of the next frame the sensor delivers, or None after `timeout` s."""
        if self._camera is None:
            return None
        try:
            start = time.perf_counter()
            job = self._camera.capture_array("main", wait=False)
            array = self._camera.wait(job, timeout=timeout)  # for the sensor's next frame
            self.waited_ms = (time.perf_counter() - start) * 1000.0
        except TimeoutError:
            return None
        except Exception:  # the camera went away under us: treat as a stall, retried by `stream`
            return None
        if array is None or array.ndim != 3 or array.shape[2] < 3 or array.size == 0:
            self.empty_frames += 1
            return None
        height, width = self.size[1], self.size[0]
        self._seq += 1
        rgb = np.ascontiguousarray(array[:height, :width, :3])
        self.frame_size = (int(rgb.shape[1]), int(rgb.shape[0]))
        return self._seq, rgb

    def reopen(self) -> bool:
        self.close()
        self.reconnects += 1
        return self._open() is None

    def close(self):
        camera, self._camera = self._camera, None
        if camera is not None:
            _quietly(camera.stop)
            _quietly(camera.close)


def _smallest_mode(modes, size):
    """The raw stream of the smallest sensor mode covering `size` (binned modes read faster), or None."""
    try:
        sizes = [tuple(mode["size"]) for mode in modes or []]
    except (KeyError, TypeError):
        return None
    covering = [s for s in sizes if s[0] >= size[0] and s[1] >= size[1]]
    return {"size": min(covering, key=lambda s: s[0] * s[1])} if covering else None


def _quietly(action):
    try:
        action()
    except Exception:
        pass


def stream(camera, retry: Retry = Retry(), max_fps: Optional[float] = None, stop=None, log=None):
    """Frames from `camera`, newest first-come, at most `max_fps` a second, until `stop` is set.

    Each frame is named `<camera name>#<sequence>`; gaps in the sequence are frames the camera
    delivered while the model was busy, skipped on purpose. `camera.stalls` counts stalls.
    """
    stop = stop or threading.Event()
    log = log or (lambda message: None)
    camera.stalls = 0
    period = 1.0 / max_fps if max_fps else 0.0
    failures, wait, next_at, delivered = 0, retry.first_wait, time.monotonic(), False
    while not stop.is_set():
        if period:
            if stop.wait(max(0.0, next_at - time.monotonic())):
                return
            next_at = max(next_at + period, time.monotonic())
        start = time.perf_counter()
        got = camera.read(retry.frame_timeout)
        if got is not None:
            failures, wait, delivered = 0, retry.first_wait, True
            seq, rgb = got
            spent = (time.perf_counter() - start) * 1000.0
            waited = min(spent, getattr(camera, "waited_ms", 0.0))  # for the frame, not decoding it
            yield Frame(f"{camera.name}#{seq}", rgb, None, spent - waited, wait_ms=waited)
            continue
        camera.stalls += 1
        never_opened = not delivered and not getattr(camera, "is_open", True)
        if failures >= retry.attempts:
            what = "cannot be opened" if never_opened else "stopped delivering frames"
            yield Frame(camera.name, None, f"{what}; gave up after {failures} retries")
            return
        failures += 1
        log(
            f"{camera.name}: {'cannot be opened' if never_opened else 'no frame'}; "
            f"retry {failures} of {retry.attempts} in {wait:g} s"
        )
        if stop.wait(wait):
            return
        wait = min(wait * 2, retry.max_wait)
        if camera.reopen():
            log(f"{camera.name}: reopened")
