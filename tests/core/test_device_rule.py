"""One rule for a device id, the same in `edgecell infer --device-id` and in device/install.sh:
each sample is given to both, which must agree and say the same sentence."""

import os
import subprocess

import pytest
from support.paths import REPO
from typer.testing import CliRunner

from edgecell.cli.main import app
from edgecell.core import device_rule
from edgecell.models import DEMO_IMAGES

SAMPLES = ["pi-1", "kitchen_pi", "A" * 64, "my pi", "pi.kitchen", "pi/1", "pi+", "pi#", "pi%h", "é", "A" * 65, "pi="]


@pytest.mark.parametrize("device", SAMPLES)
def test_install_sh_and_edgecell_take_and_refuse_the_same_ids_in_the_same_words(device, tmp_path):
    why = device_rule.problem(device)
    user = ["--user", "daemon"] if os.geteuid() == 0 else []
    args = ["--prefix", tmp_path / "p", "--unit-only", "--model", tmp_path / "m.tflite", *user, "--device-id", device]
    # a UTF-8 locale, as a board's login shell has (install.sh matches the ranges in the C locale)
    env = {**os.environ, "LC_ALL": "C.UTF-8"}
    done = subprocess.run(
        ["bash", REPO / "device" / "install.sh", *map(str, args)], capture_output=True, text=True, env=env
    )
    cli = CliRunner().invoke(
        app, ["infer", str(DEMO_IMAGES), "--model", "demo", "--mqtt", "mqtt://127.0.0.1:9/x", "--device-id", device]
    )
    if why is None:
        assert done.returncode == 0, done.stderr
        assert cli.exit_code == 0, cli.output  # the broker is not there: the results wait in the outbox
    else:
        assert done.returncode == 2 and cli.exit_code == 2
        assert done.stderr.strip() == f"install.sh: {why}" and why in " ".join(cli.output.split()), cli.output
        assert f"must be {device_rule.RULE}" in why
