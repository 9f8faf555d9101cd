"""The `edgecell` command: wires one file per command; the work lives in the library.

`edgecell COMMAND ...` imports and builds that one command only: Typer turns every registered
command's signature into click options before it parses anything, which for every one costs
more than a one-image `edgecell infer` should (benchmarks/startup.py). `edgecell --help` and
`app` (what the tests drive) have every command.
"""

import gc
import importlib
import sys
from typing import Annotated

import typer

from edgecell.cli import deprecated
from edgecell.core.version import __version__

COMMANDS = (
    "demo",
    "train",
    "evaluate",
    "export",
    "info",
    "infer",
    "serve",
    "bench",
    "deploy",
    "collect",
    "review",
    "watch",
    "pretrained",
)


def _version(value: bool):
    if value:
        typer.echo(f"edgecell {__version__}")
        raise typer.Exit()


def root(
    version: Annotated[
        bool, typer.Option("--version", callback=_version, is_eager=True, help="Print the version and exit.")
    ] = False,
):
    """Train an image classifier, export it to quantized TFLite, and run it on a board."""


def build(names=COMMANDS) -> typer.Typer:
    """The app with the commands `names`, each from `edgecell.cli.<name>`."""
    built = typer.Typer(
        name="edgecell",
        help="Train an image classifier, export it to quantized TFLite, and run it on a board.",
        no_args_is_help=True,
        add_completion=False,
        pretty_exceptions_enable=False,
        suggest_commands=False,  # Click suggests a close command name itself; Typer's would say it twice
    )
    built.callback()(root)
    for name in names:
        built.command()(getattr(importlib.import_module(f"edgecell.cli.{name}"), name))
    return built


def __getattr__(name):  # `from edgecell.cli.main import app`: the whole app, built on first use
    if name == "app":
        globals()["app"] = build()
        return globals()["app"]
    raise AttributeError(name)


def main(argv=None):
    """The console script: old spellings rewritten (with a warning), then the app."""
    args = deprecated.rewrite(list(sys.argv[1:] if argv is None else argv))
    only = [args[0]] if args and args[0] in COMMANDS else list(COMMANDS)
    try:
        build(only)(args=args, prog_name="edgecell")
    finally:
        # The process ends here: spare it the garbage collector's last passes over every object
        # numpy, OpenCV, Typer and the runtime made (about 40 ms of a one-image run here, more on a
        # Pi). Everything edgecell writes is closed explicitly before this point.
        gc.freeze()
