from pathlib import Path
from typing import Optional

import typer

from edgecell.cli.user_errors import user_errors
from edgecell.converters.compat import Target
from edgecell.converters.convert import Variant
from edgecell.core.errors import BUDGET


def export(
    model_dir: Path = typer.Argument(..., help="Model folder written by `edgecell train`."),
    quantize: list[Variant] = typer.Option(
        [Variant.int8], "--quantize", "-q", help="Variant to export; repeat for several. Default int8."
    ),
    all_variants: bool = typer.Option(False, "--all", help="Export all four: float32, float16, dynamic, int8."),
    max_drop: float = typer.Option(1.0, help="Accuracy points a variant may lose against Keras before it fails."),
    calib_samples: int = typer.Option(300, help="Training images to calibrate int8 on, stratified by class."),
    data: Optional[Path] = typer.Option(
        None, help="Check accuracy on this class-folder dataset instead of the held-out split."
    ),
    target: Optional[Target] = typer.Option(None, help="Fail any variant this board runtime cannot load."),
    threads: Optional[int] = typer.Option(
        None, min=1, help="Interpreter threads for the check (default: the runtime's)."
    ),
    fallback: bool = typer.Option(
        False,
        "--fallback",
        help="When int8 is over --max-drop, keep its worst layers in "
        "float (and try 16-bit activations) until it is within budget.",
    ),
    fallback_layers: int = typer.Option(6, min=1, help="--fallback keeps at most this many layers in float."),
    fallback_seconds: float = typer.Option(
        120.0, min=0, help="--fallback starts no new candidate after this many seconds."
    ),
):
    """Export to TFLite (float32, float16, dynamic, int8), each checked against Keras on held-out images."""
    from edgecell.converters.convert import ALL
    from edgecell.converters.export import export as run
    from edgecell.converters.export_report import MARKDOWN_FILE
    from edgecell.converters.fallback import Limits

    variants = ALL if all_variants else quantize
    with user_errors():
        search = Limits(fallback_layers, fallback_seconds) if fallback else None
        report = run(model_dir, variants, max_drop, calib_samples, data, target, threads, log=typer.echo, search=search)
    typer.echo(f"Wrote {len(report['variants'])} model(s) and {MARKDOWN_FILE} to {report['export_dir']}.")
    if report["ship"]:
        typer.echo(f"Ship: {report['ship']}.")
    for row in report["variants"]:
        if not row["passed"]:
            typer.secho(f"Failed: {row['variant']}: {'; '.join(row['failures'])}.", err=True, fg=typer.colors.RED)
    if report["failed"]:
        raise typer.Exit(BUDGET)
