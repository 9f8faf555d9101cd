from pathlib import Path
from typing import Annotated

import typer

from edgecell.cli.user_errors import user_errors
from edgecell.train.imagenet import Pretrained


def pretrained(
    name: Annotated[Pretrained, typer.Argument(help="The ImageNet classifier to write.", show_default=False)],
    out: Annotated[Path, typer.Option("--out", help="The model folder to write.", show_default=False)],
):
    """Write an ImageNet classifier (Keras model, its 1000 labels, config) as a model folder that
    `edgecell export` takes like a trained one; its weights come from an installed package, never a download."""
    from edgecell.train.imagenet import write_folder

    with user_errors():
        written = write_folder(name, out)
    typer.echo(
        f"Wrote {', '.join(written)} to {out}; export it with edgecell export {out} --data DIR, DIR any folder of "
        "images: int8 is calibrated on them and each export checked by its top-1 agreement with Keras."
    )
