"""`edgecell export`: a trained model folder to checked TFLite models, a report, and a verdict.

Everything the user can get wrong (not a model folder, labels that do not match the outputs, no
held-out images, no training images to calibrate on) is found before the first file is written.
Each variant is then converted, given its metadata, written beside and renamed, loaded and run on
every held-out image by the device runtime, and checked against the Keras model and the budget.
"""

import json
import time
from pathlib import Path
from typing import NamedTuple, Optional

import numpy as np

from edgecell.converters import (
    calibration,
    check,
    check_images,
    compat,
    convert,
    export_report,
    fallback,
    granularity,
    metadata_writer,
    reference,
    unknown_threshold,
    unlabelled,
)
from edgecell.converters.context import Context, Settings
from edgecell.converters.convert import Variant
from edgecell.core import atomic, folder_lock, modelfolder
from edgecell.core.errors import EdgecellError
from edgecell.core.modelfolder import CONFIG_FILE
from edgecell.core.numbers import size
from edgecell.core.split import read_split
from edgecell.device.input import decode_scale
from edgecell.device.measure import accuracy, baseline
from edgecell.device.measure.machine import cpu_model
from edgecell.device.model import edgecell_metadata
from edgecell.device.model.scores import best

EXPORT_DIR = "export"


def model_file(variant: Variant) -> str:
    return f"model_{Variant(variant).value}.tflite"


def export(model_dir, settings: Settings = Settings(), log=print) -> dict:
    """Export `settings.variants` of the model in `model_dir` to `model_dir/export/`; returns the report.

    A variant over `max_drop` points below Keras (or, with `target`, one the target runtime cannot
    load) is still written, and listed in `report["failed"]`. With `settings.fallback`, an int8
    model over budget gives way to the smallest within budget that fallback.py finds, if any.
    Images are decoded under the model folder's decode rule (every pixel with
    `settings.full_decode`), and the models record that rule, so the board decodes as the check did.
    """
    if not Path(model_dir).is_dir():
        return _export(model_dir, settings, log)  # which names the missing folder in one sentence
    # Two exports of one folder take turns: each writes whole files and a report of its variants.
    with folder_lock.locked(model_dir, "export", log):
        return _export(model_dir, settings, log)


class _Inputs(NamedTuple):
    """What every variant is checked and calibrated with."""

    checked: check_images.CheckImages
    calibrated: Optional[calibration.Calibration]
    validation: Optional[check.HeldOut]
    pretrained: bool  # an `edgecell pretrained` folder: checked by agreement with Keras, not labels
    unknown: Optional[check.HeldOut] = None  # `--check-unknown`: images of none of the classes


def _export(model_dir, settings: Settings, log) -> dict:
    started = time.perf_counter()
    model_dir = Path(model_dir)
    settings = settings.checked()
    decode = decode_scale.of_model_folder(model_dir, settings.full_decode)
    model, classes = modelfolder.load_keras(model_dir)
    input_size = (int(model.inputs[0].shape[1]), int(model.inputs[0].shape[2]))
    inputs = _gather(model_dir, settings, input_size, decode, log)
    keras_scores = check.keras_probabilities(model, inputs.checked.images)
    images = inputs.checked.images
    if inputs.pretrained:
        images = unlabelled.relabelled(images, keras_scores)
    keras = _keras_reference(keras_scores, images, classes, inputs, log)
    out = model_dir / EXPORT_DIR
    context = Context(
        settings,
        model,
        classes,
        input_size,
        images,
        keras_scores,
        inputs.calibrated,
        inputs.validation,
        out,
        labelled=not inputs.pretrained,
        unknown_images=inputs.unknown,
    )
    rows, searched = _variants(context, model_dir, decode, keras["accuracy"], log)
    atomic.write_text(out / modelfolder.LABELS_FILE, "\n".join(classes) + "\n")
    result = _report(context, model_dir, inputs, keras, rows, searched, decode)
    result["seconds"] = round(time.perf_counter() - started, 2)
    export_report.write(out, result)
    return result


