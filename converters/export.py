"""`edgecell export`: a trained model folder to checked TFLite models, a report, and a verdict.

Everything the user can get wrong (not a model folder, labels that do not match the outputs, no
held-out images, no training images to calibrate on) is found before the first file is written.
Each variant is then converted, given its metadata, written beside and renamed, loaded and run on
every held-out image by the device runtime, and checked against the Keras model and the budget.
"""

import json
import time
from pathlib import Path

from edgecell.converters import (
    calibration,
    check,
    compat,
    convert,
    export_report,
    fallback,
    granularity,
    metadata_writer,
)
from edgecell.converters.compat import Target
from edgecell.converters.convert import Variant
from edgecell.core import atomic, modelfolder
from edgecell.core.errors import EdgecellError
from edgecell.core.modelfolder import CONFIG_FILE
from edgecell.core.split import SPLIT_FILE, read_split
from edgecell.device import decode_scale
from edgecell.device.classfolder import held_out as held_out_images
from edgecell.device.context import cpu_model

EXPORT_DIR = "export"
DEFAULT_MAX_DROP = 1.0


def model_file(variant: Variant) -> str:
    return f"model_{Variant(variant).value}.tflite"


def export(
    model_dir,
    variants=(Variant.int8,),
    max_drop: float = DEFAULT_MAX_DROP,
    calib_samples: int = calibration.DEFAULT_SAMPLES,
    data=None,
    target=None,
    threads=None,
    log=print,
    search: fallback.Limits = None,
    full_decode: bool = False,
) -> dict:
    """Export `variants` of the model in `model_dir` to `model_dir/export/`; returns the report.

    A variant over `max_drop` points below Keras (or, with `target`, one the target runtime cannot
    load) is still written, and listed in `report["failed"]`. With `search` (`--fallback`), an int8
    model over budget gives way to the smallest within budget that fallback.py finds, if any.
    Images are decoded under the model folder's decode rule (every pixel with `full_decode`), and
    the models record that rule, so the board decodes as the check did.
    """
    started = time.perf_counter()
    model_dir = Path(model_dir)
    variants = list(dict.fromkeys(Variant(v) for v in variants))
    target = Target(target) if target else None
    if not variants:
        raise EdgecellError("No variant to export; give --quantize int8|float16|dynamic|float32 or --all.")
    if max_drop < 0:
        raise EdgecellError(
            f"--max-drop {max_drop:g} is negative; give the accuracy points a variant may lose, e.g. 1.0."
        )
    if calib_samples < 1:
        raise EdgecellError(f"--calib-samples {calib_samples} is too small; give at least 1 (default 300).")
    if search is not None and Variant.int8 not in variants:
        raise EdgecellError("--fallback searches for an int8 model within budget; add --quantize int8.")

    decode = decode_scale.of_model_folder(model_dir, full_decode)
    model, classes = modelfolder.load_keras(model_dir)
    input_size = (int(model.inputs[0].shape[1]), int(model.inputs[0].shape[2]))
    paths, labels, _, skipped = held_out_images(model_dir, data)
    if not paths:
        where = data or model_dir / SPLIT_FILE
        raise EdgecellError(
            f"{where} holds no held-out images, so no accuracy can be checked; give a class-folder dataset with --data."
        )
    images = check.load_held_out(paths, labels, input_size, decode)
    calibrated = validation = None
    if Variant.int8 in variants:
        split = read_split(model_dir)
        calibrated = calibration.load(split, calib_samples, input_size, decode=decode)
        validation = _validation(split, input_size, decode)
        if calibrated.warning:
            log(f"Warning: {calibrated.warning}")

    keras_scores = check.keras_probabilities(model, images)
    keras_accuracy = check.accuracy(keras_scores, images.labels)
    log(f"Keras model: accuracy {100 * keras_accuracy:.2f}% on {len(images.labels)} held-out images.")
    arch = _arch(model_dir)
    out = model_dir / EXPORT_DIR
    rows, searched = [], None
    for variant in variants:
        meta = metadata_writer.describe(
            classes, variant.value, input_size, arch, keras_accuracy, len(images.labels), str(model_dir), decode
        )
        rows.append(
            _variant(variant, model, meta, out, keras_scores, images, calibrated, validation, max_drop, target, threads)
        )
        log(_line(rows[-1]))
        if search is not None and variant is Variant.int8:
            rows[-1], searched = _fallback(
                rows[-1], model, meta, keras_scores, images, calibrated, max_drop, target, threads, search, log
            )
    atomic.write_text(out / modelfolder.LABELS_FILE, "\n".join(classes) + "\n")

    result = {
        "model_dir": str(model_dir),
        "export_dir": str(out),
        "classes": classes,
        "held_out": f"--data {data}" if data else f"test split of {SPLIT_FILE}",
        "test_images": int(len(images.labels)),
        "skipped": [s["path"] for s in skipped] + images.unreadable,
        "keras": {
            "accuracy": keras_accuracy,
            "per_class": check.per_class_accuracy(keras_scores, images.labels, classes),
        },
        "max_drop": max_drop,
        "decode": decode,
        "target": target.value if target else None,
        "calibration": None
        if calibrated is None
        else {
            "images": len(calibrated.paths),
            "requested": calib_samples,
            "per_class": calibrated.per_class,
            "warning": calibrated.warning or None,
        },
        "variants": rows,
        "fallback": searched,
        "failed": [row["variant"] for row in rows if not row["passed"]],
        "ship": export_report.ship(rows),
        "runtime": rows[0]["runtime"],
        "machine": cpu_model(),
        "seconds": round(time.perf_counter() - started, 2),
    }
    export_report.write(out, result)
    return result


