"""Wrong arguments as a newcomer gives them, through the real command: one sentence that names the
bad value and the fix, exit 2, alike across commands (no Typer box for a missing file)."""

import subprocess

import pytest
from support.cli import edgecell_command

from edgecell.models import DEMO_MODEL


def said(*args, cwd):
    done = subprocess.run(edgecell_command(*args), capture_output=True, text=True, timeout=120, cwd=cwd)
    return done.returncode, done.stdout + done.stderr


@pytest.fixture
def folder(tmp_path):
    (tmp_path / "trained").mkdir()
    (tmp_path / "trained" / "model.keras").write_bytes(b"")
    (tmp_path / "empty").mkdir()
    return tmp_path


@pytest.mark.parametrize(
    "args, sentence",
    [
        (("export", "trained/model.keras"), "trained/model.keras is the model file; give its folder: trained."),
        (("export", "empty"), "empty holds no model.keras, so it is not a trained model folder;"),
        (("export", "missing"), "missing does not exist; give the model folder `edgecell train` wrote."),
        (("bench", "no-such.tflite"), "Model file no-such.tflite does not exist; give the path of a .tflite file."),
        (("bench", "empty"), "Model path empty is a folder; give a .tflite file."),
        (("bench", DEMO_MODEL, "--data", "missing"), "Dataset folder missing does not exist;"),
        (("info", "no-such.tflite"), "Model file no-such.tflite does not exist;"),
    ],
)
def test_a_wrong_path_is_one_sentence_and_exit_2(folder, args, sentence):
    code, text = said(*args, cwd=folder)
    assert code == 2, text
    lines = text.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("Error: ") and sentence in lines[0], text
    assert "╭" not in text and "Traceback" not in text


def test_a_mistyped_command_is_suggested_once(tmp_path):
    code, text = said("trian", "x", cwd=tmp_path)
    assert code == 2 and text.count("Did you mean 'train'?") == 1, text
