"""`edgecell infer` as a whole process: no TensorFlow imported, SIGINT/SIGTERM end with the
summary and whole result lines, the demo model gives its recorded answers, and the same model
runs under tflite-runtime 2.14 in its own environment."""

import csv
import json
import os
import signal
import subprocess
import sys
import time

import pytest
from support.cli import edgecell_command
from support.video import write_video

from edgecell.models import DEMO_IMAGES, DEMO_MODEL

needs_demo = pytest.mark.skipif(not DEMO_MODEL.exists(), reason="the demo model is not in models/demo yet")

# Runs the real command line in a fresh interpreter, then reports what got imported.
RUN_AND_REPORT = """
import json, sys
from edgecell.cli.main import main
sys.argv = ["edgecell", "infer", *sys.argv[1:]]
try:
    main()
except SystemExit as exit:
    code = exit.code
print(json.dumps({"exit": code, "tensorflow": "tensorflow" in sys.modules, "keras": "keras" in sys.modules}))
"""


def test_a_run_imports_no_tensorflow(device_model, tmp_path):
    model, extra = device_model
    image = sorted(DEMO_IMAGES.glob("*.png"))[0] if DEMO_MODEL.exists() else None
    if image is None:
        from support.imagegen import COLOURS, colour_image, write_rgb

        image = write_rgb(tmp_path / "red.png", colour_image(COLOURS["red"]))
    done = subprocess.run(
        [sys.executable, "-c", RUN_AND_REPORT, str(image), "--model", str(model), *extra, "-q"],
        capture_output=True,
        text=True,
        timeout=120,
    )
    report = json.loads(done.stdout.strip().splitlines()[-1])
    assert report == {"exit": 0, "tensorflow": False, "keras": False}, done.stderr


@needs_demo
def test_demo_model_runs_when_asked_for_and_matches_expected(tmp_path):
    """Parity with export: the answers `scripts/make_demo_model.py` recorded through the export's classifier."""
    from typer.testing import CliRunner

    from edgecell.cli.main import app

    expected = json.loads((DEMO_MODEL.parent / "expected.json").read_text())
    out = tmp_path / "r.jsonl"
    result = CliRunner().invoke(app, ["infer", str(DEMO_IMAGES), "--model", "demo", "-o", str(out), "-q"])
    assert result.exit_code == 0, result.output
    rows = {os.path.basename(r["source"]): r for r in map(json.loads, out.read_text().splitlines())}
    assert set(rows) == set(expected)
    for name, answer in expected.items():
        assert rows[name]["label"] == answer["label"]
        assert rows[name]["score"] == pytest.approx(answer["score"], abs=1e-6)


@pytest.mark.parametrize("signum, exit_code", [(signal.SIGTERM, 0), (signal.SIGINT, 130)])
def test_signal_ends_the_run_with_summary_and_whole_lines(device_model, tmp_path, signum, exit_code):
    model, extra = device_model
    video = write_video(tmp_path / "long.avi", frames=400, fps=50)
    out, summary = tmp_path / "r.csv", tmp_path / "s.json"
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
            "--json",
            str(summary),
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline and (not out.exists() or out.read_text().count("\n") < 4):
        time.sleep(0.05)
    process.send_signal(signum)
    stdout, stderr = process.communicate(timeout=30)
    assert process.returncode == exit_code, stderr
    data = json.loads(summary.read_text())
    assert data["stopped_by"] == signal.Signals(signum).name
    text = out.read_text()
    assert text.endswith("\n")
    rows = list(csv.DictReader(text.splitlines()))
    assert len(rows) == data["images"]["done"] + data["images"]["failed"] >= 3
    assert all(row["status"] == "ok" and row["total_ms"] for row in rows)
    assert f"stopped by {signal.Signals(signum).name}" in stdout
    reported = [line.split("  ")[1] for line in stdout.splitlines() if line.startswith("ok  ")]
    assert reported == [row["source"] for row in rows]  # every image shown is in the file, in order


@needs_demo
@pytest.mark.slow
def test_same_answers_under_tflite_runtime_2_14(tflite_runtime_python, tmp_path):
    script = """
import json, sys
from edgecell.device.loop import runner
from edgecell.device.input import sources
from edgecell.device.model.classifier import Classifier
classifier = Classifier(sys.argv[1], runtime_name=sys.argv[2])
rows = []
summary = runner.run(classifier, sources.frames(sources.expand([sys.argv[3]])),
                     on_result=lambda r: rows.append([r.name, r.classes[0].label, r.classes[0].score]))
print(json.dumps({"rows": rows, "runtime": summary["runtime"], "version": summary["runtime_version"],
                  "tensorflow": "tensorflow" in sys.modules}))
"""
    answers = {}
    for python, runtime in ((tflite_runtime_python, "tflite-runtime"), (sys.executable, "litert")):
        done = subprocess.run(
            [str(python), "-c", script, str(DEMO_MODEL), runtime, str(DEMO_IMAGES)],
            capture_output=True,
            text=True,
            timeout=180,
        )
        assert done.returncode == 0, done.stderr[-2000:]
        answers[runtime] = json.loads(done.stdout.strip().splitlines()[-1])
    old, new = answers["tflite-runtime"], answers["litert"]
    assert (old["runtime"], old["version"]) == ("tflite-runtime", "2.14.0") and not old["tensorflow"]
    assert [r[:2] for r in old["rows"]] == [r[:2] for r in new["rows"]]
    assert [r[2] for r in old["rows"]] == pytest.approx([r[2] for r in new["rows"]], abs=1e-6)


def test_closed_stdout_stops_the_lines_not_the_run(device_model, tmp_path):
    """`edgecell infer ... | head -1`: every frame still reaches the results file, no traceback."""
    model, extra = device_model
    video = write_video(tmp_path / "many.avi", frames=1500, size=(16, 16))
    out = tmp_path / "r.csv"
    process = subprocess.Popen(
        edgecell_command("infer", str(video), "--model", str(model), *extra, "-o", str(out)),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    assert process.stdout.readline().startswith(b"ok  ")
    process.stdout.close()  # the reader goes away long before the 1500 lines (about 150 kB) are written
    stderr = process.stderr.read().decode()
    assert process.wait(timeout=120) == 0, stderr
    assert "Traceback" not in stderr and "BrokenPipe" not in stderr
    assert len(list(csv.DictReader(out.open()))) == 1500
