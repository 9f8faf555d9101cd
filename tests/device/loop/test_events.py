"""Class-change events: smoothing and holding on the shipped digits model, real frames, real files."""

import csv
import json

import pytest

from edgecell.core.errors import EdgecellError
from edgecell.device.input import sources
from edgecell.device.input.frame import Frame
from edgecell.device.loop import events, runner
from edgecell.device.model.classifier import Classifier
from edgecell.device.sinks.base import Sink
from edgecell.device.sinks.results_file import ResultWriter
from edgecell.models import DEMO_IMAGES, DEMO_MODEL


@pytest.fixture(scope="module")
def digits():
    """The demo model and one decoded frame per digit image ('3' -> the frame of 3_0045.png)."""
    frames = {path.name[0]: sources.decode(str(path)) for path in sorted(DEMO_IMAGES.glob("*.png"))}
    return Classifier(DEMO_MODEL), frames


def stream(digits, pattern):
    """Results of the frames spelled by `pattern` ("3338" = three 3s then an 8), in order."""
    classifier, frames = digits
    return [runner.classify_frame(classifier, frames[d]._replace(name=f"frame#{i}")) for i, d in enumerate(pattern)]


def changes(detector, results):
    return [(e.previous, e.label, e.frame) for r in results if (e := detector.update(r)) is not None]


def test_every_change_without_smoothing(digits):
    classifier, _ = digits
    results = stream(digits, "33383777")
    assert [r.classes[0].label for r in results] == list("33383777")  # the model reads them right
    detector = events.Detector(classifier.labels)
    assert changes(detector, results) == [(None, "3", 1), ("3", "8", 4), ("8", "3", 5), ("3", "7", 6)]
    assert detector.current == "7"
    assert [e.label for e in detector.recent(2)] == ["3", "7"]


def test_hold_ignores_a_flicker(digits):
    classifier, _ = digits
    detector = events.Detector(classifier.labels, hold=3)
    assert changes(detector, stream(digits, "33383777")) == [(None, "3", 3), ("3", "7", 8)]


def test_smoothing_needs_the_mean_to_move(digits):
    classifier, _ = digits
    detector = events.Detector(classifier.labels, smooth=4)
    # one 8 among 3s never outweighs three 3s in a window of four
    assert changes(detector, stream(digits, "3338333")) == [(None, "3", 1)]
    detector = events.Detector(classifier.labels, smooth=4, hold=2)
    # 7s take over once they are most of the window, and must hold two frames
    found = changes(detector, stream(digits, "33337777"))
    assert found == [(None, "3", 2), ("3", "7", 8)]


def test_threshold_holds_back_a_weak_class(digits):
    classifier, _ = digits
    detector = events.Detector(classifier.labels, smooth=2, threshold=0.9)
    # a window of one 3 and one 7 scores ~0.5 each: below the threshold, no change yet
    assert changes(detector, stream(digits, "3377")) == [(None, "3", 1), ("3", "7", 4)]


def test_failed_frames_change_nothing(digits):
    classifier, frames = digits
    failed = runner.classify_frame(classifier, Frame("broken.png", None, "not an image"))
    detector = events.Detector(classifier.labels, hold=2)
    results = stream(digits, "33")
    assert changes(detector, [results[0], failed, results[1]]) == [(None, "3", 3)]


def test_the_running_mean_is_the_mean_of_the_window(monkeypatch):
    """The detector keeps a running sum of its window; over a long stream (and across its fresh
    sums) its mean equals numpy's mean of the last `smooth` score vectors."""
    import numpy as np

    monkeypatch.setattr(events, "EXACT_EVERY", 37)
    rng = np.random.default_rng(5)
    detector = events.Detector(["a", "b", "c"], smooth=5)
    seen = []
    for i in range(500):
        scores = rng.dirichlet((1.0, 1.0, 1.0)).astype(np.float32)
        seen.append(scores)
        mean = detector._mean(scores)
        assert np.allclose(mean, np.mean(seen[-5:], axis=0, dtype=np.float64), atol=1e-6), i


def test_bad_counts_are_one_sentence():
    with pytest.raises(EdgecellError, match="--smooth 0"):
        events.Detector(["a", "b"], smooth=0)


class Counting(Sink):
    """A sink that only counts results: it inherits the interface's no-op `event`."""

    def __init__(self):
        self.results = 0

    def write(self, result):
        self.results += 1


@pytest.mark.parametrize("suffix", [".jsonl", ".csv"])
def test_events_go_into_the_results_file_after_their_frame(digits, tmp_path, suffix):
    classifier, _ = digits
    path = tmp_path / f"results{suffix}"
    detector = events.Detector(classifier.labels, hold=2)
    with ResultWriter(path) as writer:
        for result in stream(digits, "3377"):
            writer.write(result)
            event = detector.update(result)
            if event is not None:
                events.dispatch([writer, Counting()], event)  # a sink that ignores events is skipped
    if suffix == ".jsonl":
        rows = [json.loads(line) for line in path.read_text().splitlines()]
        assert [(r["source"], r["status"], r["label"]) for r in rows] == [
            ("frame#0", "ok", "3"),
            ("frame#1", "ok", "3"),
            ("frame#1", "event", "3"),
            ("frame#2", "ok", "7"),
            ("frame#3", "ok", "7"),
            ("frame#3", "event", "7"),
        ]
        assert rows[5]["previous"] == "3" and rows[5]["frame"] == 4 and rows[5]["time"].endswith("+00:00")
    else:
        rows = list(csv.DictReader(path.open()))
        assert [(r["status"], r["label"], r["top_k"]) for r in rows if r["status"] == "event"] == [
            ("event", "3", ""),
            ("event", "7", "3"),
        ]
        assert len(rows) == 6
