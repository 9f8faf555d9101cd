"""Every option and argument of every command is described, and `--help` shows the description and
the default whole: Rich markup (which reads "[default: ...]" inside a help string as a style tag)
and Click's own argument help (which replaced Typer's from Click 8.5) once swallowed them."""

import os
import re
import subprocess

import click
import pytest
from support.cli import edgecell_command
from typer.main import get_command

from edgecell.cli.main import COMMANDS, app

ROOT = get_command(app)


def parameters(name: str) -> list:
    command = ROOT.get_command(click.Context(ROOT), name)
    return [p for p in command.params if p.name != "help"]


def rendered_help(name: str) -> str:
    """`edgecell NAME --help` from the real CLI, its boxes and line breaks taken out."""
    env = {**os.environ, "COLUMNS": "250", "TERM": "dumb", "NO_COLOR": "1"}
    done = subprocess.run(edgecell_command(name, "--help"), capture_output=True, text=True, env=env, timeout=60)
    assert done.returncode == 0, done.stderr
    return " ".join(re.sub(r"[│╭╮╰╯─]", " ", done.stdout).split())


def flat(text: str) -> str:
    return " ".join(text.split())


@pytest.mark.parametrize("name", COMMANDS)
def test_every_option_and_argument_is_described(name):
    undescribed = [p.name for p in parameters(name) if not (getattr(p, "help", None) or "").strip()]
    assert undescribed == [], f"edgecell {name}: no help text for {undescribed}"


@pytest.mark.parametrize("name", COMMANDS)
def test_help_shows_each_description_and_default_whole(name):
    shown = rendered_help(name)
    for param in parameters(name):
        described = flat(param.help)
        assert described in shown, f"edgecell {name} --help lost part of {param.name}'s help: {described!r}"
        if isinstance(param.show_default, str):
            assert f"[default: ({param.show_default})]" in shown, f"edgecell {name}: {param.name}'s default"
        elif (
            isinstance(param, click.Option)
            and param.show_default is not False
            and not param.is_flag
            and param.default not in (None, (), [])
        ):
            after = shown[shown.index(described) + len(described) :][:160]
            assert "[default: " in after, f"edgecell {name} --help shows no default for {param.name}"


def test_the_train_folder_default_reads_whole():
    assert "Model folder to write. [default: (trained/<dataset name>)]" in rendered_help("train")
