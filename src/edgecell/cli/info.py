from pathlib import Path
from typing import Annotated

import typer

from edgecell.cli.options import JsonFile, Locale, RuntimeChoice, write_json
from edgecell.cli.user_errors import user_errors
from edgecell.device.model.runtime import Runtime


def info(
    model: Annotated[Path, typer.Argument(help="A .tflite file.", show_default=False)],
    runtime: RuntimeChoice = Runtime.auto,
    json_file: JsonFile = None,
    locale: Locale = "en",
):
    """Input and output tensors, labels and normalisation with their sources, metadata, ops and size of a .tflite."""
    from edgecell.converters.describe import describe, text
    from edgecell.device.model.classifier import Classifier

    with user_errors():
        described = describe(model, runtime, locale)
        if json_file is not None:
            write_json(json_file, described)
    if json_file is None or str(json_file) != "-":
        typer.echo(text(described))
    with user_errors():  # described, but can `edgecell infer` run it? The same sentence infer would give, exit 2
        Classifier(model, runtime_name=runtime, locale=locale)