def _gather(model_dir: Path, settings: Settings, input_size, decode, log) -> _Inputs:
    """The check images, and for int8 the calibration and validation images, before any conversion."""
    int8 = Variant.int8 in settings.variants
    if unlabelled.applies(model_dir):  # no split, so no labelled images
        found = unlabelled.gather(model_dir, settings.data, input_size, settings.calib_samples, decode)
        sources = [{"source": found.source, "images": len(found.images.paths)}]
        checked = check_images.CheckImages(found.images, sources, [])
        log(f"{model_dir} has no {modelfolder.SPLIT_FILE}: each export is checked by its top-1 agreement with Keras.")
        inputs = _Inputs(checked, found.calibrated if int8 else None, None, True)
    else:
        data, check_val, check_data = settings.data, settings.check_val, settings.check_data
        checked = check_images.gather(model_dir, input_size, data, check_val, check_data, decode)
        calibrated = validation = None
        if int8:
            split = read_split(model_dir)
            calibrated = calibration.load(split, settings.calib_samples, input_size, decode=decode)
            validation = _validation(split, input_size, decode)
        inputs = _Inputs(checked, calibrated, validation, False)
    if inputs.calibrated is not None and inputs.calibrated.warning:
        log(f"Warning: {inputs.calibrated.warning}")
    if settings.check_unknown is not None:
        inputs = inputs._replace(unknown=check_images.unknown(settings.check_unknown, input_size, decode))
    return inputs


def _keras_reference(keras_scores, images, classes, inputs: _Inputs, log) -> dict:
    """The Keras model's accuracy on the check images, said once, and its figures beside a constant."""
    n = len(images.labels)
    keras_accuracy = check.accuracy(keras_scores, images.labels)
    right = int(round(keras_accuracy * n))
    interval = accuracy.wilson(right, n)
    described = check_images.describe(inputs.checked.sources)
    compared = None  # a pretrained folder's check images carry no labels to compare with
    if inputs.pretrained:
        log(f"Keras model: the reference answers on {described}.")
    else:
        log(
            f"Keras model: accuracy {100 * keras_accuracy:.2f}% (95% interval {100 * interval.low:.2f} to "
            f"{100 * interval.high:.2f}) on {described}."
        )
        compared = baseline.against_constant(images.labels, best(keras_scores), classes)
        for line in _beside_constant("Keras model", compared):
            log(line)
    return {
        "accuracy": keras_accuracy,
        "accuracy_interval": accuracy.accuracy_interval(right, n),
        "per_class": check.per_class_accuracy(keras_scores, images.labels, classes),
        "baseline": compared,
    }


def _variants(context: Context, model_dir: Path, decode, keras_accuracy: float, log):
    """(one row per variant, the fallback search or None): converted, checked and said in turn."""
    arch = _arch(model_dir)
    rows, searched = [], None
    for variant in context.settings.variants:
        # the folder's name, not its absolute path: a model says how it was made, not where
        meta = metadata_writer.describe(
            context.classes,
            variant.value,
            context.input_size,
            arch,
            keras_accuracy,
            len(context.images.labels),
            model_dir.resolve().name,
            decode,
        )
        log(_stage(variant, context))
        rows.append(_variant(context, variant, meta))
        log(_line(rows[-1]))
        for line in _beside_constant(rows[-1]["variant"], rows[-1]["baseline"]):
            log(line)
        if context.settings.fallback is not None and variant is Variant.int8:
            rows[-1], searched = _fallback(context, rows[-1], meta, log)
        log(f"{rows[-1]['variant']}: {unknown_threshold.sentence(rows[-1]['unknown'])}.")
    return rows, searched


def _stage(variant: Variant, context: Context) -> str:
    """The line said before a variant's conversion and check, which take seconds to minutes."""
    calibrating = ""
    if variant is Variant.int8 and context.calibrated is not None:
        calibrating = f", calibrating on {len(context.calibrated.images)} images"
    return f"Converting {variant.value}{calibrating}, then checking it on {len(context.images.labels)} images ..."


