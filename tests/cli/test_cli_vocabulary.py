"""One meaning per flag, old spellings kept for one release, and a start that imports little."""

import json
import subprocess
import sys

import pytest
from support.cli import edgecell_command

from edgecell.cli import deprecated
from edgecell.models import DEMO_IMAGES, DEMO_MODEL


@pytest.mark.parametrize(
    "old, new, warnings",
    [
        (
            ["export", "m", "-q", "int8", "-q", "float32"],
            ["export", "m", "--quantize", "int8", "--quantize", "float32"],
            2,
        ),
        (["info", "m.tflite", "--json"], ["info", "m.tflite", "--json", "-"], 1),
        (["info", "--json", "m.tflite"], ["info", "--json", "-", "m.tflite"], 1),
        (["info", "m.tflite", "--json", "-"], ["info", "m.tflite", "--json", "-"], 0),
        (["infer", "x.png", "--summary", "s.json"], ["infer", "x.png", "--json", "s.json"], 1),
        (["demo", "--dir", "d"], ["demo", "--out", "d"], 1),
        (["train", "data", "--arch", "seed", "--seed", "4"], ["train", "data", "--arch", "tutorial", "--seed", "4"], 1),
        (["infer", "x.png", "-q"], ["infer", "x.png", "-q"], 0),  # -q is --quiet: nothing to rewrite
    ],
)
def test_old_spellings_are_rewritten_with_a_warning(old, new, warnings):
    said = []
    assert deprecated.rewrite(old, warn=said.append) == new
    assert len(said) == warnings
    assert all("deprecated" in line and "write `" in line for line in said)


def test_an_old_spelling_still_works_through_the_real_command(tmp_path):
    summary = tmp_path / "s.json"
    image = str(sorted(DEMO_IMAGES.glob("*.png"))[0])
    run = subprocess.run(
        edgecell_command("infer", image, "--model", str(DEMO_MODEL), "--summary", str(summary), "-q"),
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert run.returncode == 0, run.stderr
    assert "`--summary` is deprecated" in run.stderr and "`--json`" in run.stderr
    assert json.loads(summary.read_text())["images"] == {"done": 1, "failed": 0}


def test_json_dash_prints_the_document(tmp_path):
    run = subprocess.run(
        edgecell_command("info", str(DEMO_MODEL), "--json", "-"),
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert run.returncode == 0, run.stderr
    assert json.loads(run.stdout)["inputs"]


def test_help_imports_neither_numpy_nor_opencv():
    code = "import sys; from edgecell.cli.main import main; main(['--help'])"
    check = (
        "import sys, runpy; sys.argv=['edgecell','--help']\ntry:\n "
        + code.replace("; ", "\n ")
        + "\nexcept SystemExit: pass\nprint(sorted(m for m in ('numpy', 'cv2', 'tensorflow') if m in sys.modules))"
    )
    run = subprocess.run([sys.executable, "-c", check], capture_output=True, text=True, timeout=60)
    assert run.stdout.strip().splitlines()[-1] == "[]", run.stdout + run.stderr


def test_threads_takes_one_count_where_a_command_runs_once(tmp_path):
    image = str(sorted(DEMO_IMAGES.glob("*.png"))[0])
    run = subprocess.run(
        edgecell_command("infer", image, "--model", "demo", "--threads", "1,2"),
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert run.returncode == 2 and "--threads '1,2' gives several counts" in run.stderr
    assert "Traceback" not in run.stderr


def test_full_decode_is_one_flag_in_every_command_that_decodes(tmp_path):
    from typer.testing import CliRunner

    from edgecell.cli.main import app

    for command in ("train", "export", "infer", "bench"):
        assert "--full-decode" in CliRunner().invoke(app, [command, "--help"]).output
    summary = tmp_path / "s.json"
    image = str(sorted(DEMO_IMAGES.glob("*.png"))[0])
    run = subprocess.run(
        edgecell_command("infer", image, "--model", "demo", "--full-decode") + ["--json", str(summary), "-q"],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert run.returncode == 0, run.stderr
    assert json.loads(summary.read_text())["decode"] == {"rule": "full", "from": "--full-decode"}
