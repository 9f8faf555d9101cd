from pathlib import Path
from typing import Annotated, Optional

import typer

from edgecell.cli.options import JsonFile, ModelDir, write_json
from edgecell.cli.user_errors import user_errors
from edgecell.core.numbers import percent


def evaluate(
    model_dir: ModelDir,
    data: Annotated[
        Optional[Path], typer.Option(help="Evaluate on this class-folder dataset instead of the held-out split.")
    ] = None,
    batch_size: Annotated[int, typer.Option(min=1, help="Images per prediction step.")] = 32,
    json_file: JsonFile = None,
    strict: Annotated[
        bool,
        typer.Option("--strict", help="Exit 1 when the model is not clearly better than answering the largest class."),
    ] = False,
):
    """Test loss, accuracy and the per-class table, on the recorded held-out split or another folder."""
    from edgecell.train.evaluation import evaluate as run
    from edgecell.train.metrics import format_baseline, format_table

    with user_errors():
        result = run(model_dir, data, batch_size)
        if json_file is not None:
            write_json(json_file, result)
    if result["skipped"]:
        typer.echo(f"Skipped {len(result['skipped'])} file(s) that could not be decoded.")
    typer.echo(f"Test loss: {result['loss']:.4f}")
    interval = result["accuracy_interval"]
    typer.echo(
        f"Test accuracy: {percent(result['accuracy'])} (95% interval {percent(interval['low'])} to "
        f"{percent(interval['high'])}, "
        f"{result['images']} images)"
    )
    typer.echo(format_table(result["per_class"]))
    typer.echo(format_baseline(result))
    if result["verdict"]:
        typer.echo(result["verdict"])
        if strict:
            raise typer.Exit(1)
