from functools import partial
from pathlib import Path
from typing import Annotated, Optional

import typer

from edgecell.cli.options import (
    SERVING,
    FullDecode,
    JsonFile,
    Labels,
    Locale,
    MaxBodyMb,
    Mean,
    ModelFile,
    Quiet,
    RuntimeChoice,
    Std,
    Threads,
    Threshold,
    Token,
    TopK,
    open_classifier,
    write_json,
)
from edgecell.cli.user_errors import user_errors
from edgecell.device.model.runtime import Runtime

CONNECT = "Connecting the board (docs/connecting.md)"


def infer(
    sources: Annotated[
        Optional[list[str]],
        typer.Argument(show_default=False, help="Image files, folders (walked recursively), globs or video files."),
    ] = None,
    model: ModelFile = None,
    labels: Labels = None,
    locale: Locale = "en",
    mean: Mean = None,
    std: Std = None,
    top_k: TopK = 1,
    threshold: Threshold = 0.0,
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
            help="Publish results, events and stats: mqtt://host/PREFIX, or mqtt://user:pass@host:port/PREFIX "
            "(mqtts:// for TLS).",
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
    serve: Annotated[
        Optional[str],
        typer.Option(
            metavar="[HOST:]PORT",
            envvar="EDGECELL_SERVE",
            show_envvar=True,
            help="Also serve a live page, /status.json, /metrics and POST /classify; HOST defaults to 127.0.0.1, "
            "any other needs --token.",
            rich_help_panel=SERVING,
        ),
    ] = None,
    token: Token = None,
    max_body_mb: MaxBodyMb = 10.0,
):
    """Classify images, videos or camera frames with a .tflite model, timing every image."""
    from edgecell.device import infer_run
    from edgecell.device.connect import from_flags
    from edgecell.device.sinks import labelled_report, terminal

    with user_errors():
        source = infer_run.Source(tuple(sources or ()), camera, picamera, max_fps, max_pixels)
        options = infer_run.Options(top_k, threshold, limit, warmup, output, append, max_output_mb)
        reach = from_flags.Connections(
            mqtt, mqtt_ca, device_id, stats_every, ha_discovery, mqtt_outbox, mqtt_outbox_mb, webhook, smooth, hold
        )
        source.check()
        options.check()
        reach.check()
        load = partial(open_classifier, model, labels, mean, std, threads, runtime, full_decode, locale)
        classifier = load()
        log = partial(typer.echo, err=True)
        sinks, detector = from_flags.start(reach, classifier, threshold, log)
        if serve is not None and detector is None:  # the live page lists class changes too
            from edgecell.device.loop.events import Detector

            detector = Detector(classifier.labels or [], 1, 1, threshold)
        labelled = labelled_report.sinks(source.paths, classifier.labels)  # a class folder: accuracy too
        with _serving(serve, load, classifier, top_k, threshold, token, max_body_mb, log) as page:
            summary = infer_run.run(
                classifier,
                source,
                options,
                sinks=[*sinks, *page, *labelled],
                terminal=partial(terminal.Terminal, quiet=quiet, echo=typer.echo),
                log=log,
                on_signals=True,
                events=detector,
            )
        if json_file is not None:
            summary["summary_file"] = str(json_file)
            write_json(json_file, summary)
    try:
        typer.echo(terminal.summary_text(summary, [*sinks, *labelled]))
    except BrokenPipeError:
        terminal.discard_stdout()
    raise typer.Exit(infer_run.exit_status(summary))


def _serving(address, load, classifier, top_k, threshold, token, max_body_mb, log):
    """`--serve`: the server beside the run, yielding its sinks; imported only when asked for."""
    if address is None:
        import contextlib

        return contextlib.nullcontext([])
    from edgecell.device.http import server

    return server.beside(address, load, classifier, top_k, threshold, token, max_body_mb, log)
