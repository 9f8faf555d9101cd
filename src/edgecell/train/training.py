"""`edgecell train`: a class-folder dataset in, an evaluated Keras model folder out."""

import math
import time
import warnings
from dataclasses import dataclass
from pathlib import Path
from typing import NamedTuple

from edgecell.core import atomic, modelfolder, requires
from edgecell.core.numbers import percent
from edgecell.core.version import __version__
from edgecell.device.input import classfolder
from edgecell.train import dataset, distribute, metrics, networks, plots, resume
from edgecell.train.config import CONFIG_FILE, TrainConfig
from edgecell.train.evaluation import evaluate_model


def train(config: TrainConfig, verbose: int = 1, log=print, callbacks=()) -> dict:
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
    plan = phases(config)
    state = resume.read(resume.folder(config.out_dir)) if config.resume else None
    first = min(int(state.get("phase", 0)), len(plan) - 1) if state else 0
    starts = list(state.get("phase_starts", [0])) if state else [0]
    with run.strategy.scope():
        network = networks.build(
            config.arch, len(data.classes), config.img_size, config.weights, steps_per_epoch=steps_per_epoch
        )
        model = _opened(network, plan[first], config, steps_per_epoch)
    distribute.prepare(model, run)
    monitor = "val_loss" if val_input is not None else "loss"
    stop = _stopping(keras, monitor, config)
    done, history, finished = _resume(config, run, model, stop, data.classes, log)
    resumed = done
    fit_started = time.perf_counter()
    for index in range(first, len(plan)):
        phase = plan[index]
        if index > first:  # the previous phase ended with its best weights restored
            starts.append(done)
            with run.strategy.scope():
                model = _opened(model, phase, config, steps_per_epoch)
            distribute.prepare(model, run)
            stop, finished = _stopping(keras, monitor, config), False
        if len(plan) > 1 and not finished:
            rate = f"learning rate {phase.learning_rate:g}"
            log(f"Phase {index + 1} of {len(plan)} ({phase.name}): {phase.trains}, {rate}.")
        backup = resume.callback(
            resume.folder(config.out_dir), stop, config, data.classes, history, run.chief, index, starts
        )
        with warnings.catch_warnings():  # Keras warns at the end of each pass over a dataset of unknown length
            warnings.filterwarnings("ignore", message="Your input ran out of data")
            model.fit(
                train_input,
                validation_data=val_input,
                epochs=done if finished else max(done, phase.last_epoch),
                initial_epoch=done,
                callbacks=[stop, backup, *callbacks],  # in this order: the backup records early stopping's decision
                shuffle=False,  # the pipeline shuffles
                class_weight={i: w for i, w in enumerate(weights)} if weights else None,
                verbose=verbose if run.chief else 0,
            )
        done = len(history.get("loss", []))
    fitted = _Fitted(history, monitor, resumed, done - resumed, time.perf_counter() - fit_started)
    report = _report(config, run, model, data, parts, fitted)
    report["phases"] = [
        _phase_report(phase, history, monitor, start, end)
        for phase, start, end in zip(plan, starts, [*starts[1:], done])
    ]
    report["class_weight"] = dict(zip(data.classes, weights)) if weights else None
    return _finish(keras, model, config, run, data, parts, report, started, log)


UNBALANCED = 1.5  # largest class over smallest above this: "auto" weights the classes


def _finish(keras, model, config: TrainConfig, run, data, parts, report: dict, started: float, log) -> dict:
    """On the chief: evaluate on the test split, say how it compares with a constant, write the folder."""
    trained = model.get_weights()  # on every worker: reading distributed variables may communicate
    if not run.chief:
        return report
    if run.distributed:  # evaluate and save a plain single-device copy: the same artifact as a single-process run
        model = _compiled(keras.models.clone_model(model), config, 1)
        model.set_weights(trained)
    paths, labels = [data.abspath(s) for s in parts.test], [s.label for s in parts.test]
    test = evaluate_model(model, paths, labels, data.classes, config.img_size, config.batch_size, config.decode)
    log(f"Test loss {test['loss']:.4f}, test accuracy {percent(test['accuracy'])} on {test['images']} images.")
    log(metrics.format_baseline(test))
    if test["verdict"]:
        log(test["verdict"])
    report["test"] = test
    report["seconds"] = round(time.perf_counter() - started, 1)
    write_artifacts(Path(config.out_dir), model, data.classes, parts, config, report)
    resume.remove(resume.folder(config.out_dir))
    return report


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
    parts = dataset.split(data, config.test_split, config.val_split, config.seed)
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


class _Fitted(NamedTuple):
    """How the fit went: every epoch's figures, and what this run (not a resumed one) did."""

    history: dict  # Keras' history over every epoch, resumed ones included
    monitor: str  # what early stopping watched
    resumed: int  # epochs restored from the backup (0: a fresh run)
    this_run: int  # epochs this process trained
    seconds: float  # this process's time in fit


