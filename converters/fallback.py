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
from edgecell.core.numbers import size
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
    first = _plain(plain, settings.max_drop, settings.target)
    if plain["passed"]:
        reason = f"int8 is within budget ({plain['drop_points']:.2f} points below Keras, budget {settings.max_drop:g})"
        log(f"Fallback: {reason}; --fallback changes nothing.")
        return Found({"needed": False, "candidates": [first], "chosen": first["name"], "reason": reason}, None, None)

    trials = _Trials(context, meta, log)
    over = "over" if plain["verdict"] == accuracy.Verdict.failed else "not shown to be within"
    log(
        f"Fallback: int8 is {plain['drop_points']:.2f} points below Keras, {over} the budget of {settings.max_drop:g}; "
        f"searching (at most {limits.max_float_layers} layers in float, no new candidate after {limits.seconds:g} s)."
    )
    ranking = _subset(context.calibrated)
    per_channel = plain.get("int8_weights", {}).get("weights", "per-channel") == "per-channel"
    representative = calibration.representative(context.calibrated)
    quantizer = debugger.Calibrated(context.model, representative, calibration.representative(ranking), per_channel)
    layers = _rank(quantizer, len(ranking.images), log)
    searched, stop = _layer_search(trials, quantizer, layers)
    log(f"Fallback: layer search stopped: {stop}.")
    candidates = [first, *searched, *_int16x8(trials, representative)]
    chosen, reason = _choose(candidates, settings.max_drop)
    summary = {
        "needed": True,
        "limits": limits._asdict(),
        "ranking_images": len(ranking.images),
        "layers": [layer.as_dict() for layer in layers],
        "candidates": candidates,
        "chosen": chosen and chosen["name"],
        "reason": reason,
        "stopped": stop,
        "seconds": round(time.perf_counter() - trials.started, 2),
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
    content = metadata_writer.embed(trials.contents[chosen["name"]], final)
    return Found(summary, content, trials.checks[chosen["name"]], chosen["kind"])


def _rank(quantizer, images: int, log) -> list:
    """The layers, worst quantization error first; none when the instrumented model cannot run here."""
    try:
        layers = quantizer.rank()
    except EdgecellError as error:  # the instrumented model may not run where the plain one does
        log(f"Fallback: no layer can be ranked: {error}")
        return []
    log(
        f"Fallback: ranked {len(layers)} layers on {images} training images; worst first: "
        + ", ".join(f"{short(layer.name)} ({layer.worst_channel:.2f})" for layer in layers[:3])
        + "."
    )
    return layers


def _layer_search(trials: "_Trials", quantizer, layers) -> tuple:
    """(candidates, why the search stopped): the worst layers kept in float, one more each time."""
    limits = trials.context.settings.fallback
    candidates, float_nodes = [], []
    for layer in layers:
        if trials.out_of_time():
            return candidates, f"the time bound of {limits.seconds:g} s was reached"
        added = [node for node in layer.group if node not in float_nodes]
        if not added:
            continue
        if len(float_nodes) + len(added) > limits.max_float_layers:
            return candidates, f"the limit of {limits.max_float_layers} layers in float was reached"
        float_nodes += added
        name = f"int8, {len(float_nodes)} layer{'s' * (len(float_nodes) > 1)} in float"
        candidates.append(trials.run(name, "int8", quantizer.quantize(float_nodes), float_nodes))
        if candidates[-1]["within_budget"]:
            return candidates, "the drop is within budget"
    return candidates, "every ranked layer was tried"


def _int16x8(trials: "_Trials", representative) -> list:
    """16-bit activations with 8-bit weights, while there is time: its row, or none."""
    if trials.out_of_time():
        seconds = trials.context.settings.fallback.seconds
        trials.log(f"Fallback: int16x8 not tried: the time bound of {seconds:g} s was reached.")
        return []
    try:
        content = debugger.int16x8(trials.context.model, representative)
    except EdgecellError as error:
        trials.log(f"Fallback: int16x8 could not be made: {error}")
        return [{"name": "int16x8", "kind": "int16x8", "loads": False, "error": str(error), "within_budget": False}]
    return [trials.run("int16x8", "int16x8", content, [])]


def _choose(candidates, max_drop: float) -> tuple:
    """(the smallest, then fastest, candidate within budget or None, why)."""
    good = [c for c in candidates if c["within_budget"]]
    if not good:
        return None, f"no candidate is within {max_drop:g} points of Keras"
    chosen = min(good, key=lambda c: (c["size_bytes"], c["latency_ms_p50"]))
    reason = f"within budget ({chosen['drop_points']:.2f} points below Keras)" + (
        f" and the smallest, then fastest, of {len(good)} candidates within budget" if len(good) > 1 else ""
    )
    return chosen, reason


class _Trials:
    """The candidates of one search: each checked through the device runtime on the held-out images,
    its model and check kept by name for the one chosen."""

    def __init__(self, context: Context, meta: dict, log):
        self.context, self.meta, self.log = context, meta, log
        self.contents, self.checks = {}, {}
        self.started = time.perf_counter()
        self.deadline = self.started + context.settings.fallback.seconds

    def out_of_time(self) -> bool:
        return time.perf_counter() > self.deadline

    def run(self, name, kind, content, float_nodes) -> dict:
        """One row of the search."""
        context, settings, log = self.context, self.context.settings, self.log
        content = metadata_writer.embed(content, dict(self.meta, variant=kind))
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
                labels = self.meta["labels"]
                result = check.against_keras(path, context.keras_scores, context.images, labels, settings.threads)
            except EdgecellError as error:
                row.update(loads=False, error=str(error), within_budget=False)
                log(f"Fallback: {name}: {size(len(content))}, does not load here: {error}")
                return row
        decision = accuracy.decide(result.counts, settings.max_drop, settings.inconclusive, result.agreement)
        row.update(
            loads=True,
            accuracy=result.accuracy,
            drop_points=result.drop_points,
            check=decision.as_dict(),
            verdict=decision.verdict.value,
            latency_ms_p50=result.latency_ms_p50,
            within_budget=decision.passed and (not settings.target or compatibility.loads),
            after_seconds=round(time.perf_counter() - self.started, 2),
        )
        self.contents[name], self.checks[name] = content, result
        low, high = decision.as_dict()["interval_points"]
        verdict = f"{'within' if row['within_budget'] else 'over'} budget"
        if decision.verdict is accuracy.Verdict.inconclusive:
            verdict = f"inconclusive, counted as {verdict} (--inconclusive {settings.inconclusive.value})"
        log(
            f"Fallback: {name}: {size(len(content))}, accuracy {100 * result.accuracy:.2f}% "
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
