"""The command line: messages and exit codes through Typer's CliRunner, and one real subprocess."""

import subprocess

import pytest
from support.cli import edgecell_command
from support.imagegen import colour_dataset
from typer.testing import CliRunner

from edgecell.cli.main import app
from edgecell.core.version import __version__

runner = CliRunner()


def test_version_and_help():
    result = runner.invoke(app, ["--version"])
    assert result.exit_code == 0 and result.output.strip() == f"edgecell {__version__}"
    for command in ("train", "evaluate", "demo"):
        result = runner.invoke(app, [command, "--help"])
        assert result.exit_code == 0 and "Usage" in result.output, command


def test_help_in_a_real_process():
    out = subprocess.run(edgecell_command("--help"), capture_output=True, text=True, timeout=60)
    assert out.returncode == 0
    assert "train" in out.stdout and "evaluate" in out.stdout


@pytest.mark.tf
@pytest.mark.parametrize(
    "layout, message",
    [
        (None, "does not exist"),
        ({"only": 3}, "at least two"),
        ({"a": 3, "b": 0}, "b in"),
    ],
)
def test_train_bad_folders_exit_2_with_one_sentence(tmp_path, layout, message):
    root = tmp_path / "data"
    for name, n in (layout or {}).items():
        (root / name).mkdir(parents=True)
        if n:
            colour_dataset(root, per_class=n, colours={name: (1, 2, 3)})
    result = runner.invoke(app, ["train", str(root), "--out", str(tmp_path / "out")])
    assert result.exit_code == 2
    assert message in result.output and "Traceback" not in result.output
    assert not (tmp_path / "out").exists()


def test_unknown_arch_is_a_usage_error(tmp_path):
    result = runner.invoke(app, ["train", str(tmp_path), "--arch", "resnet"])
    assert result.exit_code == 2 and "resnet" in result.output


@pytest.mark.tf
def test_train_and_evaluate_commands(tmp_path):
    data = colour_dataset(tmp_path / "cells", per_class=5, size=16, colours={"x": (250, 0, 0), "y": (0, 0, 250)})
    out = tmp_path / "model"
    result = runner.invoke(app, ["train", str(data), "--out", str(out), "--img-size", "16", "--epochs", "1"])
    assert result.exit_code == 0, result.output
    assert "2 classes, 10 images" in result.output and "Test loss" in result.output
    result = runner.invoke(app, ["evaluate", str(out)])
    assert result.exit_code == 0, result.output
    assert "Test accuracy" in result.output and "precision" in result.output
    assert "(95% interval " in result.output  # Wilson's, on the held-out images


@pytest.mark.tf
def test_evaluate_not_a_model_folder(tmp_path):
    result = runner.invoke(app, ["evaluate", str(tmp_path)])
    assert result.exit_code == 2 and "not a trained model folder" in result.output


def test_training_without_tensorflow_names_the_install_command(tmp_path):
    """Run where TensorFlow cannot be imported, as on a board with the base install."""
    data = colour_dataset(tmp_path / "d", per_class=2, colours={"a": (0, 0, 0), "b": (9, 9, 9)})
    blocker = tmp_path / "blocker"
    blocker.mkdir()
    (blocker / "tensorflow.py").write_text("raise ImportError('No module named tensorflow')\n")
    env = {"PYTHONPATH": str(blocker), "PATH": "/usr/bin:/bin"}
    out = subprocess.run(
        edgecell_command("train", str(data)),
        capture_output=True,
        text=True,
        timeout=60,
        env=env,
        cwd=tmp_path,
    )
    assert out.returncode == 2, out.stderr
    assert "pip install 'edgecell[train]'" in out.stderr and "Traceback" not in out.stderr