def _report(context: Context, model_dir, inputs: _Inputs, keras: dict, rows, searched, decode) -> dict:
    """The export report (export_report.py writes it as JSON and Markdown)."""
    settings, images, calibrated = context.settings, context.images, inputs.calibrated
    return {
        "model_dir": str(model_dir),
        "export_dir": str(context.out),
        "classes": context.classes,
        "held_out": check_images.describe(inputs.checked.sources),
        "check_images": {"sources": inputs.checked.sources, "paths": list(images.paths)},
        "test_images": int(len(images.labels)),
        "skipped": inputs.checked.skipped,
        "keras": keras,
        "max_drop": settings.max_drop,
        "decode": decode,
        "inconclusive": settings.inconclusive.value,
        "target": settings.target.value if settings.target else None,
        "calibration": None
        if calibrated is None
        else {
            "images": len(calibrated.paths),
            "requested": settings.calib_samples,
            "per_class": calibrated.per_class,
            "warning": calibrated.warning or None,
        },
        "variants": rows,
        "fallback": searched,
        "failed": [row["variant"] for row in rows if not row["passed"]],
        # variants no better than a constant answer (export --strict fails them); the budget does not judge this
        "weak": [row["variant"] for row in rows if row["baseline"]["verdict"]],
        "ship": export_report.ship(rows),
        "runtime": rows[0]["runtime"],
        "machine": cpu_model(),
    }


def _variant(context: Context, variant: Variant, meta: dict) -> dict:
    """Convert, embed the metadata, write, run on the held-out images: one row of the report."""
    settings, choice = context.settings, None
    if variant is Variant.int8:
        choice = granularity.int8(
            context.model, calibration.representative(context.calibrated), context.validation, settings.threads
        )
        content = choice.content
    else:
        content = convert.convert(context.model, variant)
    content = metadata_writer.embed(content, meta)
    path = atomic.write_bytes(context.out / model_file(variant), content)
    result = check.against_keras(path, context.keras_scores, context.images, meta["labels"], settings.threads)
    unknown = _unknown(context, result, path)
    checked = _decision(result, settings).as_dict()
    content = metadata_writer.embed(
        content, dict(meta, check=checked, unknown=unknown, reference=reference.reference(result.scores))
    )
    path = atomic.write_bytes(path, content)  # the same model, now saying how it was checked
    row = _row(variant.value, path, content, result, settings)
    row["unknown"] = unknown
    if choice is not None:
        row["int8_weights"] = choice.as_dict()
    return row


def _fallback(context: Context, row: dict, meta: dict, log):
    """The int8 row, replaced by the fallback search's choice when plain int8 is over budget. The
    choice is written under the name of what it holds: int8 with float layers stays
    `model_int8.tflite`; 16-bit activations are `model_int16x8.tflite`, and the row says int16x8."""
    found = fallback.search(context, row, meta, log)
    if found.content is None:
        return row, found.summary
    path = atomic.write_bytes(context.out / f"model_{found.kind}.tflite", found.content)
    unknown = _unknown(context, found.check, path)  # the chosen model's own scores
    drift_reference = reference.reference(found.check.scores)
    content = metadata_writer.embed(
        found.content, dict(edgecell_metadata.read(found.content), unknown=unknown, reference=drift_reference)
    )
    path = atomic.write_bytes(path, content)
    chosen = _row(found.kind, path, content, found.check, context.settings)
    chosen.update(int8_weights=row.get("int8_weights"), fallback=found.summary["chosen"], unknown=unknown)
    log(_line(chosen))
    for line in _beside_constant(chosen["variant"], chosen["baseline"]):
        log(line)
    return chosen, found.summary


