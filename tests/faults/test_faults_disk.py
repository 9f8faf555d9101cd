"""A full disk, for real: a small tmpfs is mounted for each test and filled to a few kilobytes, so
the kernel itself answers ENOSPC. Writing results, a summary, an exported model or a trained
model there is one sentence naming the file and exit 1, and leaves no partial artifact: no
half row in the results file, no half model, no hidden temporary file. The same tmpfs remounted
read-only stands in for an SD card the kernel made read-only after errors (EROFS).

Mounting needs root (as in CI containers); elsewhere these tests skip, and the /dev/full test in
test_infer.py still covers the results file.
"""

import csv
import os
import re
import shutil
import subprocess

import pytest
from support.video import write_video
from typer.testing import CliRunner

from edgecell.cli.main import app
from edgecell.device.sinks.results_file import FIELDS
from edgecell.models import DEMO_MODEL

cli = CliRunner()


class Disk:
    def __init__(self, path):
        self.path = path

    def fill(self, leave: int) -> None:
        """Take all the free space but `leave` bytes."""
        stat = os.statvfs(self.path)
        free = stat.f_bavail * stat.f_frsize
        with open(self.path / "filler", "wb") as f:
            f.write(b"\0" * max(0, free - leave))

    def remount_read_only(self) -> None:
        """As the kernel does to an SD card after I/O errors."""
        subprocess.run(["mount", "-o", "remount,ro", str(self.path)], check=True)

    def leftovers(self) -> list:
        return sorted(str(p.relative_to(self.path)) for p in self.path.rglob("*") if ".partial-" in p.name)


@pytest.fixture
def small_disk(tmp_path):
    """A 4 MB tmpfs at tmp_path/disk, unmounted after the test."""
    path = tmp_path / "disk"
    path.mkdir()
    mounted = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", "size=4m", "tmpfs", str(path)], capture_output=True, text=True
    )
    if mounted.returncode != 0:
        pytest.skip(f"cannot mount a tmpfs here ({mounted.stderr.strip() or 'not root'})")
    try:
        yield Disk(path)
    finally:
        subprocess.run(["umount", "-l", str(path)], check=False)


def the_error(result) -> str:
    errors = re.findall(r"Error: [^\n]*", result.output)  # Keras' progress bar ends without a newline
    assert len(errors) == 1 and "Traceback" not in result.output, result.output
    return errors[0]


def device_args(device_model):
    model, extra = device_model
    return ["--model", str(model), *extra]


def test_results_file_on_a_full_disk_keeps_whole_rows_only(device_model, small_disk, tmp_path):
    video = write_video(tmp_path / "clip.avi", frames=300, size=(16, 16))
    out = small_disk.path / "results.csv"
    small_disk.fill(leave=6000)  # room for about 50 rows, then ENOSPC part-way through a row
    result = cli.invoke(app, ["infer", str(video), *device_args(device_model), "-o", str(out), "-q"])
    assert result.exit_code == 1
    assert the_error(result) == (
        f"Error: no space left on the device while writing {out}; free some space and run again."
    )
    text = out.read_text()
    assert text.endswith("\n")
    rows = list(csv.reader(text.splitlines()))
    assert 10 < len(rows) < 300 and all(len(row) == len(FIELDS) for row in rows)
    assert all(row[1] == "ok" for row in rows[1:])


def test_summary_on_a_full_disk_leaves_no_file(device_model, small_disk, tmp_path):
    video = write_video(tmp_path / "clip.avi", frames=3, size=(16, 16))
    summary = small_disk.path / "summary.json"
    small_disk.fill(leave=0)
    result = cli.invoke(app, ["infer", str(video), *device_args(device_model), "--json", str(summary), "-q"])
    assert result.exit_code == 1
    assert f"no space left on the device while writing {summary};" in the_error(result)
    assert not summary.exists() and small_disk.leftovers() == []


@pytest.mark.skipif(not DEMO_MODEL.exists(), reason="the demo model is not in models/demo yet")
def test_bench_json_on_a_full_disk_leaves_no_file(small_disk):
    report = small_disk.path / "bench.json"
    small_disk.fill(leave=0)
    result = cli.invoke(app, ["bench", str(DEMO_MODEL), "--runs", "2", "--warmup", "0", "--json", str(report)])
    assert result.exit_code == 1
    assert f"no space left on the device while writing {report};" in the_error(result)
    assert not report.exists() and small_disk.leftovers() == []


@pytest.mark.tf
def test_export_to_a_full_disk_keeps_the_previous_model(trained_dir, small_disk):
    model_dir = shutil.copytree(trained_dir, small_disk.path / "model")
    previous = model_dir / "export" / "model_float32.tflite"
    previous.parent.mkdir()
    previous.write_bytes(b"the previous export, complete")
    small_disk.fill(leave=4096)  # less than one model
    result = cli.invoke(app, ["export", str(model_dir), "--quantize", "float32"])
    assert result.exit_code == 1
    assert f"no space left on the device while writing {previous};" in the_error(result)
    assert previous.read_bytes() == b"the previous export, complete"
    assert small_disk.leftovers() == []


@pytest.mark.tf
def test_training_into_a_full_disk_leaves_no_partial_model(colour_data, small_disk):
    out = small_disk.path / "model"
    small_disk.fill(leave=0)
    result = cli.invoke(app, ["train", str(colour_data), "--out", str(out), "--epochs", "1", "--img-size", "16"])
    assert result.exit_code == 1
    assert "no space left on the device while writing " + str(out) in the_error(result)  # the first backup
    assert not (out / "model.keras").exists() and small_disk.leftovers() == []


READ_ONLY = (
    "is on a read-only file system (a read-only mount, or an SD card the kernel remounted read-only after errors)"
)


def test_summary_on_a_read_only_disk_is_one_sentence(device_model, small_disk, tmp_path):
    video = write_video(tmp_path / "clip.avi", frames=3, size=(16, 16))
    summary = small_disk.path / "summary.json"
    small_disk.remount_read_only()
    result = cli.invoke(app, ["infer", str(video), *device_args(device_model), "--json", str(summary), "-q"])
    assert result.exit_code == 1
    assert the_error(result).startswith(f"Error: {summary} {READ_ONLY}")
    result = cli.invoke(app, ["infer", str(video), *device_args(device_model), "-o", str(small_disk.path / "r.csv")])
    assert result.exit_code == 2
    assert (
        the_error(result) == f"Error: --output {small_disk.path / 'r.csv'} cannot be written (Read-only file system)."
    )


@pytest.mark.tf
def test_export_to_a_read_only_disk_keeps_the_previous_model(trained_dir, small_disk):
    model_dir = shutil.copytree(trained_dir, small_disk.path / "model")
    (model_dir / "export").mkdir()
    small_disk.remount_read_only()
    result = cli.invoke(app, ["export", str(model_dir), "--quantize", "float32"])
    assert result.exit_code == 1
    assert the_error(result).startswith(f"Error: {model_dir / 'export' / 'model_float32.tflite'} {READ_ONLY}")
    assert list((model_dir / "export").iterdir()) == []
