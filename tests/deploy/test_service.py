"""The drop-in deploy writes for the board's unit, checked by systemd's own parser: the unit
install.sh writes (`--unit-only`) and the drop-in beside it, loaded by `systemd-analyze verify`
through SYSTEMD_UNIT_PATH, for prefixes with a space, a % and a quote."""

import os
import shutil
import subprocess

import pytest
from support.paths import REPO

from edgecell.deploy import service

UNIT = "edgecell-infer.service"

pytestmark = pytest.mark.skipif(shutil.which("systemd-analyze") is None, reason="systemd-analyze is not installed")


def verify(folder, conf: str) -> str:
    """systemd-analyze's complaints about the unit in `folder` with `conf` as its deploy drop-in."""
    user = ["--user", "daemon"] if os.geteuid() == 0 else []
    model = ["--model", str(folder / "model.tflite")]
    subprocess.run(
        ["bash", REPO / "device" / "install.sh", "--prefix", folder, "--unit-only", *model, *user], check=True
    )
    program = folder / "venv" / "bin" / "edgecell"
    program.parent.mkdir(parents=True)
    program.write_text("#!/bin/sh\n")
    program.chmod(0o755)
    (folder / f"{UNIT}.d").mkdir()
    (folder / f"{UNIT}.d" / "edgecell-deploy.conf").write_text(conf + "\n")
    env = {**os.environ, "SYSTEMD_UNIT_PATH": f"{folder}:"}
    done = subprocess.run(["systemd-analyze", "verify", folder / UNIT], capture_output=True, text=True, env=env)
    return done.stderr


@pytest.mark.parametrize("prefix", ["/srv/my boards/edgecell", "/srv/100%Z/edgecell", '/srv/a"b\\c/edgecell'])
def test_the_drop_in_names_the_model_as_one_path_whatever_the_prefix(tmp_path, prefix):
    conf = service.drop_in(prefix, "digits")
    assert verify(tmp_path / "unit", conf) == ""
    unquoted = f"[Service]\nEnvironment=EDGECELL_MODEL={prefix}/models/digits/current"  # what it wrote before
    assert verify(tmp_path / "before", unquoted) != ""
