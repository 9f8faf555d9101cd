"""`edgecell train --resume`: the training state backed up after every epoch, and restored.

Keras' own BackupAndRestore keeps the weights and the epoch number; a run restored from it forgets
early stopping (its best loss, its patience count, its best weights) and the history of the
epochs before the interruption. This backup keeps all of it, so an interrupted run ends with the
model and report an uninterrupted one would have, having trained only the epochs that were left.

The backup lives in `<out>/backup/`: one `state.json` naming the files of the last completed
epoch (weights with the optimizer state, and early stopping's best weights). Each file is written
beside its target and renamed, `state.json` last, so a kill at any moment leaves the previous
complete state readable. Only the chief of a distributed run writes here; the other workers save
into a temporary folder (saving reads every variable, which takes part in cross-worker
communication) that they delete. The backup is removed once the model folder is written.
"""

import json
import shutil
from pathlib import Path

import numpy as np

from edgecell.core import atomic
from edgecell.core.errors import EdgecellError

BACKUP_DIR = "backup"
STATE_FILE = "state.json"
# What the saved weights depend on: resuming with another value of these cannot load them.
MODEL_SETTINGS = ("arch", "weights", "img_size", "data_dir", "test_split", "val_split", "seed")


def folder(out_dir) -> Path:
    return Path(out_dir) / BACKUP_DIR


def read(backup: Path):
    """The last backed-up state, or None when there is no complete backup."""
    path = Path(backup) / STATE_FILE
    return json.loads(path.read_text()) if path.is_file() else None


def restore(model, stop, state: dict, backup: Path, config, classes) -> int:
    """Load a backed-up state into `model` and `stop` (EarlyStopping); return the epochs already run."""
    recorded, current = state["settings"], settings(config)
    for name in MODEL_SETTINGS:
        if recorded.get(name) != current[name]:
            raise EdgecellError(
                f"The backup in {backup} was made with {name}={recorded.get(name)!r}, not {current[name]!r}; "
                f"rerun with the same settings to resume it, or without --resume to start over."
            )
    if state["classes"] != classes:
        raise EdgecellError(
            f"The backup in {backup} was made for the classes {', '.join(state['classes'])}, not {', '.join(classes)}; "
            f"rerun without --resume to start over."
        )
    if not model.optimizer.built:
        model.optimizer.build(model.trainable_variables)
    model.load_weights(Path(backup) / state["weights"])
    stop.restored = state["stopping"]
    if state.get("best_weights"):
        with np.load(Path(backup) / state["best_weights"]) as arrays:
            stop.restored["best_weights"] = [arrays[f"arr_{i}"] for i in range(len(arrays.files))]
    return int(state["epoch"])


def settings(config) -> dict:
    """The MODEL_SETTINGS of `config`, the dataset folder as an absolute path (TRAIN and ./TRAIN are one)."""
    values = {name: getattr(config, name) for name in MODEL_SETTINGS}
    values["data_dir"] = str(Path(config.data_dir).resolve())
    return values


def remove(backup: Path) -> None:
    shutil.rmtree(backup, ignore_errors=True)


def callback(backup: Path, stop, config, classes, history: dict, chief: bool, phase: int = 0, starts=(0,)):
    """A Keras callback that writes the backup after each epoch (placed after `stop` in the list);
    `phase` is the index of the training phase (training.phases) the epoch belongs to, `starts` the
    epoch each phase so far began at."""
    import tempfile

    import keras

    class Backup(keras.callbacks.Callback):
        def on_train_begin(self, logs=None):
            restored = getattr(stop, "restored", None)
            if restored:  # EarlyStopping.on_train_begin has just reset itself: give it its state back
                stop.wait, stop.best, stop.best_epoch = restored["wait"], restored["best"], restored["best_epoch"]
                stop.best_weights = restored.get("best_weights")
            self.target = Path(backup) if chief else Path(tempfile.mkdtemp(prefix="edgecell-backup-"))

        def on_epoch_end(self, epoch, logs=None):
            for key, value in (logs or {}).items():
                history.setdefault(key, []).append(float(value))
            weights = f"epoch-{epoch + 1:04d}.weights.h5"
            with atomic.replacing(self.target / weights, suffix=".weights.h5") as tmp:
                self.model.save_weights(tmp)
            best = None
            if stop.best_weights is not None:
                best = f"best-{stop.best_epoch + 1:04d}.npz"
                if not (self.target / best).exists():
                    with atomic.replacing(self.target / best, suffix=".npz") as tmp:
                        np.savez(tmp, *stop.best_weights)
            state = {
                "epoch": epoch + 1,
                "phase": phase,
                "phase_starts": list(starts),
                "stopped": bool(self.model.stop_training),
                "weights": weights,
                "best_weights": best,
                "stopping": {"wait": stop.wait, "best": _number(stop.best), "best_epoch": stop.best_epoch},
                "history": history,
                "classes": classes,
                "settings": settings(config),
            }
            atomic.write_json(self.target / STATE_FILE, state)
            for old in self.target.iterdir():  # files of earlier epochs, now superseded
                if old.name not in (STATE_FILE, weights, best):
                    old.unlink(missing_ok=True)

        def on_train_end(self, logs=None):
            if not chief:
                remove(self.target)

    return Backup()


def _number(value):
    return None if value is None else float(value)
