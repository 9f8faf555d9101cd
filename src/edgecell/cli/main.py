"""The `edgecell` command: wires one file per command; the work lives in the library."""

import sys
from typing import Annotated

import typer

from edgecell.cli import deprecated
from edgecell.cli.bench import bench
from edgecell.cli.demo import demo
from edgecell.cli.deploy import deploy
from edgecell.cli.evaluate import evaluate
from edgecell.cli.export import export
from edgecell.cli.infer import infer
from edgecell.cli.info import info
from edgecell.cli.serve import serve
from edgecell.cli.train import train
from edgecell.cli.watch import watch
from edgecell.core.version import __version__

app = typer.Typer(
    name="edgecell",
    help="Train an image classifier, export it to quantized TFLite, and run it on a board.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)


def _version(value: bool):
    if value:
        typer.echo(f"edgecell {__version__}")
        raise typer.Exit()


@app.callback()
def root(
    version: Annotated[
        bool, typer.Option("--version", callback=_version, is_eager=True, help="Print the version and exit.")
    ] = False,
):
    """Train an image classifier, export it to quantized TFLite, and run it on a board."""


app.command()(demo)
app.command()(train)
app.command()(evaluate)
app.command()(export)
app.command()(info)
app.command()(infer)
app.command()(serve)
app.command()(bench)
app.command()(deploy)
app.command()(watch)


def main(argv=None):
    """The console script: old spellings rewritten (with a warning), then the app."""
    app(args=deprecated.rewrite(list(sys.argv[1:] if argv is None else argv)), prog_name="edgecell")
