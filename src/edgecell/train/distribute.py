"""`edgecell train --distribute`: which tf.distribute strategy trains, and which process is the chief.

- `none`: TensorFlow's default strategy, one device, exactly the single-process training.
- `mirrored`: one process, one replica per GPU (or per logical CPU device when there is no GPU),
  gradients averaged every step.
- `multiworker`: one process per machine, the cluster read from the standard `TF_CONFIG`
  environment variable; every worker runs the same command, the chief writes the model folder.

The input pipeline is built per worker (`batches`): each worker reads only its own shard of the
file list, so no image is decoded twice and no worker holds another's data.
"""

import json
import os
from dataclasses import dataclass
from enum import Enum

from edgecell.core import requires
from edgecell.core.errors import EdgecellError

TF_CONFIG = "TF_CONFIG"
EXAMPLE_TF_CONFIG = '{"cluster": {"worker": ["host1:12345", "host2:12345"]}, "task": {"type": "worker", "index": 0}}'


class Distribute(str, Enum):
    none = "none"
    mirrored = "mirrored"
    multiworker = "multiworker"


@dataclass(frozen=True)
class Plan:
    """The strategy a run trains under and this process's place in it."""

    kind: str  # a Distribute value
    strategy: object  # the tf.distribute.Strategy; its scope() builds the model and optimizer
    replicas: int  # replicas in sync over the whole cluster (global batch = batch_size)
    workers: int  # processes taking part (1 unless multiworker)
    worker: int  # this process's index among them
    chief: bool  # writes checkpoints and the model folder

    @property
    def distributed(self) -> bool:
        return self.kind != Distribute.none.value

    def describe(self) -> dict:
        return {
            "strategy": self.kind,
            "replicas": self.replicas,
            "workers": self.workers,
            "worker": self.worker,
            "chief": self.chief,
        }


def plan(kind: str) -> Plan:
    """Create the strategy. Call it before any other TensorFlow operation of the process:
    MultiWorkerMirroredStrategy must be created before TensorFlow initialises its devices."""
    kind = Distribute(kind)
    tf = requires.tensorflow("`edgecell train`")
    if kind is Distribute.none:
        return Plan(kind.value, tf.distribute.get_strategy(), 1, 1, 0, True)
    if kind is Distribute.mirrored:
        strategy = tf.distribute.MirroredStrategy(devices=_local_devices(tf))
        return Plan(kind.value, strategy, strategy.num_replicas_in_sync, 1, 0, True)
    cluster = read_tf_config(os.environ.get(TF_CONFIG))
    strategy = tf.distribute.MultiWorkerMirroredStrategy()
    workers = len(cluster["cluster"].get("chief", [])) + len(cluster["cluster"].get("worker", []))
    task = cluster["task"]
    index = int(task["index"]) + (len(cluster["cluster"].get("chief", [])) if task["type"] == "worker" else 0)
    return Plan(kind.value, strategy, strategy.num_replicas_in_sync, workers, index, is_chief(cluster))


def _local_devices(tf) -> list:
    """Every GPU; without one, every logical CPU device (one unless the process split the CPU)."""
    gpus = tf.config.list_logical_devices("GPU")
    return [d.name for d in (gpus or tf.config.list_logical_devices("CPU"))]


def read_tf_config(text) -> dict:
    """Parse and check TF_CONFIG, so a typo is one sentence rather than a hang or a gRPC trace."""
    if not text:
        raise EdgecellError(
            f"--distribute multiworker reads the cluster from the {TF_CONFIG} environment variable, which is not set; "
            f"set it on every worker, e.g. {TF_CONFIG}='{EXAMPLE_TF_CONFIG}' (index 1 on the second machine)."
        )
    try:
        config = json.loads(text)
    except json.JSONDecodeError as error:
        raise EdgecellError(
            f"{TF_CONFIG} is not valid JSON ({error}); it should look like {EXAMPLE_TF_CONFIG}."
        ) from None
    cluster = config.get("cluster") if isinstance(config, dict) else None
    task = config.get("task") if isinstance(config, dict) else None
    if not isinstance(cluster, dict) or not (cluster.get("worker") or cluster.get("chief")):
        raise EdgecellError(
            f'{TF_CONFIG} has no "cluster" with a "worker" list; it should look like {EXAMPLE_TF_CONFIG}.'
        )
    if not isinstance(task, dict) or task.get("type") not in cluster or not isinstance(task.get("index"), int):
        raise EdgecellError(
            f'{TF_CONFIG}\'s "task" ({json.dumps(task)}) must name a task type of the cluster '
            f'({", ".join(cluster)}) and an integer index, e.g. {{"type": "worker", "index": 0}}.'
        )
    if not 0 <= task["index"] < len(cluster[task["type"]]):
        raise EdgecellError(
            f"{TF_CONFIG}'s task index {task['index']} is outside its cluster's {len(cluster[task['type']])} "
            f"{task['type']} address(es); use 0 to {len(cluster[task['type']]) - 1}."
        )
    return config


