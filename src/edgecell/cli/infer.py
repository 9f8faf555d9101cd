from functools import partial
from typing import Annotated, Optional

import typer

from edgecell.cli.options import (
    SERVING,
    AllowHost,
    Append,
    Camera,
    Collect,
    CollectMargin,
    CollectMb,
    CollectPerMinute,
    CollectShare,
    Confusion,
    DeviceId,
    DriftWindow,
    FullDecode,
    HaDiscovery,
    Hold,
    JsonFile,
    Labels,
    Limit,
    Locale,
    MaxBodyMb,
    MaxFps,
    MaxOutputMb,
    MaxPixels,
    Mean,
    ModelFile,
    Mqtt,
    MqttBatch,
    MqttCa,
    MqttOutbox,
    MqttOutboxMb,
    Output,
    Picamera,
    Quiet,
    RuntimeChoice,
    Smooth,
    Sources,
    StatsEvery,
    Std,
    Threads,
    Threshold,
    Token,
    TopK,
    Unknown,
    Warmup,
    Webhook,
    by_name,
    open_classifier,
    write_json,
)
from edgecell.cli.user_errors import user_errors
from edgecell.core.errors import EdgecellError
from edgecell.device.model.runtime import Runtime

Serve = Annotated[
    Optional[str],
    typer.Option(
        metavar="[HOST:]PORT",
        envvar="EDGECELL_SERVE",
        show_envvar=True,
        help="Also serve a live page, /status.json, /metrics and POST /classify; HOST defaults to 127.0.0.1, "
        "any other needs --token.",
        rich_help_panel=SERVING,
    ),
]
ServeFor = Annotated[
    Optional[float],
    typer.Option(
        "--serve-for",
        metavar="SECONDS",
        min=0,
        help="With --serve: seconds the page stays up after a folder, file or video ends "
        "(until Ctrl-C when not given; 0 ends it with the source).",
        rich_help_panel=SERVING,
    ),
]


def infer(
    sources: Sources = None,
    model: ModelFile = None,
    labels: Labels = None,
    locale: Locale = "en",
    mean: Mean = None,
    std: Std = None,
    top_k: TopK = 1,
    threshold: Threshold = 0.0,
    unknown: Unknown = None,
    window: DriftWindow = 500,
    threads: Threads = None,
    limit: Limit = None,
    warmup: Warmup = 1,
    runtime: RuntimeChoice = Runtime.auto,
    output: Output = None,
    confusion: Confusion = None,
    append: Append = False,
    max_output_mb: MaxOutputMb = None,
    json_file: JsonFile = None,
    quiet: Quiet = False,
    full_decode: FullDecode = False,
    camera: Camera = None,
    picamera: Picamera = False,
    max_fps: MaxFps = None,
    max_pixels: MaxPixels = None,
    mqtt: Mqtt = None,
    mqtt_ca: MqttCa = None,
    device_id: DeviceId = None,
    stats_every: StatsEvery = 10.0,
    ha_discovery: HaDiscovery = False,
    mqtt_outbox: MqttOutbox = None,
    mqtt_outbox_mb: MqttOutboxMb = 64.0,
    mqtt_batch: MqttBatch = True,
    webhook: Webhook = None,
    smooth: Smooth = None,
    hold: Hold = None,
    serve: Serve = None,
    serve_for: ServeFor = None,
    token: Token = None,
    max_body_mb: MaxBodyMb = 10.0,
    allow_host: AllowHost = None,
    collect: Collect = None,
    collect_margin: CollectMargin = 0.1,
    collect_share: CollectShare = 0.01,
    collect_per_minute: CollectPerMinute = 30,
    collect_mb: CollectMb = 256.0,
):
    """Classify images, videos or camera frames with a .tflite model, timing every image."""
    flags = dict(locals())  # the flags by name, for the settings whose fields carry the same names
    from edgecell.device import infer_run
    from edgecell.device.connect import from_flags
    from edgecell.device.sinks import terminal

    with user_errors():
        source = infer_run.Source(tuple(sources or ()), camera, picamera, max_fps, max_pixels)
        options = infer_run.Options(top_k, threshold, limit, warmup, output, append, max_output_mb, unknown, window)
        reach = by_name(from_flags.Connections, flags)
        collecting = _collecting(collect, collect_margin, collect_share, collect_per_minute, collect_mb)
        for settings in (source, options, reach, *collecting):  # every bad flag is one sentence before the model loads
            settings.check()
        _check_outputs(serve, serve_for, confusion)
        load = partial(open_classifier, model, labels, mean, std, threads, runtime, full_decode, locale)
        classifier, log = load(), partial(typer.echo, err=True)
        sinks, detector = _connect(reach, classifier, options, serve is not None, log)
        kept = _kept(source, classifier, confusion, collecting)  # a class folder's accuracy, --collect DIR
        shown = partial(terminal.Terminal, quiet=quiet, echo=typer.echo)
        with _serving(serve, load, classifier, top_k, threshold, token, max_body_mb, allow_host, log) as page:
            every = [*sinks, *page, *kept]
            summary = infer_run.run(
                classifier, source, options, sinks=every, terminal=shown, log=log, on_signals=True, events=detector
            )
            _report(summary, json_file, [*sinks, *kept])  # before --serve lingers: it stays up after
            if serve is not None and summary["stopped_by"] is None:  # the source ended, not the user
                _linger(serve_for, log)
    raise typer.Exit(infer_run.exit_status(summary))


