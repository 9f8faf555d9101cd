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
    from edgecell.core.errors import EdgecellError

    with user_errors():
        described = describe(model, runtime, locale)
        if json_file is not None:
            write_json(json_file, described)
    if json_file is None or str(json_file) != "-":
        typer.echo(text(described))
    if described.get("not_usable"):  # described, but `edgecell infer` cannot run it: infer's sentence, exit 2
        with user_errors():
            raise EdgecellError(described["not_usable"])