def _report(config, run, model, data, parts, fitted: _Fitted) -> dict:
    history, this_run, fit_seconds = fitted.history, fitted.this_run, fitted.seconds
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
        "resumed_after_epoch": fitted.resumed,
        "epochs_this_run": this_run,
        "best_epoch": _best_epoch(history, fitted.monitor),
        "train_images_per_second": round(len(parts.train) * this_run / fit_seconds, 1) if this_run else None,
        "seconds_per_epoch": round(fit_seconds / this_run, 2) if this_run else None,
    }


@dataclass(frozen=True)
class Phase:
    name: str  # head: the new classifier on a frozen backbone; top: also the backbone's top blocks; all
    trains: str  # what the phase trains, in words
    last_epoch: int  # epochs are counted across phases: the phase runs until this many have run
    learning_rate: float
    epochs: int  # the phase's planned length, which its learning-rate schedule spans
    unfreeze: bool = False


FINE_TUNE_RATE = 0.1  # the top phase's learning rate, a fraction of --learning-rate (Keras' guide: "very low")


def phases(config: TrainConfig) -> list:
    """The training phases of `config`: one, or for EfficientNet-Lite0 from ImageNet two that share
    the epoch budget, as Keras' transfer-learning guide and MediaPipe Model Maker do: the new head on
    the frozen backbone, then the backbone's top blocks too at a tenth of the learning rate, batch
    norms left in inference mode (efficientnet_lite.classifier). Each phase stops early on its own."""
    rate, epochs = config.learning_rate, config.epochs
    if config.weights == "none":
        return [Phase("all", "every layer", epochs, rate, epochs)]
    if config.arch != "efficientnet-lite0" or epochs < 2:
        return [Phase("head", "the new head, backbone frozen", epochs, rate, epochs)]
    head = epochs // 2
    return [
        Phase("head", "the new head, backbone frozen", head, rate, head),
        Phase("top", "the head and the backbone's top blocks", epochs, rate * FINE_TUNE_RATE, epochs - head, True),
    ]


def _opened(model, phase: Phase, config: TrainConfig, steps_per_epoch: int):
    """`model` made trainable as `phase` says and compiled with its learning rate."""
    if phase.unfreeze:
        from edgecell.train import efficientnet_lite

        efficientnet_lite.unfreeze_top(model)
    return _compiled(model, config, steps_per_epoch, phase.learning_rate, phase.epochs)


def _stopping(keras, monitor: str, config: TrainConfig):
    return keras.callbacks.EarlyStopping(monitor=monitor, patience=config.patience, restore_best_weights=True)


def _phase_report(phase: Phase, history: dict, monitor: str, start: int, end: int) -> dict:
    values = history.get(monitor, [])[start:end]
    best = start + min(range(len(values)), key=values.__getitem__) + 1 if values else None
    return {
        "name": phase.name,
        "trains": phase.trains,
        "learning_rate": phase.learning_rate,
        "first_epoch": start + 1,
        "epochs": end - start,
        "planned_last_epoch": phase.last_epoch,
        "stopped_early": end < phase.last_epoch,
        "best_epoch": best,
        f"best_{monitor}": values[best - start - 1] if best else None,
    }


def _compiled(model, config: TrainConfig, steps_per_epoch: int, learning_rate=None, epochs=None):
    """Adam with a cosine-decaying learning rate: large steps early, small ones as the run ends,
    so the last epochs refine rather than bounce around (and early stopping has a minimum worth
    keeping). The schedule follows the optimizer's step count, which a resumed run restores."""
    keras = requires.keras("`edgecell train`")
    schedule = keras.optimizers.schedules.CosineDecay(
        learning_rate or config.learning_rate,
        decay_steps=max(1, (epochs or config.epochs) * steps_per_epoch),
        alpha=0.02,
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
    from edgecell.train.pipeline import Reading, cache_prefix, image_batches

    paths, labels = [data.abspath(s) for s in samples], [s.label for s in samples]

    def make(batch_size, shard, drop_remainder):
        cache = None
        if config.cache:
            cache = cache_prefix(config.cache, part, paths, labels, config.img_size, shard, config.decode)
        augment = config.augment if shuffle else "none"
        reading = Reading(shuffle, config.seed, augment, shard, cache, drop_remainder, config.decode)
        return image_batches(paths, labels, config.img_size, batch_size, reading)

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
        f"accuracy {percent(test['accuracy'])}, always '{test['majority_class']}' {percent(test['majority_rate'])}, "
        f"balanced {percent(test['balanced_accuracy'])}"
    )
    plots.confusion(test["confusion_matrix"], classes, out / modelfolder.CONFUSION_FILE, baseline)
    with atomic.replacing(out / modelfolder.MODEL_FILE, suffix=".keras") as tmp:
        model.save(tmp)