def _variant(
    variant, model, meta, out, keras_scores, images, calibrated, validation, max_drop, target, threads
) -> dict:
    """Convert, embed the metadata, write, run on the held-out images: one row of the report."""
    choice = None
    if variant is Variant.int8:
        choice = granularity.int8(model, calibration.representative(calibrated), validation, threads)
        content = choice.content
    else:
        content = convert.convert(model, variant)
    content = metadata_writer.embed(content, meta)
    path = atomic.write_bytes(out / model_file(variant), content)
    result = check.check(path, keras_scores, images, meta["labels"], threads)
    row = _row(variant, path, content, result, max_drop, target)
    if choice is not None:
        row["int8_weights"] = choice.as_dict()
    return row


def _fallback(row, model, meta, keras_scores, images, calibrated, max_drop, target, threads, limits, log):
    """The int8 row, replaced by the fallback search's choice when plain int8 is over budget."""
    found = fallback.search(model, row, meta, keras_scores, images, calibrated, max_drop, target, threads, limits, log)
    if found.content is None:
        return row, found.summary
    path = atomic.write_bytes(Path(row["file"]), found.content)
    chosen = _row(Variant.int8, path, found.content, found.check, max_drop, target)
    chosen.update(int8_weights=row.get("int8_weights"), fallback=found.summary["chosen"])
    log(_line(chosen))
    return chosen, found.summary


def _row(variant, path, content, result, max_drop, target) -> dict:
    compatibility = compat.check(content)
    failures = []
    if result.drop_points > max_drop:
        failures.append(f"{result.drop_points:.2f} points below Keras, over the budget of {max_drop:g}")
    if target and not compatibility.loads:
        failures.append(f"it does not load on {target.value}: {compatibility.sentence()}")
    return {
        "variant": variant.value,
        "file": str(path),
        "size_bytes": len(content),
        "accuracy": result.accuracy,
        "drop_points": result.drop_points,
        "agreement": result.agreement,
        "per_class_change": result.per_class_change,
        "max_probability_diff": result.max_probability_diff,
        "latency_ms_p50": result.latency_ms_p50,
        "runtime": result.runtime,
        "ops": [f"{op.name}/{op.version}" for op in compat.ops(content)],
        "tflite_runtime_2_14": {"loads": compatibility.loads, "problems": compatibility.problems},
        "passed": not failures,
        "failures": failures,
    }


def _line(row: dict) -> str:
    verdict = "passed" if row["passed"] else "FAILED: " + "; ".join(row["failures"])
    return (
        f"{row['variant']}: {row['size_bytes'] / 1024:.1f} KiB, accuracy {100 * row['accuracy']:.2f}% "
        f"({0.0 - row['drop_points'] + 0.0:+.2f} points against Keras), agreement {100 * row['agreement']:.1f}%, "
        f"median invoke {row['latency_ms_p50']:.3f} ms; {verdict}."
    )


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
