"""`--arch mobilenetv2 --weights imagenet` on a machine that cannot download: one sentence naming the offline choice."""

import os
import subprocess

import pytest
from support.cli import edgecell_command
from support.imagegen import colour_dataset

pytestmark = [pytest.mark.tf, pytest.mark.slow]


def test_a_failed_weights_download_names_efficientnet_lite0(tmp_path):
    data = colour_dataset(tmp_path / "data", per_class=4, size=32)
    # An empty Keras cache, and every HTTP(S) request sent to a closed port on this machine: the
    # download fails at once without reaching out.
    closed = "http://127.0.0.1:9"
    env = {**os.environ, "KERAS_HOME": str(tmp_path / "keras"), "HTTPS_PROXY": closed, "https_proxy": closed}
    env.update({"HTTP_PROXY": closed, "http_proxy": closed, "NO_PROXY": "", "no_proxy": ""})
    done = subprocess.run(
        edgecell_command("train", str(data), "--out", str(tmp_path / "out"))
        + ["--arch", "mobilenetv2", "--weights", "imagenet", "--img-size", "96", "--epochs", "1"],
        capture_output=True,
        text=True,
        env=env,
        timeout=120,
    )
    assert done.returncode == 2, done.stdout[-1000:] + done.stderr[-1000:]
    assert "Could not get the ImageNet weights for MobileNetV2" in done.stderr
    assert "--arch efficientnet-lite0" in done.stderr and "Traceback" not in done.stderr
