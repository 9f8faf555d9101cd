import json
from pathlib import Path

import typer

from edgecell.cli.user_errors import user_errors
from edgecell.device.runtime import Runtime


def info(
    model: Path = typer.Argument(..., help="A .tflite file."),
    runtime: Runtime = typer.Option(Runtime.auto, help="TFLite runtime to load it with."),
    as_json: bool = typer.Option(False, "--json", help="Print everything as one JSON document."),
):
    """Input and output tensors, metadata, ops with versions and size of a .tflite (no TensorFlow)."""
    from edgecell.converters.info import describe, text
    from edgecell.device.model import Classifier

    with user_errors():
        described = describe(model, runtime)
    typer.echo(json.dumps(described, indent=2) if as_json else text(described))
    with user_errors():  # described, but can `edgecell infer` run it? The same sentence infer would give, exit 2
        Classifier(model, runtime_name=runtime)
