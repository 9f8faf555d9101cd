"""A run that lasts months: memory flat whatever the number of frames, statistics within a stated
error of the exact ones, failures named up to a cap and counted past it."""

import json
import math

import cv2
import numpy as np
import pytest
from support.peak_memory import run_cli

from edgecell.device.input.frame import Frame
from edgecell.device.loop import runner
from edgecell.device.measure import stats
from edgecell.device.model.classifier import Classifier
from edgecell.models import DEMO_MODEL


def nearest_rank(values, q):
    ordered = np.sort(values)
    return ordered[max(1, math.ceil(q / 100 * len(ordered))) - 1]


@pytest.mark.parametrize(
    "values",
    [
        np.random.default_rng(0).lognormal(1.5, 0.6, 100_000),  # a long tail, as latencies have
        np.random.default_rng(1).uniform(0.01, 400.0, 20_000),
        np.concatenate([np.random.default_rng(2).normal(3, 0.1, 9000), np.full(1000, 50.0)]),  # two modes
    ],
    ids=["lognormal", "uniform", "two-modes"],
)
def test_running_statistics_match_the_exact_ones_within_half_a_percent(values):
    running = stats.Running()
    for value in values:
        running.add(float(value))
    got = running.latency()
    assert got.count == len(values) and got.min == values.min() and got.max == values.max()
    assert got.mean == pytest.approx(values.mean(), rel=1e-9) and got.std == pytest.approx(values.std(), rel=1e-6)
    for q, estimate in ((50, got.p50), (90, got.p90), (99, got.p99)):
        assert estimate == pytest.approx(nearest_rank(values, q), rel=0.005), q
    assert len(running.buckets) < 2100  # 17 KB, whatever the count


def test_failures_are_named_up_to_a_cap_and_counted_past_it():
    classifier = Classifier(DEMO_MODEL)
    frames = (Frame(f"missing{i}.png", None, "file not found") for i in range(runner.FAILURES_LISTED + 234))
    summary = runner.run(classifier, frames, warmup=0)
    assert summary["images"] == {"done": 0, "failed": runner.FAILURES_LISTED + 234}
    assert len(summary["failures"]) == runner.FAILURES_LISTED and summary["failures_not_listed"] == 234
    assert summary["failures"][0] == {"source": "missing0.png", "error": "file not found"}


def tiny_video(path, frames):
    """Uncompressed 16x16 frames: 17 us a frame to write, 40 to read, so 120,000 take seconds."""
    writer = cv2.VideoWriter(str(path), 0, 30, (16, 16))
    assert writer.isOpened()
    pictures = [np.full((16, 16, 3), 20 * i, np.uint8) for i in range(10)]
    for i in range(frames):
        writer.write(pictures[i % 10])
    writer.release()
    return path


@pytest.mark.slow
def test_peak_memory_of_120k_frames_is_within_10_mb_of_10k(tmp_path):
    short, long = tiny_video(tmp_path / "short.avi", 10_000), tiny_video(tmp_path / "long.avi", 120_000)
    args = ["--model", "demo", "-q", "--threads", "1", "--json", tmp_path / "summary.json"]
    code_short, short_mb = run_cli(["infer", short, *args])
    code_long, long_mb = run_cli(["infer", long, *args])
    assert code_short == 0 and code_long == 0
    print(f"peak RSS: 10k frames {short_mb:.1f} MB, 120k frames {long_mb:.1f} MB")
    assert long_mb - short_mb < 10, (short_mb, long_mb)
    summary = json.loads((tmp_path / "summary.json").read_text())
    assert summary["images"]["done"] == 120_000 and summary["latency_ms"]["total"]["count"] == 120_000
