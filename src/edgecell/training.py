"""`edgecell train`: a class-folder dataset in, an evaluated Keras model folder out."""

import time
from pathlib import Path

from edgecell import __version__, atomic, modeldir, networks, plots, requires
from edgecell import dataset as ds
from edgecell.config import CONFIG_FILE, TrainConfig
from edgecell.evaluation import evaluate_model


def train(config: TrainConfig, verbose: int = 1, log=print) -> dict:
    """Scan, split, train with early stopping (best weights kept), evaluate, write every artifact.

    Returns the training report (also written to `train_report.json`).
    """
    requires.tensorflow("`edgecell train`")
    keras = requires.keras("`edgecell train`")
    started = time.perf_counter()

    data = ds.scan(config.data_dir)
    if data.skipped:
        first = data.skipped[0]
        log(f"Skipped {len(data.skipped)} file(s) that could not be decoded (first: {first['path']}: {first['reason']}); "
            f"all are listed in {modeldir.REPORT_FILE}.")
    parts = ds.split(data, config.test_split, config.val_split, config.seed)
    log(f"{len(data.classes)} classes, {len(data.samples)} images: "
        f"{len(parts.train)} train, {len(parts.val)} validation, {len(parts.test)} test.")

    def batches(samples, shuffle):
        return _batches(data, samples, config, shuffle)

    keras.utils.set_random_seed(config.seed)
    model = networks.build(config.arch, len(data.classes), config.img_size, config.weights)
    model.compile(
        optimizer=keras.optimizers.Adam(config.learning_rate),
        loss="sparse_categorical_crossentropy",
        metrics=["accuracy"],
    )
    monitor = "val_loss" if parts.val else "loss"
    stop = keras.callbacks.EarlyStopping(monitor=monitor, patience=config.patience, restore_best_weights=True)
    fit = model.fit(
        batches(parts.train, shuffle=True),
        validation_data=batches(parts.val, shuffle=False) if parts.val else None,
        epochs=config.epochs,
        callbacks=[stop],
        shuffle=False,  # the pipeline shuffles
        verbose=verbose,
    )
    history = {k: [float(v) for v in values] for k, values in fit.history.items()}

    test = evaluate_model(
        model, [data.abspath(s) for s in parts.test], [s.label for s in parts.test], data.classes,
        config.img_size, config.batch_size,
    )
    log(f"Test loss {test['loss']:.4f}, test accuracy {test['accuracy']:.4f} on {test['images']} images.")

    report = {
        "edgecell_version": __version__,
        "arch": config.arch,
        "parameters": int(model.count_params()),
        "classes": data.classes,
        "images": {
            "total": len(data.samples),
            "per_class": data.counts(),
            "train": data.counts(parts.train),
            "val": data.counts(parts.val),
            "test": data.counts(parts.test),
        },
        "skipped": data.skipped,
        "history": history,
        "epochs_run": len(history.get("loss", [])),
        "best_epoch": _best_epoch(history, monitor),
        "test": test,
        "seconds": round(time.perf_counter() - started, 1),
    }
    write_artifacts(Path(config.out_dir), model, data.classes, parts, config, report)
    return report


def _batches(data, samples, config, shuffle):
    from edgecell.pipeline import image_batches

    return image_batches(
        [data.abspath(s) for s in samples], [s.label for s in samples], config.img_size, config.batch_size,
        shuffle=shuffle, seed=config.seed, augment=config.augment and shuffle,
    )


def _best_epoch(history: dict, monitor: str):
    values = history.get(monitor)
    return int(min(range(len(values)), key=values.__getitem__)) + 1 if values else None


def write_artifacts(out: Path, model, classes, parts, config: TrainConfig, report: dict) -> None:
    """Every file is written beside its target and renamed, so none is ever half-written."""
    out.mkdir(parents=True, exist_ok=True)
    atomic.write_text(out / modeldir.LABELS_FILE, "\n".join(classes) + "\n")
    atomic.write_json(out / ds.SPLIT_FILE, parts.to_json())
    atomic.write_json(out / CONFIG_FILE, config.to_json())
    atomic.write_json(out / modeldir.REPORT_FILE, report)
    plots.curves(report["history"], out / modeldir.CURVES_FILE)
    plots.confusion(report["test"]["confusion_matrix"], classes, out / modeldir.CONFUSION_FILE)
    with atomic.replacing(out / modeldir.MODEL_FILE, suffix=".keras") as tmp:
        model.save(tmp)
