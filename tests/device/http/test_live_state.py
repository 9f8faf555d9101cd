"""The live page's state: the frame it shows and the caption under it come from one result, and
the wait for a camera's next frame is shown apart from the work on it."""

import time

import cv2
import numpy as np

from edgecell.device.http import live_state
from edgecell.device.http.live_state import Live
from edgecell.device.input.frame import Frame
from edgecell.device.loop.result import Result, Timing
from edgecell.device.model.scores import Class

COLOURS = {"red": (230, 20, 20), "green": (20, 230, 20), "blue": (20, 20, 230)}


def classified(live, name, colour, wait=0.0):
    """A frame of one colour through the live state's tap and write, as the loop hands them."""
    rgb = np.full((48, 64, 3), COLOURS[colour], np.uint8)
    list(live.tap([Frame(name, rgb)]))
    live.write(Result(name, [Class(0, colour, 0.9)], Timing(1.0, 0.5, 2.0, 0.1, 3.6, wait)))


def drawn_colour(jpeg: bytes) -> str:
    """The colour name of a served frame, read from its pixels below the caption band."""
    bgr = cv2.imdecode(np.frombuffer(jpeg, np.uint8), cv2.IMREAD_COLOR)
    pixel = bgr[-5, -5][::-1].astype(int)
    return min(COLOURS, key=lambda name: np.abs(pixel - COLOURS[name]).sum())


def test_the_caption_is_the_result_drawn_on_the_frame_served(monkeypatch):
    live, seen = Live("m.tflite", "test"), set()
    for index, colour in enumerate(["red", "green", "blue", "red", "green"]):
        classified(live, f"f{index}", colour)
        status = live.status()
        shown = status["frame"]
        # what the page does: ask for the frame status.json named, after more frames went by
        classified(live, f"late{index}", "blue" if shown["label"] != "blue" else "red")
        jpeg = live.jpeg(status["frame_seq"])
        assert drawn_colour(jpeg) == shown["label"], (index, status["frame_seq"])
        if index % 2:  # now and then past the encode interval, so status.json names a new frame
            monkeypatch.setattr(live_state.time, "monotonic", lambda at=time.monotonic() + 10 * (index + 1): at)
        seen.add(status["frame_seq"])
    assert len(seen) >= 3  # cached and freshly encoded frames both checked


def test_the_wait_for_a_frame_is_shown_apart_and_not_in_the_latency():
    live = Live()
    for index in range(20):
        classified(live, f"cam#{index}", "red", wait=400.0)
    status = live.status()
    assert status["stages_ms"] == {"wait": 400.0, "decode": 1.0, "preprocess": 0.5, "invoke": 2.0}
    assert status["latency_ms"]["p50"] == 3.6
