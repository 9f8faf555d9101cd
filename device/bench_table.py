"""What `edgecell bench` prints and writes: one block per run, one comparison table, one JSON.

Pure functions over `bench.Run` rows, so the tests check the text without timing anything.
"""

import math

from edgecell.core.numbers import percent, size
from edgecell.device.measure import baseline


def _fmt_ms(value) -> str:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "-"
    return f"{value:.3f}" if abs(value) < 1 else f"{value:.2f}"  # a tiny model's invoke is tens of microseconds


def _accuracy(run) -> str:
    """94.44% (95% 74.24%-99.01%): on a few images the second part matters more than the first."""
    if run.accuracy is None:
        return "-"
    interval = run.accuracy_interval
    return percent(run.accuracy) + (f" (95% {percent(interval.low)}-{percent(interval.high)})" if interval else "")


def _threads(threads) -> str:
    return "default" if threads is None else str(threads)


def details(run) -> list:
    """The lines of one run, in the order TFLite's benchmark tool prints them."""
    inv = run.invoke
    lines = [
        f"{run.name} ({run.variant}, {run.runtime}, threads {_threads(run.threads)}, {size(run.size_bytes)})",
        f"  init {_fmt_ms(run.init_ms)} ms, first inference {_fmt_ms(run.first_ms)} ms",
        f"  invoke over {inv.count} runs (ms): mean {_fmt_ms(inv.mean)}  std {_fmt_ms(inv.std)}  "
        f"min {_fmt_ms(inv.min)}  "
        f"p50 {_fmt_ms(inv.p50)}  p90 {_fmt_ms(inv.p90)}  p99 {_fmt_ms(inv.p99)}  max {_fmt_ms(inv.max)}",
        f"  {run.per_second:.1f} inferences per second, peak memory of the process {run.peak_memory_mb:.1f} MiB",
    ]
    if run.end_to_end is not None and run.accuracy is not None:
        e2e = run.end_to_end
        lines.append(
            f"  {e2e.count} of {run.images} images, accuracy {_accuracy(run)}; end to end per image "
            f"(decode + preprocess + invoke) (ms): mean {_fmt_ms(e2e.mean)}  p50 {_fmt_ms(e2e.p50)}  "
            f"p90 {_fmt_ms(e2e.p90)}  p99 {_fmt_ms(e2e.p99)}"
        )
    if run.baseline is not None:
        lines.append(f"  {baseline.line(run.baseline)}")
        if run.baseline["verdict"]:
            lines.append(f"  {run.baseline['verdict']}")
    return lines


def warnings(runs) -> list:
    """One line per run that is not clearly better than a constant answer, naming the run."""
    return [f"{run.name}: {run.baseline['verdict']}" for run in runs if run.baseline and run.baseline["verdict"]]


def comparison(runs) -> list:
    """One table for every run: speed-up is the first row's median invoke time over this row's
    (the median, because a busy machine inflates the mean with a few stalls)."""
    header = [
        "model",
        "variant",
        "threads",
        "size",
        "accuracy",
        "majority rate",
        "balanced accuracy",
        "invoke p50 ms",
        "invoke mean ms",
        "end-to-end p50 ms",
        "speed-up",
    ]
    base = runs[0].invoke.p50 if runs else float("nan")
    rows = []
    for run in runs:
        speedup = base / run.invoke.p50 if run.invoke.p50 > 0 else float("nan")
        rows.append(
            [
                run.name,
                run.variant,
                _threads(run.threads),
                size(run.size_bytes),
                _accuracy(run),
                percent(run.baseline["majority_rate"]) if run.baseline else "-",
                percent(run.baseline["balanced_accuracy"]) if run.baseline else "-",
                _fmt_ms(run.invoke.p50),
                _fmt_ms(run.invoke.mean),
                _fmt_ms(run.end_to_end.p50) if run.end_to_end is not None else "-",
                f"{speedup:.2f}x",
            ]
        )
    return markdown(header, rows)


def markdown(header, rows) -> list:
    """A Markdown table, columns padded so it also reads as plain text."""
    widths = [max(len(str(cell)) for cell in column) for column in zip(header, *rows)]

    def line(cells):
        return "| " + " | ".join(str(c).ljust(w) for c, w in zip(cells, widths)) + " |"

    return [line(header), "|" + "|".join("-" * (w + 2) for w in widths) + "|", *(line(r) for r in rows)]


def report(runs, context: dict, settings: dict) -> dict:
    """Everything `--json` writes: where it ran, how, and every number."""
    return {"context": context, "settings": settings, "runs": [run.as_dict() for run in runs]}
