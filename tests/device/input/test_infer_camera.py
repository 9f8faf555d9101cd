"""Videos and cameras: a generated video file stands in for a USB camera through the same OpenCV
capture path, and a stand-in with picamera2's API (as a `picamera2` module) for the Pi camera."""

import csv
import json
import sys
import types

import numpy as np
import pytest
from support.video import RED, write_video
from typer.testing import CliRunner

from edgecell.cli.main import app
from edgecell.device.input import camera
from edgecell.device.loop import runner
from edgecell.device.model.classifier import Classifier

cli = CliRunner()


def classifier_of(device_model):
    model, extra = device_model
    labels = extra[extra.index("--labels") + 1] if "--labels" in extra else None
    normal = 127.5 if "--mean" in extra else None
    return Classifier(model, labels=labels, mean=normal, std=normal)


def test_video_file_as_a_source_gives_every_frame(device_model, tmp_path):
    model, extra = device_model
    video = write_video(tmp_path / "clip.avi", frames=12)
    out = tmp_path / "r.csv"
    result = cli.invoke(app, ["infer", str(video), "--model", str(model), *extra, "-o", str(out), "-q"])
    assert result.exit_code == 0, result.output
    names = [row["source"] for row in csv.DictReader(out.open())]
    assert names == [f"{video}#{i}" for i in range(12)]


def test_video_through_the_camera_path_ends_at_limit(device_model, tmp_path):
    model, extra = device_model
    video = write_video(tmp_path / "clip.avi", frames=50, fps=50)
    summary = tmp_path / "s.json"
    result = cli.invoke(
        app,
        [
            "infer",
            "--camera",
            str(video),
            "--model",
            str(model),
            *extra,
            "--limit",
            "5",
            "--max-fps",
            "100",
            "--json",
            str(summary),
        ],
    )
    assert result.exit_code == 0, result.output
    data = json.loads(summary.read_text())
    assert data["images"] == {"done": 5, "failed": 0} and data["stopped_by"] == "limit"
    assert data["camera"]["name"] == f"camera {video}"
    assert data["camera"]["frame_size"] == [64, 48]  # a file keeps its own size; the summary says which
    assert "frames arrived at 64x48" in result.output
    assert result.output.count(f"camera {video}#") == 5


def test_camera_loop_reads_the_newest_frame(device_model, tmp_path):
    """At 200 frames/s in and 20 classified a second, frames in between are skipped, not queued."""
    video = write_video(tmp_path / "fast.avi", frames=120, fps=200)
    source = camera.OpenCvCamera(str(video))
    try:
        stream = camera.stream(source, camera.Retry(attempts=0, frame_timeout=0.5), max_fps=20)
        seqs = [int(frame.name.rsplit("#", 1)[1]) for frame in stream if frame.rgb is not None]
    finally:
        source.close()
    assert seqs == sorted(seqs) and len(set(seqs)) == len(seqs)
    assert len(seqs) < 30, seqs  # 0.6 s of video at 20 frames/s: about 12 frames
    assert max(np.diff(seqs)) > 3, seqs  # frames the model had no time for were dropped


def test_camera_that_stops_is_retried_then_the_run_ends_with_its_summary(device_model, tmp_path):
    classifier = classifier_of(device_model)
    video = write_video(tmp_path / "clip.avi", frames=25, fps=25)
    source = camera.OpenCvCamera(str(video))
    logged, results = [], []

    def unplug(result):  # after the first frame the "camera" goes away: its file is deleted
        results.append(result)
        video.unlink(missing_ok=True)

    retry = camera.Retry(attempts=2, first_wait=0.05, frame_timeout=1.0)
    try:
        summary = runner.run(classifier, camera.stream(source, retry, log=logged.append), prefetch=0, on_result=unplug)
    finally:
        source.close()
    assert results[0].ok and not results[-1].ok
    assert "stopped delivering frames" in results[-1].error
    assert summary["images"]["failed"] == 1 and summary["images"]["done"] == len(results) - 1
    assert source.reconnects == 2 and source.stalls == 3
    assert [m for m in logged if "retry" in m] == [
        f"{source.name}: no frame; retry {i} of 2 in {w:g} s" for i, w in ((1, 0.05), (2, 0.1))
    ]


def test_stop_request_ends_a_camera_loop(device_model, tmp_path):
    classifier = classifier_of(device_model)
    source = camera.OpenCvCamera(str(write_video(tmp_path / "clip.avi", frames=200, fps=100)))
    stop = runner.Stop()
    seen = []

    def on_result(result):
        seen.append(result)
        if len(seen) == 3:
            stop.set("SIGTERM")

    try:
        summary = runner.run(classifier, camera.stream(source, stop=stop), prefetch=0, stop=stop, on_result=on_result)
    finally:
        source.close()
    assert summary["stopped_by"] == "SIGTERM" and summary["images"]["done"] == 3


# --- the Pi camera, through a stand-in with picamera2's API -----------------------------------


