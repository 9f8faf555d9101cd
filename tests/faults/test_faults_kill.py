"""SIGKILL at random moments: `edgecell train` and `export` leave the previous complete artifacts
or none, never a truncated model, report or picture, and a rerun succeeds; `edgecell infer`
leaves a results file of whole, parseable lines. (SIGINT and SIGTERM, which end an infer run
with its summary, are in test_infer_process.py.)

The kills are aimed where damage could happen: one at a random time in the run, the others a
random few milliseconds after an artifact (for train, one of them the model.keras) starts being
written beside its target (a `.partial-` file appears in the output folder). The random moments
are printed, so a failure can be replayed.
"""

import json
import random
import shutil
import signal
import subprocess
import sys
import time

import cv2
import pytest
from support.cli import edgecell_command
from support.video import write_video

KILLS = 3
PARTIAL = ".partial-"


def run_and_kill(args, folder, moment, timeout=120):
    """Start `edgecell ARGS`, SIGKILL it at `moment`: ('at', S) seconds, or ('write', S[, NAME]) S seconds
    after a new .partial- file (of NAME) shows in `folder` itself; True when it was killed, False when
    it finished first."""
    kind, delay, *names = moment  # 'write' may name whose temporary file to wait for, e.g. '.model.keras'

    def partials():
        return (
            {p.name for p in folder.iterdir() if PARTIAL in p.name and p.name.startswith(tuple(names) or "")}
            if folder.exists()
            else set()
        )

    left_before = partials()  # by an earlier kill: not a sign of this run writing
    process = subprocess.Popen(
        edgecell_command(*args),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
    )
    started, deadline = time.monotonic(), time.monotonic() + timeout
    fire_at = started + delay if kind == "at" else None
    while process.poll() is None and time.monotonic() < deadline:
        now = time.monotonic()
        if fire_at is None and partials() - left_before:
            fire_at = now + delay
        if fire_at is not None and now >= fire_at:
            process.send_signal(signal.SIGKILL)
            process.wait()
            print(
                f"killed {kind} {delay:.3f} s at {now - started:.2f} s; left {sorted(p.name for p in folder.glob('*'))}"
            )
            return True
        time.sleep(0.002)
    stderr = process.communicate(timeout=timeout)[1]
    assert process.returncode == 0, stderr[-2000:]
    return False


def moments(seed, span, model_name):
    """A kill at a random time in `span`, one soon after any artifact starts being written, one soon
    after the model itself (`model_name`) does."""
    rng = random.Random(seed)
    chosen = [
        ("at", rng.uniform(*span)),
        ("write", rng.uniform(0.0, 0.15)),
        ("write", rng.uniform(0.0, 0.05), f".{model_name}"),
    ]
    print("kill moments:", chosen)
    return chosen


def assert_complete_model_folder(out):
    """Whatever is there under its real name is whole: JSON parses, pictures decode, the model loads."""
    from edgecell.core import modelfolder

    for name in ("split.json", "config.json", "train_report.json"):
        if (out / name).exists():
            json.loads((out / name).read_text())
    for name in ("curves.png", "confusion.png"):
        if (out / name).exists():
            assert cv2.imread(str(out / name)) is not None, name
    if (out / "labels.txt").exists():
        assert (out / "labels.txt").read_text() == "blue\ngreen\nred\n"
    if (out / "model.keras").exists():
        modelfolder.load_keras(out)


@pytest.mark.tf
@pytest.mark.slow
def test_train_killed_at_random_moments_leaves_whole_files_and_reruns(colour_data, tmp_path):
    out = tmp_path / "model"
    args = ["train", colour_data, "--out", out, "--epochs", "2", "--img-size", "16", "--batch-size", "16"]
    killed = 0
    for moment in moments(8, (5.5, 8.0), "model.keras"):
        killed += run_and_kill(args, out, moment)
        assert_complete_model_folder(out)
    assert killed >= KILLS - 1  # a fast machine may finish before the timed kill; the write kills land
    run_and_kill(args, out, ("at", 1e9))
    assert_complete_model_folder(out)
    assert (out / "model.keras").exists() and not any(PARTIAL in p.name for p in out.iterdir())


def assert_complete_export(export):
    from edgecell.device.model.classifier import Classifier

    for model in export.glob("*.tflite"):
        classifier = Classifier(model)
        assert classifier.labels == ["blue", "green", "red"]
        assert classifier.classify(cv2.imread(str(model.parent.parent / "confusion.png"))[:, :, ::-1]).shape == (3,)
    for name in ("export_report.json",):
        if (export / name).exists():
            json.loads((export / name).read_text())
    if (export / "labels.txt").exists():
        assert (export / "labels.txt").read_text() == "blue\ngreen\nred\n"


@pytest.mark.tf
@pytest.mark.slow
def test_export_killed_at_random_moments_leaves_whole_models_and_reruns(trained_dir, tmp_path):
    model_dir = shutil.copytree(trained_dir, tmp_path / "model")
    export = model_dir / "export"
    args = ["export", model_dir, "--quantize", "float32", "--quantize", "float16"]
    killed = 0
    for moment in moments(9, (5.5, 7.5), ""):  # a .tflite is one write call: no window of its own to aim at
        # An export's files are each one short write: the 2 ms poll can miss every window of a run, so
        # a write kill that missed is tried again (at most three runs), and each write kill must land.
        for _ in range(3 if moment[0] == "write" else 1):
            landed = run_and_kill(args, export, moment)
            assert_complete_export(export)
            if landed:
                killed += 1
                break
    assert killed >= KILLS - 1  # a fast machine may finish before the timed kill; the write kills land
    run_and_kill(args, export, ("at", 1e9))
    assert_complete_export(export)
    assert {p.name for p in export.iterdir()} >= {"model_float32.tflite", "model_float16.tflite", "export_report.json"}
    assert not any(PARTIAL in p.name for p in export.iterdir())


def test_infer_killed_leaves_whole_parseable_lines(device_model, tmp_path):
    model, extra = device_model
    video = write_video(tmp_path / "long.avi", frames=3000, size=(16, 16), fps=1000)
    rng = random.Random(10)
    for kill in range(KILLS):
        out = tmp_path / f"r{kill}.jsonl"
        wait = rng.uniform(0.05, 0.5)
        process = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "edgecell",
                "infer",
                "--camera",
                str(video),
                "--model",
                str(model),
                *extra,
                "-o",
                str(out),
                "-q",
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline and (not out.exists() or out.stat().st_size < 500):
            time.sleep(0.01)
        time.sleep(wait)
        process.send_signal(signal.SIGKILL)
        process.wait(timeout=30)
        text = out.read_text()
        assert text.endswith("\n"), f"kill {kill} after {wait:.3f} s"
        rows = [json.loads(line) for line in text.splitlines()]
        assert len(rows) >= 3 and all(row["status"] == "ok" for row in rows)
