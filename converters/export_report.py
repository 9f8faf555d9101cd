"""export_report.json and export_report.md: one row per variant, and which one to ship."""

from pathlib import Path

from edgecell.converters import unknown_threshold
from edgecell.converters.fallback import short
from edgecell.core import atomic
from edgecell.core.numbers import size

JSON_FILE = "export_report.json"
MARKDOWN_FILE = "export_report.md"


def ship(variants: list):
    """The variant to ship: among those that passed, the smallest, then the fastest."""
    passed = [v for v in variants if v["passed"]]
    if not passed:
        return None
    return min(passed, key=lambda v: (v["size_bytes"], v["latency_ms_p50"]))["variant"]


def markdown(report: dict) -> str:
    keras = report["keras"]
    lines = [
        f"# Export of {report['model_dir']}",
        "",
        f"Keras model: accuracy {100 * keras['accuracy']:.2f}%{_interval(keras.get('accuracy_interval'))} "
        f"on {report['held_out']}. Budget: at most {report['max_drop']:g} points below Keras, judged on the "
        "95% interval of the drop (a variant fails when the whole interval is above the budget, passes when "
        f"it is at or below; in between the images cannot tell, and that counts as --inconclusive "
        f"{report.get('inconclusive', 'pass')}).",
        "",
        "| variant | size | accuracy | drop (points) | 95% interval | images | both right / Keras only / "
        "TFLite only / neither | agreement with Keras | max prob. diff | median invoke | tflite-runtime 2.14 | "
        "verdict | passed |",
        "|---|---:|---:|---:|---|---:|---|---:|---:|---:|---|---|---|",
    ]
    for v in report["variants"]:
        check = v["check"]
        low, high = check["interval_points"]
        lines.append(
            f"| {v['variant']} | {size(v['size_bytes'])} | {100 * v['accuracy']:.2f}% | "
            f"{v['drop_points']:+.2f} | {low:+.2f} to {high:+.2f} | {check['images']} | "
            f"{check['both']} / {check['keras_only']} / {check['tflite_only']} / {check['neither']} | "
            f"{100 * v['agreement']:.2f}% | {v['max_probability_diff']:.4f} | "
            f"{v['latency_ms_p50']:.3f} ms | {'loads' if v['tflite_runtime_2_14']['loads'] else 'no'} | "
            f"{v['verdict']} | {'yes' if v['passed'] else 'NO'} |"
        )
    lines.append("")
    lines.append(f"Ship: **{report['ship']}**." if report["ship"] else "Ship: none, no variant passed.")
    for v in report["variants"]:
        if v["failures"]:
            lines.append(f"- {v['variant']} failed: {'; '.join(v['failures'])}.")
        elif v["verdict"] == "inconclusive":
            lines.append(f"- {v['variant']} is inconclusive: {v['judgement']}.")
        if not v["tflite_runtime_2_14"]["loads"]:
            lines.append(
                f"- {v['variant']} does not load on tflite-runtime 2.14: "
                f"{'; '.join(v['tflite_runtime_2_14']['problems'])}."
            )
    lines += _beside_constant(report)
    lines += [
        "",
        "Per-class accuracy change against Keras (points):",
        "",
        "| class | " + " | ".join(v["variant"] for v in report["variants"]) + " |",
        "|---|" + "---:|" * len(report["variants"]),
    ]
    for label in report["classes"]:
        cells = [v["per_class_change"].get(label) for v in report["variants"]]
        lines.append(f"| {label} | " + " | ".join("n/a" if c is None else f"{c:+.2f}" for c in cells) + " |")
    lines += _flip_table(report)
    lines += _unknown(report)
    if report.get("calibration"):
        calibration = report["calibration"]
        lines += [
            "",
            f"int8 calibration: {calibration['images']} training images "
            f"({', '.join(f'{k} {n}' for k, n in calibration['per_class'].items())}).",
        ]
    for v in report["variants"]:
        weights = v.get("int8_weights")
        if weights and weights["validation_images"]:
            lines.append(
                f"int8 weights: {weights['weights']} (on {weights['validation_images']} validation images, "
                f"per-channel {100 * weights['per_channel_accuracy']:.2f}%, "
                f"per-tensor {100 * weights['per_tensor_accuracy']:.2f}%; per-tensor is kept when no less accurate)."
            )
    lines += _fallback(report.get("fallback"), report["max_drop"])
    lines += [
        "",
        f"Measured with {report['runtime']} on {report['machine']}; export took {report['seconds']:.1f} s.",
        "",
    ]
    return "\n".join(lines)


