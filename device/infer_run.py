"""One `edgecell infer` run as a library function: the source and whether to read it ahead, the
sinks every result goes to, the statistics, and the exit status. The CLI, `edgecell demo` and
the tests call `run`; the command only parses its flags and prints.

A sink is anything with `write(result)` and `close()`: the results file (`ResultWriter`), the
terminal (`Terminal`), and whatever else a board reports to. Sinks see every result in order, as
soon as it is classified; `close` is called once, also when the run fails. A sink that needs the
pixels too (the live page) has `tap(frames)`, which wraps the frames on their way to the model.
"""

import contextlib
from dataclasses import dataclass
from pathlib import Path
from typing import Optional

from edgecell.core.errors import EdgecellError
from edgecell.device.input import image, sources
from edgecell.device.input.source_check import check_paths
from edgecell.device.loop import drift, runner, unknown
from edgecell.device.loop.events import dispatch
from edgecell.device.sinks import base
from edgecell.device.sinks.terminal import model_line

READ_AHEAD = 4  # images decoded ahead of the model; never for a live camera (frames would be stale)

EXIT_OK, EXIT_FAILED, EXIT_INTERRUPTED = 0, 1, 130


@dataclass(frozen=True)
class Source:
    """What to classify: files, folders, globs and videos, or one live camera."""

    paths: tuple = ()
    camera: Optional[str] = None  # index, device path or stream URL (OpenCV)
    picamera: bool = False  # the Raspberry Pi camera through picamera2
    max_fps: Optional[float] = None  # camera frames a second at most
    max_pixels: Optional[int] = None  # an image declaring more is a failed row, never decoded (image.MAX_PIXELS)

    @property
    def live(self) -> bool:
        return self.camera is not None or self.picamera

    def check(self) -> None:
        if self.live and self.paths:
            raise EdgecellError("Give SOURCEs or a camera (--camera, --picamera), not both.")
        if self.camera is not None and self.picamera:
            raise EdgecellError("Give --camera or --picamera, not both.")
        if not self.live and not self.paths:
            raise EdgecellError(
                "Nothing to classify: give image files, folders, globs or videos, or --camera N or --picamera."
            )
        check_paths(self.paths)
        if self.max_pixels is not None and self.max_pixels < 1:
            raise EdgecellError(f"--max-pixels {self.max_pixels} is too small; give at least 1 (default 50000000).")
        if self.max_fps is not None and not self.live:
            raise EdgecellError(
                "--max-fps applies to a camera (--camera, --picamera); files are read as fast as they classify."
            )


@dataclass(frozen=True)
class Options:
    """How the run ranks, how long it goes, and what it writes."""

    top_k: int = 1
    threshold: float = 0.0
    limit: Optional[int] = None
    warmup: int = 1
    output: Optional[Path] = None  # results file, .csv or .jsonl
    append: bool = False
    max_output_mb: Optional[float] = None
    unknown: Optional[str] = None  # `--unknown auto|SCORE` (loop/unknown.py)
    drift_window: int = drift.WINDOW  # `--drift-window`: frames drift is judged on, 0 for none (loop/drift.py)

    def check(self) -> None:
        unknown.parse(self.unknown)
        if self.drift_window < 0:
            raise EdgecellError(
                f"--drift-window {self.drift_window} is negative; give a number of frames, or 0 for none."
            )
        if (self.append or self.max_output_mb is not None) and self.output is None:
            raise EdgecellError("--append and --max-output-mb apply to a results file; give --output FILE.jsonl too.")


def open_source(source: Source, classifier, stop, log, lazy: bool = True):
    """(camera or None, frames, number of inputs or None, read-ahead depth) for `source`; files are
    decoded at the scale the classifier's decode rule allows (`classifier.decode_fit`), and with
    `lazy` left for the runner to decode (on several cores when that pays)."""
    if source.live:
        from edgecell.device.input import camera  # only a live run needs it

        size = camera.capture_size(classifier.input_size)  # near the model's input
        live = camera.PiCamera(size=size) if source.picamera else camera.OpenCvCamera(source.camera, size=size)
        return live, camera.stream(live, max_fps=source.max_fps, stop=stop, log=log), None, 0
    expanded = sources.expand(list(source.paths))
    max_pixels = source.max_pixels or image.MAX_PIXELS
    return None, sources.frames(expanded, classifier.decode_fit, max_pixels, lazy), len(expanded), READ_AHEAD


