"""Camera faults through OpenCV's real capture path (no camera here, so video files and file://
streams stand in): a device that is not there at the start, one that appears late, frames that
come back empty because they cannot be decoded, and a stop request while the camera is being
retried. Each is retried with back-off, counted, and reported in the summary. A camera that
stops mid-run is in test_infer_camera.py (test_camera_that_stops_is_retried_...)."""

import json
import signal
import subprocess
import sys
import threading
import time

from support.video import write_video
from typer.testing import CliRunner

from edgecell.cli.main import app
from edgecell.device.input import camera

cli = CliRunner()
ABSENT = "/dev/video-edgecell-absent"


def with_bad_frames(path, bad=(3, 4, 5), frames=10):
    """A video whose frames `bad` cannot be decoded (their JPEG data wiped), so OpenCV's read fails
    on exactly those, as on a camera that sends corrupt frames."""
    write_video(path, frames=frames, size=(16, 16), fps=50)
    data = bytearray(path.read_bytes())
    starts = [i for i in range(len(data) - 2) if data[i : i + 3] == b"\xff\xd8\xff"]
    assert len(starts) == frames
    for index in bad:
        data[starts[index] : starts[index] + 200] = bytes(200)
    path.write_bytes(bytes(data))
    return path


def test_empty_frames_are_skipped_and_counted(tmp_path):
    cam = camera.OpenCvCamera(str(with_bad_frames(tmp_path / "bad.avi")))
    try:
        frames = list(camera.stream(cam, camera.Retry(attempts=0, frame_timeout=1.0)))
    finally:
        cam.close()
    good = [f for f in frames if f.rgb is not None]
    assert len(good) == 7 and frames[-1].error == "stopped delivering frames; gave up after 0 retries"
    assert cam.empty_frames == 3 and cam.stalls == 1


def test_a_device_that_is_not_there_is_retried_with_back_off_then_reported(tmp_path):
    cam = camera.OpenCvCamera(ABSENT)  # no error yet: a USB camera may still be enumerating
    logged = []
    try:
        frames = list(camera.stream(cam, camera.Retry(attempts=3, first_wait=0.02), log=logged.append))
    finally:
        cam.close()
    assert [f.error for f in frames] == ["cannot be opened; gave up after 3 retries"]
    assert logged == [
        f"camera {ABSENT}: cannot be opened; retry {i} of 3 in {w:g} s" for i, w in ((1, 0.02), (2, 0.04), (3, 0.08))
    ]
    assert cam.stalls == 4 and cam.reconnects == 3


def test_a_stream_that_appears_late_is_opened_by_a_retry(tmp_path):
    late = tmp_path / "late.avi"
    cam = camera.OpenCvCamera(f"file://{late}")
    assert not cam.is_open
    timer = threading.Timer(0.3, write_video, args=(late,), kwargs={"frames": 5, "fps": 50})
    timer.start()
    try:
        frames = camera.stream(cam, camera.Retry(attempts=6, first_wait=0.1, frame_timeout=1.0))
        good = [frame for frame, _ in zip(frames, range(3))]
    finally:
        timer.join()
        cam.close()
    assert all(frame.rgb is not None for frame in good)
    assert cam.reconnects >= 2 and cam.stalls >= 2  # the opens it missed


def test_the_summary_reports_stalls_reconnects_and_empty_frames(device_model, tmp_path):
    model, extra = device_model
    video = with_bad_frames(tmp_path / "bad.avi")
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
            "10",
            "--json",
            str(summary),
            "-q",
        ],
    )  # 7 good frames a pass: the file ends, is reopened
    assert result.exit_code == 0, result.output
    cam = json.loads(summary.read_text())["camera"]
    assert cam["empty_frames"] >= 3 and cam["stalls"] >= 1 and cam["reconnects"] >= 1
    assert (
        f"camera {video}: {cam['stalls']} stall(s), {cam['reconnects']} reconnect(s), "
        f"{cam['empty_frames']} empty frame(s) skipped"
    ) in result.output


def test_a_stop_request_while_the_camera_is_retried_ends_with_the_summary(device_model, tmp_path):
    model, extra = device_model
    summary = tmp_path / "s.json"
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "edgecell",
            "infer",
            "--camera",
            ABSENT,
            "--model",
            str(model),
            *extra,
            "--json",
            str(summary),
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    deadline = time.monotonic() + 60
    for line in process.stderr:  # wait for the first retry to be announced
        if "cannot be opened; retry 1 of 5" in line or time.monotonic() > deadline:
            break
    process.send_signal(signal.SIGTERM)
    stdout, stderr = process.communicate(timeout=30)
    assert process.returncode == 0, stderr
    data = json.loads(summary.read_text())
    assert data["stopped_by"] == "SIGTERM" and data["images"] == {"done": 0, "failed": 0}
    assert data["camera"]["stalls"] >= 1
    assert "0 classified, 0 failed (stopped by SIGTERM)" in stdout and f"camera {ABSENT}: " in stdout
