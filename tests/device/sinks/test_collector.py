"""`edgecell infer --collect DIR`: which frames are kept, as whole JPEG and JSON files, within the
rate, the queue and the size cap, with a summary that counts each; real files, the real CLI."""

import json
import subprocess
import time

import cv2
import numpy as np
import pytest
from support.cli import edgecell_command

from edgecell.core.digest import sha256
from edgecell.device.input.frame import Frame
from edgecell.device.loop.result import Result, Timing
from edgecell.device.model.scores import Class
from edgecell.device.sinks import unsure
from edgecell.device.sinks.collector import Collecting, Collector
from edgecell.models import DEMO_IMAGES, DEMO_MODEL

LABELS = ["a", "b", "c"]


def result(name, scores):
    scores = np.asarray(scores, dtype=np.float32)
    order = np.argsort(-scores, kind="stable")
    classes = [Class(int(i), LABELS[i], float(scores[i])) for i in order]
    return Result(name, classes, Timing(1.0, 0.5, 2.0, 0.1, 3.6), None, scores)


def feed(collector, count, scores, size=64, seed=0):
    """`count` frames of noise (incompressible: each JPEG is about as large as its pixels) through
    `collector` as the run would: tapped, then written."""
    rng = np.random.default_rng(seed)
    frames = (Frame(f"f{i}", rng.integers(0, 256, (size, size, 3), dtype=np.uint8)) for i in range(count))
    for frame in collector.tap(frames):
        collector.write(result(frame.name, scores))


def written(sink, count):
    """Wait until the writer has handled `count` frames (a long run at camera pace never fills the queue)."""
    deadline = time.monotonic() + 30
    while sink.counts["collected"] + sink.counts["failed_writes"] < count and time.monotonic() < deadline:
        time.sleep(0.002)


def collector(folder, **limits):
    return Collector(Collecting(folder, **limits), "0" * 64, "model.tflite", LABELS)


def on_disk(folder):
    return sum(p.stat().st_size for p in folder.iterdir())


def test_the_reasons_a_frame_is_kept():
    assert unsure.unsure(result("x", [0.5, 0.45, 0.05])) == unsure.MARGIN_REASON
    assert unsure.unsure(result("x", [0.9, 0.05, 0.05])) is None
    assert unsure.unsure(result("x", [0.5, 0.45, 0.05]), within=0.01) is None
    answered_unknown = result("x", [0.9, 0.05, 0.05])._replace(unknown_threshold=0.95)  # --unknown 0.95
    assert answered_unknown.unknown and unsure.unsure(answered_unknown) == unsure.UNKNOWN
    failed = Result("x", [], Timing(), "cannot be decoded")
    assert unsure.unsure(failed) is None


def test_a_long_run_stays_within_the_cap_counting_an_earlier_runs_files(tmp_path):
    folder = tmp_path / "collected"
    folder.mkdir()
    (folder / "20000101T000000.000Z-000001.jpg").write_bytes(b"\xff" * 30_000)  # left by an earlier run
    (folder / "20000101T000000.000Z-000001.json").write_text("{}")
    killed = folder / ".20000101T000000.000Z-000002.jpg.partial-4194304999-x"  # a write killed part-way
    killed.write_bytes(b"\xff" * 1000)
    cap = 0.1  # MB; each frame is ~13 kB, so 7 fit
    sink = collector(folder, max_mb=cap, per_minute=10_000, share=0.0)
    for batch in range(10):
        feed(sink, 10, [0.5, 0.45, 0.05], seed=batch)
        written(sink, 10 * (batch + 1))
    sink.close()
    report = sink.report()
    assert (report["collected"], report["dropped_queue"]) == (100, 0)
    assert on_disk(folder) <= cap * 1024 * 1024 == pytest.approx(cap * 1024 * 1024)
    assert not (folder / "20000101T000000.000Z-000001.jpg").exists()  # the oldest went first
    assert not killed.exists()  # swept once at start
    assert report["removed_for_cap"] == report["collected"] + 1 - len(list(folder.glob("*.jpg")))
    names = sorted(p.name for p in folder.iterdir())
    assert not [n for n in names if n.startswith(".")]  # no partial file left
    stems = sorted({n.rsplit(".", 1)[0] for n in names})
    assert all((folder / f"{s}.jpg").exists() and (folder / f"{s}.json").exists() for s in stems)
    assert cv2.imread(str(folder / f"{stems[-1]}.jpg")).shape == (64, 64, 3)
    assert "removed for the 0.1 MB cap" in sink.lines(report)[0]


def test_the_rate_limit_keeps_n_a_minute_and_counts_the_rest(tmp_path):
    sink = collector(tmp_path / "c", per_minute=5, share=0.0)
    feed(sink, 40, [0.5, 0.45, 0.05])
    feed(sink, 40, [0.98, 0.01, 0.01], seed=1)  # confident and share 0: not even counted
    sink.close()
    report = sink.report()
    assert (report["collected"], report["dropped_rate"], report["dropped_queue"]) == (5, 35, 0)
    assert report["by_reason"] == {"unknown": 0, "margin": 5, "sample": 0}