def run(
    classifier,
    source: Source,
    options: Options = Options(),
    sinks=(),
    terminal=None,
    log=print,
    stop: Optional[runner.Stop] = None,
    on_signals: bool = False,
    events=None,
) -> dict:
    """Classify everything `source` gives with `classifier`; every result goes to the results
    file (when `options.output`), to `sinks` and to `terminal(total)` (a factory of a sink that
    knows how many inputs there are, e.g. `partial(Terminal, quiet=False)`). Returns the summary.
    With `on_signals`, SIGINT and SIGTERM end the run after the current image (main thread only).
    With `events` (a `device/loop/events.py` Detector), each class change it settles goes, right after
    its frame, to every sink that has an `event` method (the results file, MQTT, the webhook)."""
    source.check()
    options.check()
    if classifier.normalisation.notice:  # a float model with no metadata: a guess, said once
        log(classifier.normalisation.notice)
    rule = unknown.rule(options.unknown, classifier)
    shift = drift.from_model(classifier.metadata, options.drift_window)
    stop = stop or runner.Stop()
    sinks = list(sinks)
    lazy = not any(sink.taps_frames for sink in sinks)  # a sink that shows pixels gets them decoded
    camera, frames, total, prefetch = open_source(source, classifier, stop, log, lazy)
    log(model_line(classifier.path, classifier.labels_source))  # the inputs are there: say what runs them
    if rule is not None:
        log(unknown.line(rule))
    if options.limit is not None and total is not None:
        total = min(total, options.limit)
    every = []
    try:
        if options.output is not None:
            max_bytes = None if options.max_output_mb is None else int(options.max_output_mb * 1024 * 1024)
            from edgecell.device.sinks.results_file import ResultWriter  # csv and friends only with --output

            every.append(ResultWriter(options.output, append=options.append, max_bytes=max_bytes))
        every += list(sinks)
        if terminal is not None:
            every.append(terminal(total))
        frames = _attach(every, frames, shift)

        def on_result(result):
            for sink in every:
                sink.write(result)
            if events is not None and (event := events.update(result)) is not None:
                dispatch(every, event)
            if shift is not None and (change := shift.update(result)) is not None:
                dispatch(every, change)

        with runner.stopping_on_signals(stop) if on_signals else contextlib.nullcontext():
            summary = runner.run(
                classifier,
                frames,
                ranking=runner.Ranking(options.top_k, options.threshold, None if rule is None else rule.threshold),
                warmup=options.warmup,
                limit=options.limit,
                prefetch=prefetch,
                stop=stop,
                on_result=on_result,
            )
    finally:
        for sink in every:
            sink.close()
        if camera is not None:
            camera.close()
    if camera is not None:
        summary["camera"] = camera_report(camera)
    if options.output is not None:
        summary["output"] = str(options.output)
    if events is not None:
        summary["events"] = events.count
    if rule is not None:
        summary["unknown"] = rule.as_dict()
    if shift is not None:
        summary["drift"] = shift.report()
    summary.update(base.reports(every))
    return summary


def _attach(sinks, frames, shift):
    """The frames through each sink's tap (one that shows frames, the live page, sees each on its way
    in); the drift tracker, when there is one, to each sink that reports it."""
    for sink in sinks:
        frames = sink.tap(frames)
        if shift is not None:
            sink.follow(shift)
    return frames


def camera_report(camera) -> dict:
    """The summary's part on the camera: what it asked for and what came."""
    return {
        "name": camera.name,
        "stalls": camera.stalls,
        "reconnects": camera.reconnects,
        "empty_frames": camera.empty_frames,
        "asked_size": list(camera.size) if camera.size else None,  # (width, height)
        "frame_size": list(camera.frame_size) if camera.frame_size else None,  # what arrived
    }


def exit_status(summary: dict) -> int:
    """130 after Ctrl-C, 1 when any input failed, else 0 (a SIGTERM stop is a clean end)."""
    if summary["stopped_by"] == "SIGINT":
        return EXIT_INTERRUPTED
    return EXIT_FAILED if summary["images"]["failed"] else EXIT_OK
