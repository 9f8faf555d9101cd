"""`edgecell train`: a class-folder dataset in, an evaluated Keras model folder out."""

import math
import time
import warnings
from pathlib import Path

from edgecell.core import atomic, modelfolder, requires
from edgecell.core.version import __version__
from edgecell.device.input import classfolder
from edgecell.train import dataset as ds
from edgecell.train import distribute, metrics, networks, plots, resume
from edgecell.train.config import CONFIG_FILE, TrainConfig
from edgecell.train.evaluation import evaluate_model


def train(config: TrainConfig, verbose: int = 1, log=print) -> dict:
    """Scan, split, train with early stopping (best weights kept), evaluate, write every artifact.

    Under `config.distribute` the model and optimizer are built in the strategy's scope and each
    worker reads its own shard of the images; the chief alone writes the backup and the model
    folder. With `config.resume`, training continues after the last epoch backed up in
    `<out_dir>/backup/`. Returns the training report (also written to `train_report.json`).
    """
    requires.tensorflow("`edgecell train`")
    keras = requires.keras("`edgecell train`")
    run = distribute.plan(config.distribute)  # before any other TensorFlow operation
    started = time.perf_counter()
    data, parts = _scan(config, run, log)
    weights = class_weights(data.counts(parts.train), data.classes, config.class_weight)
    if weights:
        log(f"Classes are unbalanced; loss weights {_describe(weights, data.classes)} (--class-weight none: off).")
    train_input, val_input = _inputs(data, parts, config, run, log)
    keras.utils.set_random_seed(config.seed)
    steps_per_epoch = math.ceil(len(parts.train) / config.batch_size)
    with run.strategy.scope():
        network = networks.build(
            config.arch, len(data.classes), config.img_size, config.weights, steps_per_epoch=steps_per_epoch
        )
        model = _compiled(network, config, steps_per_epoch)
    distribute.prepare(model, run)
    monitor = "val_loss" if val_input is not None else "loss"
    stop = keras.callbacks.EarlyStopping(monitor=monitor, patience=config.patience, restore_best_weights=True)
    done, history, finished = _resume(config, run, model, stop, data.classes, log)
    backup = resume.callback(resume.folder(config.out_dir), stop, config, data.classes, history, run.chief)
    fit_started = time.perf_counter()
    with warnings.catch_warnings():  # Keras warns at the end of each pass over a dataset of unknown length
        warnings.filterwarnings("ignore", message="Your input ran out of data")
        fit = model.fit(
            train_input,
            validation_data=val_input,
            epochs=done if finished else config.epochs,
            initial_epoch=done,
            callbacks=[stop, backup],  # in this order: the backup records early stopping's decision
            shuffle=False,  # the pipeline shuffles
            class_weight={i: w for i, w in enumerate(weights)} if weights else None,
            verbose=verbose if run.chief else 0,
        )
    this_run = len(fit.history.get("loss", []))
    report = _report(config, run, model, data, parts, history, monitor, done, this_run, fit_started)
    report["class_weight"] = dict(zip(data.classes, weights)) if weights else None
    trained = model.get_weights()  # on every worker: reading distributed variables may communicate
    if not run.chief:
        return report
    if run.distributed:  # evaluate and save a plain single-device copy: the same artifact as a single-process run
        model = _compiled(keras.models.clone_model(model), config, 1)
        model.set_weights(trained)
    paths, labels = [data.abspath(s) for s in parts.test], [s.label for s in parts.test]
    test = evaluate_model(model, paths, labels, data.classes, config.img_size, config.batch_size, config.decode)
    log(f"Test loss {test['loss']:.4f}, test accuracy {test['accuracy']:.4f} on {test['images']} images.")
    log(metrics.format_baseline(test))
    if test["verdict"]:
        log(test["verdict"])
    report["test"] = test
    report["seconds"] = round(time.perf_counter() - started, 1)
    write_artifacts(Path(config.out_dir), model, data.classes, parts, config, report)
    resume.remove(resume.folder(config.out_dir))
    return report


UNBALANCED = 1.5  # largest class over smallest above this: "auto" weights the classes


def class_weights(counts: dict, classes, policy: str) -> list:
    """Per-class loss weights (total / (classes * count)), or [] when every class counts alike.

    "auto" weights only when the largest class of the training part has more than UNBALANCED
    times the images of the smallest; "balanced" always; "none" never.
    """
    sizes = [counts.get(c, 0) for c in classes]
    if policy == "none" or not sizes or min(sizes) == 0:
        return []
    if policy == "auto" and max(sizes) <= UNBALANCED * min(sizes):
        return []
    total = sum(sizes)
    return [round(total / (len(sizes) * n), 4) for n in sizes]


def _describe(weights, classes) -> str:
    return ", ".join(f"{c} {w:.2f}" for c, w in zip(classes, weights))


