import sys
from pathlib import Path
from typing import Optional

import typer

from edgecell.cli.user_errors import user_errors
from edgecell.core.errors import EdgecellError
from edgecell.device.runtime import Runtime
from edgecell.models import DEMO_MODEL

PROGRESS_BAR_FROM = 200  # inputs; fewer get a line each


def _channels(value: Optional[str]):
    """'127.5' or '123.7,116.3,103.5' as floats (one value, or one per RGB channel)."""
    if value is None:
        return None
    try:
        numbers = [float(part) for part in value.split(",")]
    except ValueError:
        raise typer.BadParameter(f"{value!r} is not a number or three comma-separated numbers (R,G,B).") from None
    if len(numbers) not in (1, 3):
        raise typer.BadParameter(f"{value!r} has {len(numbers)} values; give one, or three (R,G,B).")
    return numbers


def infer(
    sources: Optional[list[str]] = typer.Argument(
        None, show_default=False, help="Image files, folders (walked recursively), globs or video files."
    ),
    model: Path = typer.Option(
        DEMO_MODEL,
        "--model",
        "-m",
        show_default=False,
        help="The .tflite classifier (default: the digits demo model shipped with edgecell).",
    ),
    labels: Optional[Path] = typer.Option(
        None, help="Labels file (one class a line) for a model without edgecell metadata."
    ),
    mean: Optional[str] = typer.Option(
        None,
        callback=_channels,
        help="Subtracted from 0..255 pixels before the model: one value or R,G,B (default: the metadata's, else 0).",
    ),
    std: Optional[str] = typer.Option(
        None,
        callback=_channels,
        help="Divides pixels after --mean: one value or R,G,B (default: the metadata's, else 1).",
    ),
    top_k: int = typer.Option(1, min=1, help="Classes shown per image."),
    threshold: float = typer.Option(0.0, min=0.0, help="Hide classes scoring below this."),
    threads: Optional[int] = typer.Option(None, min=1, help="Interpreter threads (default: the runtime's choice)."),
    limit: Optional[int] = typer.Option(None, min=1, help="Stop after this many images or frames."),
    warmup: int = typer.Option(1, min=0, help="Inferences run first and kept out of the statistics."),
    runtime: Runtime = typer.Option(Runtime.auto, help="TFLite runtime: auto takes litert, then tflite-runtime."),
    output: Optional[Path] = typer.Option(
        None, "--output", "-o", help="Results file, one row per image: .csv or .jsonl."
    ),
    append: bool = typer.Option(
        False, "--append", help="Add to an existing --output file instead of starting it afresh."
    ),
    max_output_mb: Optional[float] = typer.Option(
        None, help="Cap the --output file: past this size it moves to <name>.1 and a new file starts."
    ),
    summary: Optional[Path] = typer.Option(None, help="Write the closing summary (latency, rate, context) as JSON."),
    quiet: bool = typer.Option(False, "--quiet", "-q", help="No line per image and no progress bar."),
    camera: Optional[str] = typer.Option(
        None, help="Classify live frames: camera index (0 is /dev/video0), device path or stream URL."
    ),
    picamera: bool = typer.Option(
        False, "--picamera", help="Classify live frames from the Raspberry Pi camera (picamera2)."
    ),
    max_fps: Optional[float] = typer.Option(None, min=0.01, help="Classify at most this many camera frames a second."),
):
    """Classify images, videos or camera frames with a .tflite model, timing every image."""
    from edgecell.core import atomic
    from edgecell.device import camera as cameras
    from edgecell.device import runner
    from edgecell.device import sources as inputs
    from edgecell.device import summary as report
    from edgecell.device.model import Classifier
    from edgecell.device.results import ResultWriter

    live = camera is not None or picamera
    with user_errors():
        if live and sources:
            raise EdgecellError("Give SOURCEs or a camera (--camera, --picamera), not both.")
        if camera is not None and picamera:
            raise EdgecellError("Give --camera or --picamera, not both.")
        if not live and not sources:
            raise EdgecellError(
                "Nothing to classify: give image files, folders, globs or videos, or --camera N or --picamera."
            )
        if max_fps is not None and not live:
            raise EdgecellError(
                "--max-fps applies to a camera (--camera, --picamera); files are read as fast as they classify."
            )
        if model == DEMO_MODEL and not model.exists():
            raise EdgecellError(f"The demo model {model} is not installed here; give --model MODEL.tflite.")
        classifier = Classifier(model, labels=labels, mean=mean, std=std, threads=threads, runtime_name=runtime)
        stop = runner.Stop()

        def log(message):
            typer.echo(message, err=True)

        if live:
            size = cameras.capture_size(classifier.input_size)  # near the model's input
            source = cameras.PiCamera(size=size) if picamera else cameras.OpenCvCamera(camera, size=size)
            frames, total, prefetch = cameras.stream(source, max_fps=max_fps, stop=stop, log=log), None, 0
        else:
            source = None
            expanded = inputs.expand(sources)
            frames, total, prefetch = inputs.frames(expanded, classifier.decode_fit), len(expanded), 4
        if limit is not None and total is not None:
            total = min(total, limit)

        bar = None
        if not quiet and total is not None and total >= PROGRESS_BAR_FROM and sys.stderr.isatty():
            bar = report.Progress(total)
        if (append or max_output_mb is not None) and output is None:
            raise EdgecellError("--append and --max-output-mb apply to a results file; give --output FILE.jsonl too.")
        max_bytes = None if max_output_mb is None else int(max_output_mb * 1024 * 1024)
        writer = ResultWriter(output, append=append, max_bytes=max_bytes) if output is not None else None
        lines = not quiet and bar is None
        try:

            def on_result(result):
                nonlocal lines
                if writer is not None:
                    writer.write(result)
                if bar is not None:
                    bar.update(result)
                elif lines:
                    try:
                        typer.echo(report.line(result))
                    except BrokenPipeError:  # `edgecell infer ... | head`: stop printing, keep classifying
                        lines = False
                        _discard_stdout()

            with runner.stopping_on_signals(stop):
                result = runner.run(
                    classifier,
                    frames,
                    top_k=top_k,
                    threshold=threshold,
                    warmup=warmup,
                    limit=limit,
                    prefetch=prefetch,
                    stop=stop,
                    on_result=on_result,
                )
        finally:
            if bar is not None:
                bar.close()
            if writer is not None:
                writer.close()
            if source is not None:
                source.close()
        if source is not None:
            result["camera"] = {
                "name": source.name,
                "stalls": source.stalls,
                "reconnects": source.reconnects,
                "empty_frames": source.empty_frames,
                "asked_size": list(source.size) if source.size else None,  # (width, height)
                "frame_size": list(source.frame_size) if source.frame_size else None,  # what arrived
            }
        if output is not None:
            result["output"] = str(output)
        if summary is not None:
            atomic.write_json(summary, result)
    try:
        typer.echo(report.summary_text(result))
    except BrokenPipeError:
        _discard_stdout()
    if result["stopped_by"] == "SIGINT":
        raise typer.Exit(130)
    raise typer.Exit(1 if result["images"]["failed"] else 0)


def _discard_stdout():
    """Point stdout at /dev/null once its reader has gone, so no later write or flush fails."""
    import os

    os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
