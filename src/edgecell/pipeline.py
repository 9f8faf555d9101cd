"""The streaming tf.data input pipeline.

Only file paths are held in memory; images are decoded (with the device's own `load_resized`,
so training sees the pixels the board will see) a batch at a time in parallel and prefetched
a bounded number of batches ahead. Peak memory does not grow with the number of images.
"""

from edgecell import requires
from edgecell.device.image import load_resized

PREFETCH_BATCHES = 2


def image_batches(paths, labels, img_size: int, batch_size: int, shuffle: bool = False, seed: int = 4,
                  augment: bool = False):
    tf = requires.tensorflow("The training input pipeline")
    size = (img_size, img_size)
    paths = [str(p) for p in paths]
    ds = tf.data.Dataset.from_tensor_slices((paths, list(labels)))
    if shuffle:
        ds = ds.shuffle(len(paths), seed=seed, reshuffle_each_iteration=True)

    def load(path):
        return load_resized(path.decode("utf-8"), size)

    def decode(path, label):
        image = tf.numpy_function(load, [path], tf.uint8, stateful=False)
        image.set_shape((img_size, img_size, 3))
        return tf.cast(image, tf.float32), label

    ds = ds.map(decode, num_parallel_calls=tf.data.AUTOTUNE, deterministic=True)
    ds = ds.batch(batch_size)
    if augment:
        ds = ds.map(_augmenter(seed), num_parallel_calls=tf.data.AUTOTUNE)
    return ds.prefetch(PREFETCH_BATCHES)


def _augmenter(seed: int):
    """Random flips, small rotations, zoom and brightness, applied to pixels in 0..255.

    Applied in the pipeline, not in the model, so the exported model carries no random layers.
    """
    keras = requires.keras("Augmentation")
    layers = keras.layers
    augment = keras.Sequential(
        [
            layers.RandomFlip("horizontal", seed=seed),
            layers.RandomRotation(0.05, fill_mode="reflect", seed=seed),
            layers.RandomZoom(0.1, fill_mode="reflect", seed=seed),
            layers.RandomBrightness(0.1, value_range=(0, 255), seed=seed),
        ]
    )

    def apply(images, labels):
        return augment(images, training=True), labels

    return apply