def test_a_full_queue_drops_and_counts_rather_than_slowing_the_loop(tmp_path):
    sink = collector(tmp_path / "c", per_minute=100_000, share=0.0)
    feed(sink, 120, [0.5, 0.45, 0.05], size=1200)  # each 4 MB frame takes the writer ~50 ms to encode
    sink.close()
    report = sink.report()
    assert report["dropped_queue"] > 0 and report["collected"] + report["dropped_queue"] == 120
    assert len(list((tmp_path / "c").glob("*.json"))) == report["collected"]


def test_the_queue_holds_at_most_its_bytes_of_pixels(tmp_path):
    from edgecell.device.sinks import collector as module

    sink = collector(tmp_path / "c", per_minute=100_000, share=0.0)
    frames = [Frame(f"f{i}", np.zeros((2160, 3840, 3), dtype=np.uint8)) for i in range(12)]  # 4K: 24 MB each
    for frame in sink.tap(iter(frames)):
        sink.write(result(frame.name, [0.5, 0.45, 0.05]))
        assert sink._queued_bytes <= module.QUEUE_BYTES
    sink.close()
    report = sink.report()
    assert report["dropped_queue"] >= 12 - 4 and report["collected"] + report["dropped_queue"] == 12
    assert sink._queued_bytes == 0


def test_a_seeded_share_of_confident_frames_is_kept(tmp_path):
    chosen = []
    for run in ("one", "two"):
        sink = collector(tmp_path / run, share=0.1, seed=7)
        chosen.append([i for i in range(400) if sink.why(result(f"f{i}", [0.98, 0.01, 0.01])) == unsure.SAMPLE])
        sink.close()
    assert chosen[0] == chosen[1] and 20 <= len(chosen[0]) <= 65  # the same frames each run: ~40 of 400


def test_infer_collect_writes_frames_with_their_sidecars(tmp_path):
    folder = tmp_path / "collected"
    summary = tmp_path / "summary.json"
    done = subprocess.run(
        edgecell_command(
            *("infer", DEMO_IMAGES, "--model", "demo", "--collect", folder),
            *("--collect-share", "1", "--json", summary, "-q"),
        ),
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr
    images = sorted(DEMO_IMAGES.glob("*.png"))
    report = json.loads(summary.read_text())["collect"]
    assert report["collected"] == len(images) and f"collected {len(images)} frames into" in done.stdout
    sidecars = [json.loads(p.read_text()) for p in sorted(folder.glob("*.json"))]
    assert sorted(s["source"] for s in sidecars) == sorted(str(p) for p in images)
    for sidecar in sidecars:
        assert sidecar["model"] == {"file": DEMO_MODEL.name, "sha256": sha256(DEMO_MODEL)}
        assert sidecar["why"] == "sample" and sidecar["guess"] == max(sidecar["scores"], key=sidecar["scores"].get)
        assert sidecar["guess"] == sidecar["source"].rsplit("/", 1)[-1].split("_")[0]  # the demo's answers are right
    jpeg = cv2.imread(str(sorted(folder.glob("*.jpg"))[0]))
    assert jpeg is not None and jpeg.shape[2] == 3


def test_frames_answered_unknown_are_kept_as_unknown(tmp_path):
    folder = tmp_path / "collected"
    done = subprocess.run(
        edgecell_command(
            *("infer", DEMO_IMAGES, "--model", "demo", "--unknown", "0.999", "--collect", folder),
            *("--collect-share", "0", "-q"),
        ),
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr
    sidecars = [json.loads(p.read_text()) for p in sorted(folder.glob("*.json"))]
    assert len(sidecars) == len(list(DEMO_IMAGES.glob("*.png")))  # the demo's top scores are all under 0.999
    assert all(s["why"] == "unknown" and s["unknown_threshold"] == 0.999 for s in sidecars)
    assert "(10 unknown, 0 margin, 0 sample)" in done.stdout


@pytest.mark.parametrize(
    "flags, said",
    [
        (["--collect-share", "2"], "--collect-share 2 is not a share"),
        (["--collect-margin", "-1"], "--collect-margin -1 is not a score gap"),
        (["--collect-per-minute", "0"], "--collect-per-minute 0 keeps nothing"),
        (["--collect-mb", "0"], "--collect-mb 0 holds nothing"),
    ],
)
def test_a_bad_collect_flag_is_one_sentence(tmp_path, flags, said):
    done = subprocess.run(
        edgecell_command("infer", DEMO_IMAGES, "--model", "demo", "--collect", tmp_path / "c", *flags),
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 2 and said in done.stderr and "Traceback" not in done.stderr, done.stderr
    assert not (tmp_path / "c").exists()  # refused before anything is made


def test_held_frames_are_matched_to_their_results_in_order_and_bounded():
    from edgecell.device.sinks.awaiting import Awaiting

    held = Awaiting(3)
    for name in ("a", "b", "c", "d"):  # four frames tapped into room for three: "a" goes
        held.hold(name, name.upper())
    assert len(held) == 3 and held.take("a") is None and len(held) == 0  # not there: all let go
    for name in ("a", "b", "c"):
        held.hold(name, name.upper())
    assert held.take("b") == "B" and len(held) == 1  # "a", older and without a result, let go on the way
    assert held.take("c") == "C" and len(held) == 0
