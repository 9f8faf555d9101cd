from functools import partial
from pathlib import Path
from typing import Annotated, Optional

import typer

from edgecell.cli.options import (
    FullDecode,
    JsonFile,
    Locale,
    Quiet,
    RuntimeChoice,
    Threads,
    channels,
    one_thread_count,
    write_json,
)
from edgecell.cli.user_errors import user_errors
from edgecell.device.runtime import Runtime
from edgecell.models import DEMO_MODEL

CONNECT = "Connecting the board (docs/connecting.md)"


def infer(
    sources: Annotated[
        Optional[list[str]],
        typer.Argument(show_default=False, help="Image files, folders (walked recursively), globs or video files."),
    ] = None,
    model: Annotated[
        Path,
        typer.Option(
            "--model",
            "-m",
            show_default=False,
            help="The .tflite classifier (default: the digits demo model shipped with edgecell).",
        ),
    ] = DEMO_MODEL,
    labels: Annotated[
        Optional[Path],
        typer.Option(help="Labels file: one class a line, or 'index label' lines; replaces the model's labels."),
    ] = None,
    locale: Locale = "en",
    mean: Annotated[
        Optional[str],
        typer.Option(callback=channels, help="Subtracted from 0..255 pixels before the model: one value or R,G,B."),
    ] = None,
    std: Annotated[
        Optional[str], typer.Option(callback=channels, help="Divides pixels after --mean: one value or R,G,B.")
    ] = None,
    top_k: Annotated[int, typer.Option(min=1, help="Classes shown per image.")] = 1,
    threshold: Annotated[float, typer.Option(min=0.0, help="Hide classes scoring below this.")] = 0.0,
    threads: Threads = None,
    limit: Annotated[Optional[int], typer.Option(min=1, help="Stop after this many images or frames.")] = None,
    warmup: Annotated[int, typer.Option(min=0, help="Inferences run first and kept out of the statistics.")] = 1,
    runtime: RuntimeChoice = Runtime.auto,
    output: Annotated[
        Optional[Path], typer.Option("--output", "-o", help="Results file, one row per image: .csv or .jsonl.")
    ] = None,
    append: Annotated[
        bool, typer.Option("--append", help="Add to an existing --output file instead of starting it afresh.")
    ] = False,
    max_output_mb: Annotated[
        Optional[float],
        typer.Option(help="Cap the --output file: past this size it moves to <name>.1 and a new file starts."),
    ] = None,
    json_file: JsonFile = None,
    quiet: Quiet = False,
    full_decode: FullDecode = False,
    camera: Annotated[
        Optional[str],
        typer.Option(help="Classify live frames: camera index (0 is /dev/video0), device path or stream URL."),
    ] = None,
    picamera: Annotated[
        bool, typer.Option("--picamera", help="Classify live frames from the Raspberry Pi camera (picamera2).")
    ] = False,
    max_fps: Annotated[
        Optional[float], typer.Option(min=0.01, help="Classify at most this many camera frames a second.")
    ] = None,
    max_pixels: Annotated[
        Optional[int],
        typer.Option(
            min=1,
            help="An image whose header declares more pixels is a failed row, never decoded (default 50000000).",
        ),
    ] = None,
    mqtt: Annotated[
        Optional[str],
        typer.Option(
            envvar="EDGECELL_MQTT",
            metavar="URL",
            help="Publish results, events and stats: mqtt://[user:pass@]host[:port]/PREFIX (mqtts:// for TLS).",
            rich_help_panel=CONNECT,
        ),
    ] = None,
    mqtt_ca: Annotated[
        Optional[Path],
        typer.Option(
            exists=True, dir_okay=False, help="CA certificate for an mqtts:// broker.", rich_help_panel=CONNECT
        ),
    ] = None,
    device_id: Annotated[
        Optional[str],
        typer.Option(
            envvar="EDGECELL_DEVICE_ID",
            help="This board in the MQTT topics (default: the host name).",
            rich_help_panel=CONNECT,
        ),
    ] = None,
    stats_every: Annotated[
        float,
        typer.Option(
            envvar="EDGECELL_STATS_EVERY", min=0.1, help="Seconds between MQTT stats messages.", rich_help_panel=CONNECT
        ),
    ] = 10.0,
    ha_discovery: Annotated[
        bool,
        typer.Option(
            "--ha-discovery",
            envvar="EDGECELL_HA_DISCOVERY",
            help="Announce the board to Home Assistant (MQTT).",
            rich_help_panel=CONNECT,
        ),
    ] = False,
    mqtt_outbox: Annotated[
        Optional[Path],
        typer.Option(
            envvar="EDGECELL_MQTT_OUTBOX",
            file_okay=False,
            help="Folder where results wait while the broker is away (default ~/.cache/edgecell/outbox/DEVICE).",
            rich_help_panel=CONNECT,
        ),
    ] = None,
    mqtt_outbox_mb: Annotated[
        float,
        typer.Option(
            envvar="EDGECELL_MQTT_OUTBOX_MB",
            help="Cap of that folder; past it results are dropped and counted.",
            rich_help_panel=CONNECT,
        ),
    ] = 64.0,
    webhook: Annotated[
        Optional[str],
        typer.Option(
            envvar="EDGECELL_WEBHOOK",
            metavar="URL",
            help="POST each class-change event as JSON to this URL.",
            rich_help_panel=CONNECT,
        ),
    ] = None,
    smooth: Annotated[
        Optional[int],
        typer.Option(
            envvar="EDGECELL_SMOOTH",
            min=1,
            help="Events: rank by the mean scores of the last N frames.",
            rich_help_panel=CONNECT,
        ),
    ] = None,
    hold: Annotated[
        Optional[int],
        typer.Option(
            envvar="EDGECELL_HOLD",
            min=1,
            help="Events: a new class must lead K frames in a row at or above --threshold.",
            rich_help_panel=CONNECT,
        ),
    ] = None,
):
    """Classify images, videos or camera frames with a .tflite model, timing every image."""
    from edgecell.core.errors import EdgecellError
    from edgecell.device import connections as connect
    from edgecell.device import infer as session
    from edgecell.device import summary as report
    from edgecell.device.model import Classifier

    with user_errors():
        source = session.Source(tuple(sources or ()), camera, picamera, max_fps, max_pixels)
        options = session.Options(top_k, threshold, limit, warmup, output, append, max_output_mb)
        reach = connect.Connections(
            mqtt, mqtt_ca, device_id, stats_every, ha_discovery, mqtt_outbox, mqtt_outbox_mb, webhook, smooth, hold
        )
        source.check()
        options.check()
        reach.check()
        if model == DEMO_MODEL and not model.exists():
            raise EdgecellError(f"The demo model {model} is not installed here; give --model MODEL.tflite.")
        classifier = Classifier(
            model,
            labels=labels,
            mean=mean,
            std=std,
            threads=one_thread_count(threads),
            runtime_name=runtime,
            full_decode=full_decode,
            locale=locale,
        )
        log = partial(typer.echo, err=True)
        sinks, detector = connect.start(reach, classifier, threshold, log)
        summary = session.run(
            classifier,
            source,
            options,
            sinks=sinks,
            terminal=partial(session.Terminal, quiet=quiet, echo=typer.echo),
            log=log,
            on_signals=True,
            events=detector,
        )
        summary.update(connect.reports(sinks, detector))
        if json_file is not None:
            write_json(json_file, summary)
    try:
        typer.echo(report.summary_text(summary))
    except BrokenPipeError:
        session.discard_stdout()
    raise typer.Exit(session.exit_status(summary))