def _unknown(context: Context, result: check.Check, result_path) -> dict:
    """The variant's unknown threshold from its own scores on the check images (unknown_threshold.py)."""
    target, confidence = context.settings.unknown_target, context.settings.unknown_confidence
    if not context.labelled:
        return unknown_threshold.without_labels(len(context.images.labels), target, confidence)
    scores, labels = result.scores, context.images.labels
    if context.unknown_images is not None:  # wrong whatever they are answered: only a low score spares them
        other, _, _ = check.tflite_probabilities(result_path, context.unknown_images, context.settings.threads)
        scores, labels = np.concatenate([scores, other]), np.concatenate([labels, context.unknown_images.labels])
    chosen = unknown_threshold.choose(scores, labels, target, confidence).as_dict()
    chosen["unknown_images"] = 0 if context.unknown_images is None else len(context.unknown_images.labels)
    return chosen


def _decision(result: check.Check, settings: Settings) -> accuracy.Decision:
    """The verdict on one variant: the paired drop's interval against the budget (device/measure/accuracy.py)."""
    return accuracy.decide(result.counts, settings.max_drop, settings.inconclusive, result.agreement)


def _row(variant: str, path, content, result, settings: Settings) -> dict:
    target = settings.target
    compatibility = compat.compatibility(content)
    decision = _decision(result, settings)
    failures = [] if decision.passed else [decision.sentence()]
    if target and not compatibility.loads:
        failures.append(f"it does not load on {target.value}: {compatibility.sentence()}")
    return {
        "variant": variant,
        "file": str(path),
        "size_bytes": len(content),
        "accuracy": result.accuracy,
        "drop_points": result.drop_points,
        "agreement": result.agreement,
        "check": decision.as_dict(),
        "verdict": decision.verdict.value,
        "judgement": decision.sentence(),
        "per_class_change": result.per_class_change,
        "flips_by_class": result.flips_by_class,
        "max_probability_diff": result.max_probability_diff,
        "latency_ms_p50": result.latency_ms_p50,
        "runtime": result.runtime,
        "baseline": result.baseline,
        "ops": [f"{op.name}/{op.version}" for op in compat.ops(content)],
        "tflite_runtime_2_14": {"loads": compatibility.loads, "problems": compatibility.problems},
        "passed": not failures,
        "failures": failures,
    }


def _line(row: dict) -> str:
    """One variant in one line: what it costs, the paired evidence, and the verdict with its reason."""
    check = row["check"]
    verdict = f"passed: {row['judgement']}" if row["passed"] else "FAILED: " + "; ".join(row["failures"])
    return (
        f"{row['variant']}: {size(row['size_bytes'])}, accuracy {100 * row['accuracy']:.2f}% "
        f"({0.0 - row['drop_points'] + 0.0:+.2f} points against Keras), agreement {100 * row['agreement']:.1f}%, "
        f"median invoke {row['latency_ms_p50']:.3f} ms\n"
        f"  on {check['images']} images {check['both']} both right, "
        f"{check['keras_only']} Keras only, {check['tflite_only']} TFLite only, {check['neither']} neither; "
        f"{verdict}."
    ) + _flips(row.get("flips_by_class"))


def _flips(by_class) -> str:
    """The classes whose images flipped, on a line of their own; nothing when none did."""
    flipped = [(name, f) for name, f in (by_class or {}).items() if f["keras_only"] or f["tflite_only"]]
    if not flipped:
        return ""
    return "\n  flipped, by true class: " + "; ".join(
        f"{name} {f['keras_only']} lost, {f['tflite_only']} gained of {f['images']}" for name, f in flipped
    )


def _beside_constant(name: str, compared: dict) -> list:
    """`name`'s accuracy beside a constant answer, and the warning sentence when it is no better."""
    return [f"{name}: {baseline.line(compared)}.", *([compared["verdict"]] if compared["verdict"] else [])]


def _validation(split, input_size, decode):
    """The validation (early-stopping) images of the split, to choose int8 weight granularity on."""
    paths = [str(Path(split.root) / s.path) for s in split.val]
    if not paths:
        return None
    try:
        return check.load_held_out(paths, [s.label for s in split.val], input_size, decode)
    except EdgecellError:
        return None


def _arch(model_dir: Path) -> str:
    try:
        return json.loads((model_dir / CONFIG_FILE).read_text()).get("arch", "unknown")
    except (OSError, ValueError):
        return "unknown"