def _flip_table(report: dict) -> list:
    """The paired totals by true class: which classes each variant's flips fell on."""
    variants = [v for v in report["variants"] if v.get("flips_by_class")]
    if not variants:
        return []
    lines = [
        "",
        "Flips by true class, Keras right and TFLite wrong / Keras wrong and TFLite right (they add up to the "
        "Keras only / TFLite only totals above):",
        "",
        "| class | images | " + " | ".join(v["variant"] for v in variants) + " |",
        "|---|---:|" + "---:|" * len(variants),
    ]
    for label in report["classes"]:
        cells = [v["flips_by_class"].get(label) for v in variants]
        images = next((c["images"] for c in cells if c), 0)
        lines.append(
            f"| {label} | {images} | "
            + " | ".join("n/a" if c is None else f"{c['keras_only']} / {c['tflite_only']}" for c in cells)
            + " |"
        )
    return lines


def _unknown(report: dict) -> list:
    """Each variant's unknown threshold and its guarantee, as `edgecell infer --unknown auto` uses it."""
    variants = [v for v in report["variants"] if v.get("unknown")]
    if not variants:
        return []
    lines = ["", "Unknown (the top-1 score under which `edgecell infer --unknown auto` answers unknown):", ""]
    return lines + [f"- {v['variant']}: {unknown_threshold.sentence(v['unknown'])}." for v in variants]


def _beside_constant(report: dict) -> list:
    """Each model beside a constant that always answers the largest class, and the warnings."""
    rows = [("Keras", report["keras"].get("baseline"))]
    rows += [(v["variant"], v.get("baseline")) for v in report["variants"]]
    rows = [(name, found) for name, found in rows if found]
    if not rows:
        return []
    first = rows[0][1]
    lines = [
        "",
        f"Beside a constant answer: always answering '{first['majority_class']}' scores "
        f"{100 * first['majority_rate']:.2f}% on these images, and any constant has a balanced accuracy "
        "(mean per-class recall) of 1 / classes.",
        "",
        "| model | accuracy | balanced accuracy | "
        + " | ".join(f"recall {name}" for name in first["per_class_recall"])
        + " |",
        "|---|---:|---:|" + "---:|" * len(first["per_class_recall"]),
    ]
    for name, found in rows:
        recalls = ["n/a" if r is None else f"{100 * r:.2f}%" for r in found["per_class_recall"].values()]
        lines.append(
            f"| {name} | {100 * found['accuracy']:.2f}% | {100 * found['balanced_accuracy']:.2f}% | "
            + " | ".join(recalls)
            + " |"
        )
    lines += [f"- {name}: {found['verdict']}" for name, found in rows if found["verdict"]]
    return lines


def _interval(interval) -> str:
    if not interval:
        return ""
    return f" (95% interval {100 * interval['low']:.2f} to {100 * interval['high']:.2f})"


def _points(check) -> str:
    if not check:
        return ""
    low, high = check["interval_points"]
    return f"{low:+.2f} to {high:+.2f}"


def _fallback(search, max_drop) -> list:
    """The `--fallback` search: every candidate tried, and which was chosen and why."""
    if not search:
        return []
    lines = ["", "## Fallback search (--fallback)", ""]
    if not search["needed"]:
        return lines + [f"Not needed: {search['reason']}; --fallback changed nothing."]
    lines += [
        f"Layers ranked on {search['ranking_images']} training images by quantization error (worst channel's "
        f"RMSE over its spread; above 1 its signal is lost): "
        + ", ".join(f"{short(layer['layer'])} {layer['worst_channel']:.2f}" for layer in search["layers"][:5])
        + ".",
        "",
        "| candidate | layers in float | size | accuracy | drop (points) | 95% interval | median invoke | "
        "tflite-runtime 2.14 | verdict | within budget |",
        "|---|---|---:|---:|---:|---|---:|---|---|---|",
    ]
    for c in search["candidates"]:
        if not c.get("loads"):
            lines.append(f"| {c['name']} | | | does not load here: {c.get('error', '')} | | | | | | no |")
            continue
        lines.append(
            f"| {c['name']} | {', '.join(map(short, c['float_layers'])) or 'none'} "
            f"| {size(c['size_bytes'])} | "
            f"{100 * c['accuracy']:.2f}% | {c['drop_points']:+.2f} | {_points(c.get('check'))} | "
            f"{c['latency_ms_p50']:.3f} ms | {'loads' if c['tflite_runtime_2_14']['loads'] else 'no'} | "
            f"{c.get('verdict', '')} | {'yes' if c['within_budget'] else 'no'} |"
        )
    chosen = (
        f"Chosen: **{search['chosen']}**, {search['reason']}."
        if search["chosen"]
        else f"Nothing chosen: {search['reason']} (budget {max_drop:g})."
    )
    limits = search["limits"]
    return lines + [
        "",
        chosen,
        f"The search stopped because {search['stopped']} (limits: {limits['max_float_layers']} "
        f"layers in float, {limits['seconds']:g} s); it took {search['seconds']:.1f} s.",
    ]


def write(folder: Path, report: dict) -> None:
    atomic.write_json(Path(folder) / JSON_FILE, report)
    atomic.write_text(Path(folder) / MARKDOWN_FILE, markdown(report))