def _report(summary: dict, json_file, sinks) -> None:
    """The run's summary to --json, and the sinks' closing lines."""
    if json_file is not None:
        summary["summary_file"] = str(json_file)
        write_json(json_file, summary)
    _say(summary, sinks)


def _kept(source, classifier, confusion, collecting) -> list:
    """The sinks that keep something of the run here: a class folder's report, --collect DIR."""
    from edgecell.core.digest import sha256
    from edgecell.device.sinks import labelled_report
    from edgecell.device.sinks.collector import Collector

    kept = labelled_report.sinks(source.paths, classifier.labels, confusion)
    sha = sha256(classifier.path) if collecting else None
    return [*kept, *(Collector(c, sha, classifier.path.name, classifier.labels) for c in collecting)]


def _collecting(folder, margin, share, per_minute, max_mb) -> list:
    """`--collect DIR` and its limits as settings to check, or none without it."""
    if folder is None:
        return []
    from edgecell.device.sinks.collector import Collecting

    return [Collecting(folder, margin, share, per_minute, max_mb)]


def _check_outputs(serve, serve_for, confusion) -> None:
    from edgecell.device.sinks import labelled_report

    labelled_report.check_png(confusion)
    if serve_for is not None and serve is None:
        raise EdgecellError("--serve-for says how long --serve stays up; give --serve [HOST:]PORT too.")


def _connect(reach, classifier, options, serving: bool, log):
    """(MQTT and webhook sinks, the class-change detector or None); with `serving` a detector always,
    since the live page lists class changes too. A model with no recorded `--unknown auto` threshold
    is one sentence before anything connects."""
    from edgecell.device.connect import from_flags
    from edgecell.device.loop import unknown

    unknown.rule(options.unknown, classifier)
    threshold = options.threshold
    sinks, detector = from_flags.start(reach, classifier, threshold, log)
    if serving and detector is None:
        from edgecell.device.loop.events import Detector

        detector = Detector(classifier.labels or [], 1, 1, threshold)
    return sinks, detector


def _say(summary: dict, sinks) -> None:
    """The closing summary on stdout (a reader gone away is no error)."""
    from edgecell.device.sinks import terminal

    try:
        typer.echo(terminal.summary_text(summary, sinks))
    except BrokenPipeError:
        terminal.discard_stdout()


def _linger(seconds, log) -> None:
    from edgecell.device.http import server

    server.linger(seconds, log)


def _serving(address, load, classifier, top_k, threshold, token, max_body_mb, allow_host, log):
    """`--serve`: the server beside the run, yielding its sinks; imported only when asked for."""
    if address is None:
        import contextlib

        return contextlib.nullcontext([])
    from edgecell.device.http import server

    serving = server.Serving(address, token, max_body_mb, top_k, threshold, allow_hosts=tuple(allow_host or ()))
    return server.beside(serving, load, classifier, log)
