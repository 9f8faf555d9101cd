from pathlib import Path
from typing import Annotated, Optional

import typer

from edgecell.cli.options import FullDecode, ModelDir, Quiet, Threads, one_thread_count
from edgecell.cli.user_errors import user_errors
from edgecell.converters import context
from edgecell.converters.compat import Target
from edgecell.converters.convert import Variant
from edgecell.core.errors import BUDGET
from edgecell.device.measure.accuracy import DEFAULT_INCONCLUSIVE, Inconclusive

Quantize = Annotated[
    Optional[list[Variant]],
    typer.Option("--quantize", show_default="int8", help="Variant to export; repeat for several."),
]
AllVariants = Annotated[bool, typer.Option("--all", help="Export all four: float32, float16, dynamic, int8.")]
MaxDrop = Annotated[float, typer.Option(help="Accuracy points a variant may lose against Keras before it fails.")]
CalibSamples = Annotated[int, typer.Option(help="Training images to calibrate int8 on, stratified by class.")]
CheckOn = Annotated[
    Optional[Path], typer.Option(help="Check accuracy on this class-folder dataset instead of the held-out split.")
]
TargetOption = Annotated[Optional[Target], typer.Option(help="Fail any variant this board runtime cannot load.")]
Fallback = Annotated[
    bool,
    typer.Option(
        "--fallback",
        help="When int8 is over --max-drop, keep its worst layers in float (and try "
        "16-bit activations) until it is within budget.",
    ),
]
FallbackLayers = Annotated[int, typer.Option(min=1, help="--fallback keeps at most this many layers in float.")]
FallbackSeconds = Annotated[
    float, typer.Option(min=0, help="--fallback starts no new candidate after this many seconds.")
]
InconclusiveOption = Annotated[
    Inconclusive,
    typer.Option(
        help="What a variant counts as when the held-out images cannot tell whether its drop is within "
        "--max-drop (the 95% interval straddles it): pass (with a line saying how many images would settle "
        "it) or fail."
    ),
]
CheckData = Annotated[
    Optional[Path],
    typer.Option(
        metavar="DIR",
        help="Also check accuracy on this class folder (images the model was not trained on).",
    ),
]
CheckVal = Annotated[
    bool, typer.Option("--check-val", help="Also check accuracy on the validation split of split.json.")
]
UnknownTarget = Annotated[
    float,
    typer.Option(
        metavar="SHARE",
        help="The accuracy the answers `edgecell infer --unknown auto` gives must reach: each variant records "
        "the top-1 score under which it answers unknown, chosen on the held-out images.",
    ),
]
CheckUnknown = Annotated[
    Optional[Path],
    typer.Option(
        metavar="DIR",
        help="Images of none of the classes (what the board should call unknown), for choosing the unknown "
        "threshold only: every answer on them counts as wrong.",
    ),
]
UnknownConfidence = Annotated[
    float,
    typer.Option(metavar="SHARE", help="How sure --unknown-target is, over the draw of the held-out images."),
]
Strict = Annotated[
    bool,
    typer.Option(
        "--strict",
        help="Exit 1 when a variant is not clearly better than answering the largest class, "
        "or never answers a class (a variant over --max-drop exits 3 first).",
    ),
]


def export(
    model_dir: ModelDir,
    quantize: Quantize = None,
    all_variants: AllVariants = False,
    max_drop: MaxDrop = context.DEFAULT_MAX_DROP,
    calib_samples: CalibSamples = context.DEFAULT_CALIBRATION_IMAGES,
    data: CheckOn = None,
    target: TargetOption = None,
    threads: Threads = None,
    fallback: Fallback = False,
    fallback_layers: FallbackLayers = context.DEFAULT_FALLBACK_LAYERS,
    fallback_seconds: FallbackSeconds = context.DEFAULT_FALLBACK_SECONDS,
    inconclusive: InconclusiveOption = DEFAULT_INCONCLUSIVE,
    check_data: CheckData = None,
    check_val: CheckVal = False,
    quiet: Quiet = False,
    full_decode: FullDecode = False,
    strict: Strict = False,
    check_unknown: CheckUnknown = None,
    unknown_target: UnknownTarget = context.DEFAULT_UNKNOWN_TARGET,
    unknown_confidence: UnknownConfidence = context.DEFAULT_UNKNOWN_CONFIDENCE,
):
    """Export to TFLite (float32, float16, dynamic, int8), each checked against Keras on held-out images."""
    from edgecell.converters.convert import ALL
    from edgecell.converters.export_report import MARKDOWN_FILE
    from edgecell.converters.export_run import export as run

    with user_errors():
        settings = context.Settings(
            variants=tuple(ALL if all_variants else quantize or [Variant.int8]),
            max_drop=max_drop,
            calib_samples=calib_samples,
            data=data,
            target=target,
            threads=one_thread_count(threads),
            fallback=context.Limits(fallback_layers, fallback_seconds) if fallback else None,
            full_decode=full_decode,
            inconclusive=inconclusive,
            check_val=check_val,
            check_data=check_data,
            check_unknown=check_unknown,
            unknown_target=unknown_target,
            unknown_confidence=unknown_confidence,
        )
        report = run(model_dir, settings, log=(lambda *_: None) if quiet else typer.echo)
    typer.echo(f"Wrote {len(report['variants'])} model(s) and {MARKDOWN_FILE} to {report['export_dir']}.")
    if report["ship"]:
        typer.echo(f"Ship: {report['ship']}.")
    for row in report["variants"]:
        if not row["passed"]:
            typer.secho(f"Failed: {row['variant']}: {'; '.join(row['failures'])}.", err=True, fg=typer.colors.RED)
    if report["failed"]:
        raise typer.Exit(BUDGET)
    if strict and report["weak"]:
        typer.secho(
            f"Failing (--strict): {', '.join(report['weak'])} not clearly better than a constant answer.", err=True
        )
        raise typer.Exit(1)
