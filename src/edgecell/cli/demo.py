from pathlib import Path
from typing import Annotated

import typer

from edgecell.cli.options import keras_verbose
from edgecell.cli.user_errors import user_errors
from edgecell.core.errors import BUDGET
from edgecell.digits_demo import DEMO_EPOCHS

DEMO_FOLDER = Path("edgecell-demo")


def demo(
    out: Annotated[
        Path, typer.Option("--out", help="Folder the demo writes its dataset and model into.")
    ] = DEMO_FOLDER,
    epochs: Annotated[
        int, typer.Option(min=1, help="Most epochs to train the digits network; early stopping may end sooner.")
    ] = DEMO_EPOCHS,
):
    """Run the whole pipeline on scikit-learn's handwritten digits, written as an image folder."""
    from edgecell.digits_demo import run

    with user_errors():
        result = run(out, epochs, verbose=keras_verbose(), log=typer.echo)
    typer.echo(f"Demo done: model folder {result['model_dir']}, int8 model in {result['export']['export_dir']}.")
    if result["export"]["failed"]:
        typer.secho("The int8 model is over its accuracy budget; see export_report.md.", err=True, fg=typer.colors.RED)
        raise typer.Exit(BUDGET)
