from pathlib import Path

import typer

from edgecell.cli.user_errors import user_errors
from edgecell.core.errors import BUDGET
from edgecell.demo import DEMO_EPOCHS


def demo(
    workdir: Path = typer.Option(Path("edgecell-demo"), "--dir", help="Where the demo writes its dataset and model."),
    epochs: int = typer.Option(DEMO_EPOCHS, min=1),
):
    """Run the whole pipeline on scikit-learn's handwritten digits, written as an image folder."""
    from edgecell.demo import run

    with user_errors():
        result = run(workdir, epochs, log=typer.echo)
    typer.echo(f"Demo done: model folder {result['model_dir']}, int8 model in {result['export']['export_dir']}.")
    if result["export"]["failed"]:
        typer.secho("The int8 model is over its accuracy budget; see export_report.md.", err=True, fg=typer.colors.RED)
        raise typer.Exit(BUDGET)
