"""Training and evaluation reports beside a constant model, and the command's guards and interruption."""

import json
import os
import re
import signal
import subprocess
import time

import pytest
from support.cli import edgecell_command
from support.imagegen import cells_dataset, colour_dataset, noise_dataset
from typer.testing import CliRunner

from edgecell.cli.main import app
from edgecell.train import metrics
from edgecell.train.training import class_weights

runner = CliRunner()
CLASSES = ["disc", "dots", "ring", "square"]


def test_a_constant_model_is_reported_as_such():
    truth = [0] * 12 + [1] * 3 + [2] * 3 + [3] * 2
    result = metrics.summary(truth, [0] * len(truth), CLASSES)
    assert result["majority_class"] == "disc" and result["majority_rate"] == pytest.approx(0.6)
    assert result["balanced_accuracy"] == pytest.approx(0.25)
    assert result["never_predicted"] == ["dots", "ring", "square"]
    assert "not clearly better than always answering 'disc' (0.60" in result["verdict"]
    assert "--epochs" in result["verdict"] and "--augment" in result["verdict"]


def test_a_model_that_finds_every_class_has_no_warning():
    truth = [0] * 12 + [1] * 3 + [2] * 3 + [3] * 2
    predicted = list(truth)
    predicted[0] = 1
    result = metrics.summary(truth, predicted, CLASSES)
    assert result["verdict"] is None and result["never_predicted"] == []
    assert result["balanced_accuracy"] == pytest.approx((11 / 12 + 3) / 4)
    assert "against 60.00% for always answering 'disc'" in metrics.format_baseline(result)


def test_class_weights_only_when_unbalanced():
    assert class_weights({"a": 10, "b": 9}, ["a", "b"], "auto") == []
    assert class_weights({"a": 30, "b": 10}, ["a", "b"], "auto") == [pytest.approx(2 / 3, abs=1e-3), 2.0]
    assert class_weights({"a": 10, "b": 9}, ["a", "b"], "balanced") != []
    assert class_weights({"a": 30, "b": 10}, ["a", "b"], "none") == []


def test_a_root_of_splits_is_refused_with_the_folder_to_train_on(tmp_path):
    for part in ("train", "test"):
        colour_dataset(tmp_path / "DATA" / part, per_class=2, size=16)
    result = runner.invoke(app, ["train", str(tmp_path / "DATA"), "--out", str(tmp_path / "m")])
    assert result.exit_code == 2 and "Traceback" not in result.output
    assert f"train on {tmp_path / 'DATA' / 'train'}" in result.output and "--data" in result.output


def test_a_trained_model_folder_is_not_overwritten(tmp_path, colour_data):
    (tmp_path / "m").mkdir()
    (tmp_path / "m" / "model.keras").write_bytes(b"made earlier")
    result = runner.invoke(app, ["train", str(colour_data), "--out", str(tmp_path / "m")])
    assert result.exit_code == 2 and "--exist-ok" in result.output
    assert (tmp_path / "m" / "model.keras").read_bytes() == b"made earlier"


def test_help_shows_defaults():
    result = runner.invoke(app, ["train", "--help"], terminal_width=200)
    assert "trained/<dataset name>" in result.output and "upright" in result.output


@pytest.mark.tf
@pytest.mark.slow
def test_strict_fails_a_model_no_better_than_a_constant(tmp_path):
    data = noise_dataset(tmp_path / "noise")
    args = ["train", str(data), "--img-size", "16", "--epochs", "2", "--augment", "none"]
    loose = runner.invoke(app, [*args, "--out", str(tmp_path / "a")])
    assert loose.exit_code == 0, loose.output
    assert "not clearly better than always answering 'many'" in loose.output
    report = json.loads((tmp_path / "a" / "train_report.json").read_text())
    assert report["test"]["verdict"] and report["test"]["majority_rate"] == pytest.approx(0.75)
    assert report["class_weight"] is not None  # 3 to 1: weighted by default
    strict = runner.invoke(app, [*args, "--out", str(tmp_path / "b"), "--strict"])
    assert strict.exit_code == 1 and "--strict" in strict.output


def start_training(data, out, epochs=20):
    env = {**os.environ, "PYTHONUNBUFFERED": "1"}
    args = ["train", str(data), "--out", str(out), "--img-size", "32", "--epochs", str(epochs), "--batch-size", "4"]
    return subprocess.Popen(
        edgecell_command(*args),
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        env=env,
    )


@pytest.mark.tf
@pytest.mark.slow
@pytest.mark.parametrize("when", ["Epoch 1/", "Epoch 2/"])
def test_ctrl_c_ends_with_the_line_that_continues(tmp_path, when):
    data = cells_dataset(tmp_path / "cells", counts={"disc": 30, "ring": 10, "square": 10, "dots": 10}, size=32)
    process = start_training(data, tmp_path / "m")
    lines = []
    for line in process.stdout:
        lines.append(line)
        if line.startswith(when):
            break
    time.sleep(0.3)
    process.send_signal(signal.SIGINT)
    sent = time.monotonic()
    rest, _ = process.communicate(timeout=30)
    assert time.monotonic() - sent < 5
    output = "".join(lines) + rest
    assert process.returncode == 130, output
    assert "Traceback" not in output
    last = output.rstrip().splitlines()[-1]
    if when == "Epoch 1/":  # nothing saved yet: the line says to start again, not to resume
        assert last.startswith("Interrupted in epoch 1 of 20, before any was saved") and "--resume" not in last
    else:
        # 0.3 s into epoch 2, a quick machine may have finished it: the line names the last one saved
        done = re.match(r"Interrupted after epoch (\d+) of 20", last)
        assert done and int(done.group(1)) >= 1 and last.endswith("--resume"), last
    assert "\b" not in output  # no progress bar when the output is not a terminal


@pytest.mark.tf
@pytest.mark.slow
def test_a_log_file_has_one_line_per_epoch(tmp_path):
    data = cells_dataset(tmp_path / "cells", counts={"disc": 12, "ring": 6}, size=24)
    log = tmp_path / "train.log"
    with log.open("w") as file:
        done = subprocess.run(
            edgecell_command("train", str(data), "--out", str(tmp_path / "m"), "--img-size", "24")
            + ["--epochs", "3", "--patience", "3"],
            stdout=file,
            stderr=subprocess.STDOUT,
            timeout=300,
        )
    text = log.read_text()
    assert done.returncode == 0, text
    assert "\b" not in text and "oneDNN" not in text
    assert sum(line.startswith("Epoch ") for line in text.splitlines()) == 3
    assert sum(" - loss: " in line for line in text.splitlines()) == 3
