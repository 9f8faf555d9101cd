"""What `edgecell infer` shows a person: a line per image, a progress bar, the closing summary."""

import os
import sys
import time
from typing import Optional

from edgecell.core.printable import printable
from edgecell.device.loop import drift
from edgecell.device.sinks.base import Sink, report_lines

PROGRESS_BAR_FROM = 200  # inputs; fewer get a line each on a terminal


def line(result) -> str:
    """`ok  photo.jpg  cat 0.912, dog 0.051  [decode 3.1 + pre 0.4 + invoke 2.2 + post 0.0 = 5.7 ms]`."""
    if not result.ok:
        return f"FAILED  {printable(result.name)}: {printable(result.error)}"
    t = result.timing
    ranked = (
        ", ".join(f"{printable(c.label)} {c.score:.3f}" for c in result.classes) or "(no class above the threshold)"
    )
    if result.unknown:
        ranked = f"{result.answer} (under {result.unknown_threshold:g}: {ranked})"
    return (
        f"ok  {printable(result.name)}  {ranked}  [decode {t.decode:.1f} + pre {t.preprocess:.1f} + "
        f"invoke {t.invoke:.1f} + post {t.postprocess:.1f} = {t.total:.1f} ms]"
    )


class Progress:
    """A one-line bar on a terminal, redrawn at most ten times a second."""

    def __init__(self, total: int, stream=None):
        self.total, self.stream = total, stream or sys.stderr
        self.done = self.failed = 0
        self._started = self._drawn = time.monotonic()

    def update(self, result):
        if result.ok:
            self.done += 1
        else:
            self.failed += 1
        now = time.monotonic()
        if now - self._drawn >= 0.1 or self.done + self.failed == self.total:
            self._drawn = now
            self._draw(now)

    def _draw(self, now):
        count = self.done + self.failed
        width = 30
        filled = int(width * count / self.total) if self.total else width
        rate = count / (now - self._started) if now > self._started else 0.0
        self.stream.write(
            f"\r[{'#' * filled}{'.' * (width - filled)}] {count}/{self.total}  failed {self.failed}  {rate:.1f} img/s "
        )
        self.stream.flush()

    def close(self):
        self._draw(time.monotonic())
        self.stream.write("\n")
        self.stream.flush()


def model_line(path, labels_source) -> str:
    """Which model a run uses and where its labels came from: said at the start and in the summary."""
    return f"model {printable(str(path))} (labels from {labels_source})"


def summary_text(summary: dict, sinks=()) -> str:
    """The closing summary as text; each of `sinks` that has a part of it adds its own lines."""
    images, latency, warm, ctx = summary["images"], summary["latency_ms"], summary["warmup"], summary["context"]
    lines = [
        f"{images['done']} classified, {images['failed']} failed"
        + (f" (stopped by {summary['stopped_by']})" if summary["stopped_by"] else "")
        + f"; {summary['images_per_second']:.1f} images/s over {summary['wall_seconds']:.2f} s."
    ]
    if images["done"]:
        lines.append("latency ms      p50      p90      p99     mean      min      max")
        waited = latency.get("wait") and latency["wait"]["max"]  # a camera: the frames' wait, apart from the work
        for stage in ("decode", "preprocess", "invoke", "postprocess", "total", *(["wait"] if waited else [])):
            s = latency[stage]
            lines.append(f"{stage:<11}" + "".join(f"{s[k]:9.2f}" for k in ("p50", "p90", "p99", "mean", "min", "max")))
        if waited:
            lines.append("wait: for the camera's next frame, not in total")
    if warm["first_invoke_ms"] is not None:
        lines.append(
            f"first inference {warm['first_invoke_ms']:.2f} ms ({warm['runs']} warm-up run(s), not in the statistics)"
            if warm["runs"]
            else f"first inference {warm['first_invoke_ms']:.2f} ms (no warm-up: it is in the statistics)"
        )
    if summary.get("events") is not None:
        lines.append(f"{summary['events']} class-change event(s)")
    if summary.get("unknown") is not None:
        lines.append(
            f"{images['unknown']} of {images['done']} answered unknown "
            f"(top-1 score under {summary['unknown']['threshold']:g}, from {summary['unknown']['source']})"
        )
    if summary.get("drift") is not None:
        lines.append(drift.line(summary["drift"]))
    lines += report_lines(summary, sinks)
    camera = summary.get("camera")
    if camera:
        lines.append(
            f"{camera['name']}: {camera['stalls']} stall(s), {camera['reconnects']} reconnect(s), "
            f"{camera['empty_frames']} empty frame(s) skipped"
            + (
                f"; frames arrived at {camera['frame_size'][0]}x{camera['frame_size'][1]}"
                if camera.get("frame_size")
                else ""
            )
            + (f" (asked for {camera['asked_size'][0]}x{camera['asked_size'][1]})" if camera.get("asked_size") else "")
        )
    if summary.get("model"):
        lines.insert(1, model_line(summary["model"], summary.get("labels_source")))
    if summary.get("labels_source"):
        lines.append(f"labels from {summary['labels_source']}; normalisation from {summary['normalisation_source']}")
    decode = summary.get("decode")
    if decode and images["done"]:
        lines.append(f"decode: {decode['rule']} ({decode['from']})")
    for key, what in (("output", "results"), ("summary_file", "summary")):
        if summary.get(key) and summary[key] != "-":
            lines.append(f"{what} written to {printable(summary[key])}")
    board = ctx.get("board") or ctx.get("cpu")
    extra = []
    if ctx.get("cpu_temperature_c") is not None:
        extra.append(f"{ctx['cpu_temperature_c']:.1f} °C")
    if ctx.get("throttled") is not None:
        extra.append(f"throttled={ctx['throttled']}")
    lines.append(
        f"{summary['runtime']} {summary['runtime_version']}, threads {summary['threads'] or 'default'}, "
        f"{board}" + (f", {', '.join(extra)}" if extra else "")
    )
    return "\n".join(lines)


class Terminal(Sink):
    """What a person sees: a line per image, or a progress bar from `PROGRESS_BAR_FROM` inputs
    when stderr is a terminal; nothing with `quiet`. A reader that goes away (`| head`) stops
    the printing, never the run."""

    def __init__(self, total: Optional[int], quiet: bool = False, echo=print):
        self.echo = echo
        self.bar = None
        if not quiet and total is not None and total >= PROGRESS_BAR_FROM and sys.stderr.isatty():
            self.bar = Progress(total)
        self.lines = not quiet and self.bar is None

    def write(self, result) -> None:
        if self.bar is not None:
            self.bar.update(result)
        elif self.lines:
            try:
                self.echo(line(result))
            except BrokenPipeError:
                self.lines = False
                discard_stdout()

    def close(self) -> None:
        if self.bar is not None:
            self.bar.close()


def discard_stdout():
    """Point stdout at /dev/null once its reader has gone, so no later write or flush fails."""
    os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