def is_chief(config: dict) -> bool:
    """The chief task if the cluster names one, otherwise worker 0 (TensorFlow's own rule)."""
    task = config["task"]
    if "chief" in config["cluster"]:
        return task["type"] == "chief"
    return task["type"] == "worker" and task["index"] == 0


def batches(run: Plan, make, global_batch: int, images: int, training: bool):
    """The input of `model.fit` under `run`'s strategy, from `make(batch_size, shard, drop_remainder)`.

    Each worker reads its own shard of the files (`shard` = (workers, this worker)) in batches of
    the global batch size; the strategy splits every batch among the worker's replicas, so one
    step over the whole cluster consumes one global batch (tf.distribute's rebatching). Keras
    needs every replica's share of a batch to be the same size, so a distributed run takes whole
    batches only: training drops each epoch's last partial batch (the shuffle varies which images
    that is) and validation uses the largest batch that divides evenly, leaving out fewer images
    than one batch. Returns None when there are too few images for even one validation batch.
    """
    if not run.distributed:
        return make(global_batch, (1, 0), False)
    per_worker = images // run.workers
    if training:
        if global_batch % run.replicas:
            raise EdgecellError(
                f"--batch-size {global_batch} does not divide among the {run.replicas} replicas training in sync; "
                f"use a multiple of {run.replicas}, e.g. {run.replicas * max(1, round(global_batch / run.replicas))}."
            )
        if per_worker < global_batch:
            raise EdgecellError(
                f"{images} training images give each of {run.workers} worker(s) fewer than one batch of "
                f"{global_batch}; "
                f"use a smaller --batch-size or more images."
            )
        return _unknown_length(make(global_batch, (run.workers, run.worker), True), run)
    batch = min(global_batch, per_worker) // run.replicas * run.replicas
    return _unknown_length(make(batch, (run.workers, run.worker), True), run) if batch else None


def _unknown_length(dataset, run: Plan):
    """Keras takes an epoch's steps from the length of a worker's dataset, but with several workers
    each of its batches makes `workers` steps (every step takes a share of it): Keras would stop
    each epoch part-way. Of a dataset of unknown length, it runs until the data ends."""
    return dataset.filter(lambda *element: True) if run.workers > 1 else dataset


def prepare(model, run: Plan) -> None:
    """Make Keras 3's `fit` work under MultiWorkerMirroredStrategy (keras-team/keras#20585, open).

    Two steps fail there. Before the first batch, `fit` builds the metrics from a batch it first
    reduces across replicas, a reduce that fails on an (images, labels) pair: building needs only
    the shapes and types of a batch, so this builds from this worker's own share of it. After each
    step, `fit` averages the logged metrics of all replicas along axis 0, which the scalars it
    logs do not have: each replica's train and test step here logs them with a batch axis of one.
    """
    if run.kind != Distribute.multiworker.value:
        return
    tf = requires.tensorflow("`edgecell train`")
    strategy = run.strategy

    def build_from_local_batch(iterator=None, data_batch=None):
        if iterator is not None:
            for _, _, batches in iterator:
                data_batch = next(batches)
                break
        local = strategy.experimental_local_results
        data_batch = tuple(local(part)[0] if hasattr(part, "values") else part for part in data_batch)
        with strategy.scope():
            model._symbolic_build(data_batch=data_batch)

    def with_batch_axis(step):
        def logged(data):
            return tf.nest.map_structure(lambda value: tf.reshape(value, [1]), step(data))

        return logged

    model._maybe_symbolic_build = build_from_local_batch
    model.train_step = with_batch_axis(model.train_step)
    model.test_step = with_batch_axis(model.test_step)
