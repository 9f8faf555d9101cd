"""The streaming tf.data input pipeline.

Only file paths are held in memory; images are decoded (with the device's own `load_resized`
under the model's decode rule, so training sees the pixels the board will see) a batch at a time
in parallel and prefetched a bounded number of batches ahead. Peak memory does not grow with the number of images.

With `cache`, the decoded uint8 images are written to a file on the first pass and read back
from it afterwards (tf.data's file cache), for data that is slow to decode; the reshuffle of
later passes then uses a buffer bounded in bytes, so memory stays bounded too.
"""

import hashlib
from dataclasses import dataclass
from pathlib import Path
from typing import Optional

from edgecell.core import requires
from edgecell.device.input import decode_scale
from edgecell.device.input.image import load_resized

PREFETCH_BATCHES = 2
CACHE_SHUFFLE_BYTES = 8 * 2**20  # the reshuffle buffer of a cached pipeline holds at most this much


@dataclass(frozen=True)
class Reading:
    """How one part's images are read: the defaults read every file once, in order (evaluation).

    `shard` is (shards, index): the pipeline reads only every shards-th file, from `index` on (one
    shard per worker of a distributed training); every shard is cut to the same length (at most
    shards - 1 files are left out), so that all workers run the same number of steps. `cache` is a
    file prefix (see `cache_prefix`). `decode` is the decode rule (`decode_scale`).
    """

    shuffle: bool = False
    seed: int = 4
    augment: str = "none"  # a policy of AUGMENT_POLICIES
    shard: tuple = (1, 0)
    cache: Optional[str] = None
    drop_remainder: bool = False
    decode: str = decode_scale.DEFAULT


def image_batches(paths, labels, img_size: int, batch_size: int, reading: Reading = Reading()):
    """Batches of (float32 RGB pixels in 0..255, label), read as `reading` says."""
    tf = requires.tensorflow("The training input pipeline")
    shuffle, seed, augment, shard, cache, drop_remainder, decode_rule = (
        reading.shuffle,
        reading.seed,
        reading.augment,
        reading.shard,
        reading.cache,
        reading.drop_remainder,
        reading.decode,
    )
    size = (img_size, img_size)
    paths = [str(p) for p in paths]
    ds = tf.data.Dataset.from_tensor_slices((paths, list(labels)))
    shards, index = shard
    count = len(paths) // shards if shards > 1 else len(paths)
    if shards > 1:
        ds = ds.shard(shards, index).take(count)  # before decoding: a worker never decodes another's images
    if shuffle:  # only paths are shuffled here, so the buffer costs bytes per image, not pixels
        ds = ds.shuffle(max(count, 1), seed=seed, reshuffle_each_iteration=cache is None)

    def load(path):
        return load_resized(path.decode("utf-8"), size, decode_rule)

    def decode(path, label):
        image = tf.numpy_function(load, [path], tf.uint8, stateful=False)
        image.set_shape((img_size, img_size, 3))
        return image, label

    ds = ds.map(decode, num_parallel_calls=tf.data.AUTOTUNE, deterministic=True)
    if cache is not None:
        ds = ds.cache(str(cache))
        if shuffle:
            ds = ds.shuffle(max(1, min(count, CACHE_SHUFFLE_BYTES // (img_size * img_size * 3))), seed=seed)
    ds = ds.batch(batch_size, drop_remainder=drop_remainder)
    ds = ds.map(lambda images, labels: (tf.cast(images, tf.float32), labels), num_parallel_calls=tf.data.AUTOTUNE)
    if augment and augment != "none":
        ds = ds.map(_augmenter(seed, augment), num_parallel_calls=tf.data.AUTOTUNE)
    options = tf.data.Options()
    options.experimental_distribute.auto_shard_policy = tf.data.experimental.AutoShardPolicy.OFF  # sharded above
    return ds.with_options(options).prefetch(PREFETCH_BATCHES)


def cache_prefix(cache, part: str, paths, labels, img_size: int, shard=(1, 0), decode=decode_scale.DEFAULT) -> str:
    """The cache file prefix of one part of one run: `--cache` plus what the cached tensors depend on.

    A cache made from other files, another image size or another shard is never read back by
    mistake: it has another name (nor one decoded under another decode rule). `cache` may be a
    folder (the files go inside it) or a file prefix.
    """
    cache = Path(cache)
    if cache.is_dir():
        cache = cache / "edgecell"
    cache.parent.mkdir(parents=True, exist_ok=True)
    key = (img_size, tuple(shard), [str(p) for p in paths], list(labels))
    if decode != decode_scale.FULL:  # caches written before decode rules existed keep their names
        key += (decode,)
    digest = hashlib.sha256(repr(key).encode())
    prefix = f"{cache}.{part}-{img_size}px-{shard[1]}of{shard[0]}-{digest.hexdigest()[:12]}"
    if not Path(f"{prefix}.index").exists():  # a first pass that was interrupted leaves a lock behind
        for leftover in cache.parent.glob(f"{Path(prefix).name}_*"):
            leftover.unlink(missing_ok=True)
    return prefix


AUGMENT_POLICIES = {
    "none": "no augmentation",
    "upright": "small shifts, zoom and brightness; never mirrors or rotates (safe for digits and text)",
    "any-orientation": "upright's changes plus mirroring both ways and any rotation "
    "(for pictures with no up or down: microscopy, aerial images)",
    "classic": "horizontal mirroring, small rotations, zoom and brightness (the former --augment)",
}


def _augmenter(seed: int, policy: str = "classic"):
    """The random changes of one policy (AUGMENT_POLICIES), applied to pixels in 0..255.

    Applied in the pipeline, not in the model, so the exported model carries no random layers.
    """
    keras = requires.keras("Augmentation")
    layers = keras.layers
    light = [
        layers.RandomZoom(0.1, fill_mode="reflect", seed=seed),
        layers.RandomBrightness(0.1, value_range=(0, 255), seed=seed),
    ]
    steps = {
        "upright": [layers.RandomTranslation(0.05, 0.05, fill_mode="reflect", seed=seed), *light],
        "any-orientation": [
            layers.RandomFlip("horizontal_and_vertical", seed=seed),
            layers.RandomRotation(0.5, fill_mode="reflect", seed=seed),
            *light,
        ],
        "classic": [
            layers.RandomFlip("horizontal", seed=seed),
            layers.RandomRotation(0.05, fill_mode="reflect", seed=seed),
            *light,
        ],
    }[policy]
    augment = keras.Sequential(steps)

    def apply(images, labels):
        return augment(images, training=True), labels

    return apply