def _scan(config: TrainConfig, run, log):
    """The dataset and its split, with the lines that tell the user what was found."""
    data = classfolder.scan(config.data_dir)
    if data.skipped:
        first = data.skipped[0]
        log(
            f"Skipped {len(data.skipped)} file(s) that could not be decoded "
            f"(first: {first['path']}: {first['reason']}); "
            f"all are listed in {modelfolder.REPORT_FILE}."
        )
    parts = ds.split(data, config.test_split, config.val_split, config.seed)
    log(
        f"{len(data.classes)} classes, {len(data.samples)} images: "
        f"{len(parts.train)} train, {len(parts.val)} validation, {len(parts.test)} test."
    )
    if run.distributed:
        log(
            f"Training on {run.replicas} replica(s) in sync ({run.kind}); this is worker {run.worker} "
            f"of {run.workers}{', the chief' if run.chief else ''}."
        )
    return data, parts


def _inputs(data, parts, config: TrainConfig, run, log):
    """The training and validation pipelines (validation None when there is none to watch)."""

    def batches(samples, training, part):
        make = _pipeline(data, samples, config, training, part)
        return distribute.batches(run, make, config.batch_size, len(samples), training)

    train_input = batches(parts.train, True, "train")
    val_input = batches(parts.val, False, "val") if parts.val else None
    if parts.val and val_input is None:
        log(
            f"{len(parts.val)} validation images are too few to split among {run.replicas} replicas; "
            f"early stopping watches the training loss."
        )
    return train_input, val_input


def _report(config, run, model, data, parts, history, monitor, done, this_run, fit_started) -> dict:
    fit_seconds = time.perf_counter() - fit_started
    return {
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
        "distribute": run.describe(),
        "augment": config.augment,
        "history": history,
        "epochs_run": len(history.get("loss", [])),
        "resumed_after_epoch": done,  # epochs restored from the backup (0: a fresh run)
        "epochs_this_run": this_run,
        "best_epoch": _best_epoch(history, monitor),
        "train_images_per_second": round(len(parts.train) * this_run / fit_seconds, 1) if this_run else None,
        "seconds_per_epoch": round(fit_seconds / this_run, 2) if this_run else None,
    }


def _compiled(model, config: TrainConfig, steps_per_epoch: int):
    """Adam with a cosine-decaying learning rate: large steps early, small ones as the run ends,
    so the last epochs refine rather than bounce around (and early stopping has a minimum worth
    keeping). The schedule follows the optimizer's step count, which a resumed run restores."""
    keras = requires.keras("`edgecell train`")
    schedule = keras.optimizers.schedules.CosineDecay(
        config.learning_rate, decay_steps=max(1, config.epochs * steps_per_epoch), alpha=0.02
    )
    model.compile(
        optimizer=keras.optimizers.Adam(schedule),
        loss="sparse_categorical_crossentropy",
        metrics=["accuracy"],
    )
    return model


def _resume(config: TrainConfig, run, model, stop, classes, log):
    """(epochs already run, their history, whether early stopping had ended the run) from the backup."""
    backup = resume.folder(config.out_dir)
    state = resume.read(backup)
    if not config.resume:
        if state and run.chief:
            log(
                f"Starting over; {backup} holds an interrupted run after epoch {state['epoch']}, "
                f"which --resume would continue."
            )
        return 0, {}, False
    if not state:
        log(f"Nothing to resume in {backup}; training from the first epoch.")
        return 0, {}, False
    with run.strategy.scope():
        done = resume.restore(model, stop, state, backup, config, classes)
    log(f"Resuming after epoch {done} of {config.epochs} from {backup}.")
    return done, state["history"], state["stopped"]


def _pipeline(data, samples, config, shuffle, part):
    """`make(batch_size, shard, drop_remainder)`: one worker's tf.data pipeline over `samples`."""
    from edgecell.train.pipeline import cache_prefix, image_batches

    paths, labels = [data.abspath(s) for s in samples], [s.label for s in samples]

    def make(batch_size, shard, drop_remainder):
        cache = None
        if config.cache:
            cache = cache_prefix(config.cache, part, paths, labels, config.img_size, shard, config.decode)
        return image_batches(
            paths,
            labels,
            config.img_size,
            batch_size,
            shuffle=shuffle,
            seed=config.seed,
            augment=config.augment if shuffle else "none",
            shard=shard,
            cache=cache,
            drop_remainder=drop_remainder,
            decode=config.decode,
        )

    return make


def _best_epoch(history: dict, monitor: str):
    values = history.get(monitor)
    return int(min(range(len(values)), key=values.__getitem__)) + 1 if values else None


def write_artifacts(out: Path, model, classes, parts, config: TrainConfig, report: dict) -> None:
    """Every file is written beside its target and renamed, so none is ever half-written."""
    out.mkdir(parents=True, exist_ok=True)
    atomic.write_text(out / modelfolder.LABELS_FILE, "\n".join(classes) + "\n")
    atomic.write_json(out / modelfolder.SPLIT_FILE, parts.to_json())
    atomic.write_json(out / CONFIG_FILE, config.to_json())
    atomic.write_json(out / modelfolder.REPORT_FILE, report)
    plots.curves(report["history"], out / modelfolder.CURVES_FILE)
    test = report["test"]
    baseline = (
        f"accuracy {test['accuracy']:.2f}, always '{test['majority_class']}' {test['majority_rate']:.2f}, "
        f"balanced {test['balanced_accuracy']:.2f}"
    )
    plots.confusion(test["confusion_matrix"], classes, out / modelfolder.CONFUSION_FILE, baseline)
    with atomic.replacing(out / modelfolder.MODEL_FILE, suffix=".keras") as tmp:
        model.save(tmp)
