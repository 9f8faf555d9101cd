"""The deploy report: one table row per board, and the same as JSON for --json FILE.

What a board said (its CPU, runtime, error lines) is shown with its escape codes made visible
(core/printable.py): a board's reply must not clear or rewrite the operator's terminal.
"""

from edgecell.core.printable import printable
from edgecell.core.version import __version__

COLUMNS = ("board", "CPU", "runtime", "identical", "p50/p90 ms", "previous -> new", "result")


def short(model_file) -> str:
    return model_file.removesuffix(".tflite")[:12] if model_file else "-"


def row(report) -> list:
    identical = f"{report.identical}/{report.checked}" if report.checked else "-"
    latency = f"{report.p50_ms:.2f}/{report.p90_ms:.2f}" if report.p50_ms is not None else "-"
    cells = [
        report.board,
        report.cpu or "-",
        report.runtime or "-",
        identical,
        latency,
        f"{short(report.previous)} -> {short(report.new)}",
        report.status,
    ]
    return [printable(cell) for cell in cells]


def table(reports) -> list:
    """A Markdown table, then one line per board saying what it did or why it stopped."""
    rows = [list(COLUMNS)] + [row(r) for r in reports]
    widths = [max(len(r[i]) for r in rows) for i in range(len(COLUMNS))]
    lines = ["| " + " | ".join(cell.ljust(w) for cell, w in zip(r, widths)) + " |" for r in rows]
    lines.insert(1, "|" + "|".join("-" * (w + 2) for w in widths) + "|")
    lines += [printable(f"{r.board}: {r.why}") for r in reports]
    return lines


def as_json(reports, action: str, settings) -> dict:
    return {
        "edgecell_version": __version__,
        "action": action,
        "prefix": settings.prefix,
        "service": settings.service,
        "boards": [{**r._asdict(), "differing": list(r.differing)} for r in reports],
        "ok": all(r.ok for r in reports),
    }