class FakePicamera2:
    """Behaves like picamera2.Picamera2 for what edgecell uses: formats named after DRM fourccs
    ("BGR888" arrays are [R, G, B] per pixel, "RGB888" are [B, G, R]), capture jobs with
    wait(job, timeout) raising TimeoutError when no frame comes. `frames_left` None: frames forever."""

    sensor_modes = [{"size": (4608, 2592)}, {"size": (2304, 1296)}, {"size": (1536, 864)}]  # Camera Module 3
    plan = []  # per camera opened: frames it delivers before stalling (None: forever), or an exception
    opened = []

    def __init__(self, camera_num=0):
        step = FakePicamera2.plan.pop(0) if FakePicamera2.plan else None
        if isinstance(step, Exception):
            raise step
        self.camera_num, self.frames_left = camera_num, step
        self.config, self.started, self.closed = None, False, False
        FakePicamera2.opened.append(self)

    def create_preview_configuration(self, main=None, **kwargs):
        main = {"format": "XBGR8888", "size": (640, 480), **(main or {})}
        return {"use_case": "preview", "main": main, **kwargs}

    def configure(self, config):
        assert not self.started, "configure() while started"
        self.config = config

    def start(self):
        assert self.config is not None
        self.started = True

    def capture_array(self, name="main", wait=None):
        assert self.started and name == "main"
        if wait is False:
            return ("job", name)
        return self.wait(("job", name))

    def wait(self, job, timeout=None):
        if self.frames_left is not None:
            if self.frames_left <= 0:
                raise TimeoutError("frame not ready")
            self.frames_left -= 1
        width, height = self.config["main"]["size"]
        order = {"BGR888": RED, "RGB888": RED[::-1]}[self.config["main"]["format"]]
        return np.broadcast_to(np.array(order, dtype=np.uint8), (height, width, 3)).copy()

    def stop(self):
        self.started = False

    def close(self):
        self.closed = True


@pytest.fixture
def picamera2(monkeypatch):
    module = types.ModuleType("picamera2")
    module.Picamera2 = FakePicamera2
    FakePicamera2.plan, FakePicamera2.opened = [], []
    monkeypatch.setitem(sys.modules, "picamera2", module)
    return FakePicamera2


def test_picamera_frames_come_in_rgb_order(picamera2):
    cam = camera.PiCamera(size=(64, 48))
    seq, rgb = cam.read(timeout=1.0)
    cam.close()
    assert rgb.shape == (48, 64, 3) and tuple(rgb[0, 0]) == RED
    assert picamera2.opened[0].config["main"] == {"format": "BGR888", "size": (64, 48)}
    assert picamera2.opened[0].closed


def test_capture_size_covers_the_model_input_in_4_3():
    assert camera.capture_size((128, 128)) == (192, 144)
    assert camera.capture_size((224, 224)) == (320, 240)
    assert camera.capture_size((32, 32)) == (64, 48)
    assert camera.capture_size((96, 320)) == (320, 240)


def test_picamera_asks_for_the_models_scale_on_the_smallest_covering_sensor_mode(picamera2):
    cam = camera.PiCamera(size=camera.capture_size((224, 224)))
    seq, rgb = cam.read(timeout=1.0)
    cam.close()
    config = picamera2.opened[0].config
    assert config["main"] == {"format": "BGR888", "size": (320, 240)} and config["raw"] == {"size": (1536, 864)}
    assert rgb.shape == (240, 320, 3) and cam.frame_size == (320, 240)


def test_picamera_run_through_the_cli(picamera2, device_model, tmp_path):
    model, extra = device_model
    out, summary = tmp_path / "r.jsonl", tmp_path / "s.json"
    result = cli.invoke(
        app,
        [
            "infer",
            "--picamera",
            "--model",
            str(model),
            *extra,
            "--limit",
            "4",
            "-o",
            str(out),
            "--json",
            str(summary),
        ],
    )
    assert result.exit_code == 0, result.output
    size = list(camera.capture_size(Classifier(model).input_size))
    cam = json.loads(summary.read_text())["camera"]
    assert cam["asked_size"] == cam["frame_size"] == size and picamera2.opened[-1].config["main"]["size"] == tuple(size)
    rows = [json.loads(line) for line in out.read_text().splitlines()]
    assert [r["source"] for r in rows] == [f"picamera 0#{i}" for i in range(1, 5)]
    assert picamera2.opened[-1].closed


def test_picamera_that_stalls_and_cannot_be_reopened(picamera2, device_model):
    picamera2.plan = [3, RuntimeError("Camera __init__ sequence did not complete."), 0]
    cam = camera.PiCamera(size=(32, 32))
    retry = camera.Retry(attempts=2, first_wait=0.01, frame_timeout=0.1)
    frames = list(camera.stream(cam, retry))
    cam.close()
    assert [f.rgb is not None for f in frames] == [True, True, True, False]
    assert cam.reconnects == 2 and cam.stalls == 3


def test_picamera_missing_or_absent_is_one_sentence(monkeypatch, picamera2, device_model):
    model, extra = device_model
    picamera2.plan = [IndexError("list index out of range")]
    result = cli.invoke(app, ["infer", "--picamera", "--model", str(model), *extra])
    assert result.exit_code == 2 and "Pi camera 0 cannot be opened (list index out of range)" in result.output
    monkeypatch.setitem(sys.modules, "picamera2", None)  # not installed
    result = cli.invoke(app, ["infer", "--picamera", "--model", str(model), *extra])
    assert result.exit_code == 2 and "sudo apt install python3-picamera2" in result.output


def test_the_wait_for_a_camera_frame_is_counted_apart_from_decoding(device_model, tmp_path):
    """A video file as a camera delivers at its own 5 frames a second: the 200 ms between frames
    are the frame's wait, not its decode, and not in the total latency."""
    model, extra = device_model
    video = write_video(tmp_path / "slow.avi", frames=8, fps=5.0)
    summary = tmp_path / "summary.json"
    args = ["infer", "--camera", str(video), "--model", str(model), *extra, "--limit", "6", "--json", str(summary)]
    result = cli.invoke(app, [*args, "-q"])
    assert result.exit_code == 0, result.output
    latency = json.loads(summary.read_text())["latency_ms"]
    assert latency["wait"]["p50"] > 100, latency
    assert latency["decode"]["p50"] < 50 and latency["total"]["p50"] < 50, latency
    assert "wait: for the camera's next frame, not in total" in result.output
