"""`edgecell export --fallback`: when full int8 loses more than the budget, the cheapest model that does not.

1. Rank the int8 model's layers by quantization error on training images (debugger.py).
2. Keep the worst layer's output in float (the layer and its readers), re-quantize, check the
   model on the held-out images as export checks every variant; repeat with the next worst until
   the drop is within budget, or `max_float_layers` layers are in float, or `seconds` have passed
   (no candidate is started after that, so the search ends within one candidate of the bound).
3. Also try 16-bit activations with 8-bit weights, where the installed runtime loads it.

"Within budget" is export's rule (`edgecell.device.measure.accuracy`): the 95% interval of the paired drop
at or below the budget, or straddling it when `--inconclusive pass` (the default) counts that as
a pass. Of the candidates within budget (and loadable on `--target`), the smallest is chosen, then the
fastest, as `report.ship` chooses among variants. Every candidate is loaded and run by the device
runtime; one it cannot load is reported as such and never chosen.
"""

import tempfile
import time
from pathlib import Path
from typing import NamedTuple, Optional

from edgecell.converters import calibration, check, compat, debugger, metadata_writer
from edgecell.converters.context import Context, Limits  # noqa: F401  (Limits: the search's bounds)
from edgecell.core.errors import EdgecellError
from edgecell.device.measure import accuracy

RANKING_IMAGES = 64  # training images the layers are ranked on (from the calibration set)


class Found(NamedTuple):
    summary: dict  # for the report: every candidate, the choice and why
    content: Optional[bytes]  # the chosen model with its metadata, None when int8 stays as it is
    check: Optional[check.Check]
    kind: str = "int8"  # what the chosen model holds: int8 (some layers in float) or int16x8


def search(context: Context, plain: dict, meta: dict, log=print) -> Found:
    """`plain` is the int8 row export wrote; a search runs only when it is over budget."""
    settings, limits = context.settings, context.settings.fallback
    model, calibrated, max_drop, target = context.model, context.calibrated, settings.max_drop, settings.target
    first = _plain(plain, max_drop, target)
    if plain["passed"]:
        reason = f"int8 is within budget ({plain['drop_points']:.2f} points below Keras, budget {max_drop:g})"
        log(f"Fallback: {reason}; --fallback changes nothing.")
        return Found({"needed": False, "candidates": [first], "chosen": first["name"], "reason": reason}, None, None)

    started = time.perf_counter()
    deadline = started + limits.seconds
    over = "over" if plain["verdict"] == accuracy.Verdict.failed else "not shown to be within"
    log(
        f"Fallback: int8 is {plain['drop_points']:.2f} points below Keras, {over} the budget of {max_drop:g}; "
        f"searching (at most {limits.max_float_layers} layers in float, no new candidate after {limits.seconds:g} s)."
    )
    ranking = _subset(calibrated)
    per_channel = plain.get("int8_weights", {}).get("weights", "per-channel") == "per-channel"
    quantizer = debugger.Calibrated(
        model, calibration.representative(calibrated), calibration.representative(ranking), per_channel
    )
    try:
        layers = quantizer.rank()
        log(
            f"Fallback: ranked {len(layers)} layers on {len(ranking.images)} training images; worst first: "
            + ", ".join(f"{short(layer.name)} ({layer.worst_channel:.2f})" for layer in layers[:3])
            + "."
        )
    except EdgecellError as error:  # the instrumented model may not run where the plain one does
        layers = []
        log(f"Fallback: no layer can be ranked: {error}")

    candidates, contents, checks = [first], {}, {}
    float_nodes, stop = [], "every ranked layer was tried"
    for layer in layers:
        if time.perf_counter() > deadline:
            stop = f"the time bound of {limits.seconds:g} s was reached"
            break
        added = [node for node in layer.group if node not in float_nodes]
        if not added:
            continue
        if len(float_nodes) + len(added) > limits.max_float_layers:
            stop = f"the limit of {limits.max_float_layers} layers in float was reached"
            break
        float_nodes += added
        name = f"int8, {len(float_nodes)} layer{'s' * (len(float_nodes) > 1)} in float"
        row = _try(
            context, name, "int8", quantizer.quantize(float_nodes), float_nodes, meta, contents, checks, started, log
        )
        candidates.append(row)
        if row["within_budget"]:
            stop = "the drop is within budget"
            break
    log(f"Fallback: layer search stopped: {stop}.")

    if time.perf_counter() <= deadline:
        try:
            content = debugger.int16x8(model, calibration.representative(calibrated))
            candidates.append(_try(context, "int16x8", "int16x8", content, [], meta, contents, checks, started, log))
        except EdgecellError as error:
            candidates.append(
                {"name": "int16x8", "kind": "int16x8", "loads": False, "error": str(error), "within_budget": False}
            )
            log(f"Fallback: int16x8 could not be made: {error}")
    else:
        log(f"Fallback: int16x8 not tried: the time bound of {limits.seconds:g} s was reached.")

    good = [c for c in candidates if c["within_budget"]]
    chosen = min(good, key=lambda c: (c["size_bytes"], c["latency_ms_p50"])) if good else None
    if chosen is None:
        reason = f"no candidate is within {max_drop:g} points of Keras"
    else:
        others = len(good) - 1
        reason = f"within budget ({chosen['drop_points']:.2f} points below Keras)" + (
            f" and the smallest, then fastest, of {others + 1} candidates within budget" if others else ""
        )
    summary = {
        "needed": True,
        "limits": limits._asdict(),
        "ranking_images": len(ranking.images),
        "layers": [layer.as_dict() for layer in layers],
        "candidates": candidates,
        "chosen": chosen and chosen["name"],
        "reason": reason,
        "stopped": stop,
        "seconds": round(time.perf_counter() - started, 2),
    }
    log(f"Fallback: chose {chosen['name']}: {reason}." if chosen else f"Fallback: nothing chosen: {reason}.")
    if chosen is None:
        return Found(summary, None, None)
    final = dict(
        meta,
        variant=chosen["kind"],
        quantization={
            "fallback": chosen["name"],
            "float_layers": chosen["float_layers"],
            "reason": reason,
            "candidates": [_brief(c) for c in candidates],
        },
        check=chosen["check"],
    )
    content = metadata_writer.embed(contents[chosen["name"]], final)
    return Found(summary, content, checks[chosen["name"]], chosen["kind"])


def _try(context: Context, name, kind, content, float_nodes, meta, contents, checks, started, log) -> dict:
    """Check one candidate through the device runtime on the held-out images: one row of the search."""
    settings = context.settings
    keras_scores, images, max_drop, target, threads = (
        context.keras_scores,
        context.images,
        settings.max_drop,
        settings.target,
        settings.threads,
    )
    content = metadata_writer.embed(content, dict(meta, variant=kind))
    compatibility = compat.compatibility(content)
    row = {
        "name": name,
        "kind": kind,
        "float_layers": list(float_nodes),
        "size_bytes": len(content),
        "tflite_runtime_2_14": {"loads": compatibility.loads, "problems": compatibility.problems},
    }
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "candidate.tflite"
        path.write_bytes(content)
        try:
            result = check.against_keras(path, keras_scores, images, meta["labels"], threads)
        except EdgecellError as error:
            row.update(loads=False, error=str(error), within_budget=False)
            log(f"Fallback: {name}: {len(content) / 1024:.1f} KiB, does not load here: {error}")
            return row
    decision = accuracy.decide(result.counts, max_drop, settings.inconclusive, result.agreement)  # as export's
    row.update(
        loads=True,
        accuracy=result.accuracy,
        drop_points=result.drop_points,
        check=decision.as_dict(),
        verdict=decision.verdict.value,
        latency_ms_p50=result.latency_ms_p50,
        within_budget=decision.passed and (not target or compatibility.loads),
        after_seconds=round(time.perf_counter() - started, 2),
    )
    contents[name], checks[name] = content, result
    low, high = decision.as_dict()["interval_points"]
    verdict = f"{'within' if row['within_budget'] else 'over'} budget"
    if decision.verdict is accuracy.Verdict.inconclusive:
        verdict = f"inconclusive, counted as {verdict} (--inconclusive {settings.inconclusive.value})"
    log(
        f"Fallback: {name}: {len(content) / 1024:.1f} KiB, accuracy {100 * result.accuracy:.2f}% "
        f"({result.drop_points:.2f} points below Keras, 95% interval {low:+.2f} to {high:+.2f}), "
        f"median invoke {result.latency_ms_p50:.3f} ms, "
        f"tflite-runtime 2.14 {'loads' if compatibility.loads else 'no'}; {verdict}."
    )
    return row


def short(node: str) -> str:
    """A node name as people read it: the first of the fused ops' names (`model/block4_dw_relu/Relu6`)."""
    return node.split(";")[0]


def _plain(row: dict, max_drop: float, target) -> dict:
    return {
        "name": "int8",
        "kind": "int8",
        "float_layers": [],
        "size_bytes": row["size_bytes"],
        "loads": True,
        "accuracy": row["accuracy"],
        "drop_points": row["drop_points"],
        "check": row["check"],
        "verdict": row["verdict"],
        "latency_ms_p50": row["latency_ms_p50"],
        "tflite_runtime_2_14": row["tflite_runtime_2_14"],
        "within_budget": row["passed"],
    }


def _brief(candidate: dict) -> dict:
    keys = (
        "name",
        "float_layers",
        "size_bytes",
        "accuracy",
        "drop_points",
        "verdict",
        "latency_ms_p50",
        "within_budget",
    )
    return {key: candidate.get(key) for key in keys}


def _subset(calibrated: calibration.Calibration) -> calibration.Calibration:
    """Up to RANKING_IMAGES of the calibration images, spread over the set (it is ordered by class)."""
    count = len(calibrated.images)
    picks = sorted({int(i) for i in range(0, count, max(1, count // RANKING_IMAGES))})[:RANKING_IMAGES]
    return calibration.Calibration(calibrated.images[picks], [calibrated.paths[i] for i in picks], {}, "")
