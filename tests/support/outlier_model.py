"""A classifier that full-integer int8 quantization ruins: one layer writes an outlier channel.

The `features` layer passes the colour through (values 0..1) beside a channel 1,000 times larger;
int8 activations have one scale per tensor, so that scale (about 12) rounds every colour channel to
nothing and the model answers one class for everything. In float it separates `colour_data`'s
three classes perfectly. Two wide dense layers after it hold most of the weights (int8 is a quarter
of float32). Weights are set by hand: nothing to train, the same model every time.
"""

import shutil
from pathlib import Path

import numpy as np

OUTLIER = 1000.0
WIDTH = 256  # two dense layers this wide hold most of the weights, so int8 is a quarter of float32


def build(classes=("blue", "green", "red")):
    import keras

    layers = keras.layers
    inputs = keras.Input((32, 32, 3), name="pixels")
    x = layers.Rescaling(1.0 / 255)(inputs)
    x = layers.Conv2D(4, 1, name="features")(x)
    x = layers.Conv2D(3, 3, padding="same", activation="relu", name="mix")(x)
    x = layers.GlobalAveragePooling2D()(x)
    x = layers.Dense(WIDTH, activation="relu", name="hidden")(x)
    x = layers.Dense(WIDTH, activation="relu", name="deep")(x)
    outputs = layers.Dense(len(classes), activation="softmax", name="probabilities")(x)
    model = keras.Model(inputs, outputs, name="outlier")

    features = np.zeros((1, 1, 3, 4), np.float32)
    features[0, 0, :, :3] = np.eye(3)  # R, G, B through
    features[0, 0, :, 3] = OUTLIER  # the outlier channel: brightness times 1,000
    model.get_layer("features").set_weights([features, np.zeros(4, np.float32)])
    mix = np.zeros((3, 3, 4, 3), np.float32)
    mix[1, 1, :3, :3] = np.eye(3)  # reads the colour, ignores the outlier channel
    model.get_layer("mix").set_weights([mix, np.zeros(3, np.float32)])
    hidden = np.zeros((3, WIDTH), np.float32)
    hidden[:, :3] = np.eye(3)  # the three channel means, and units that stay at zero
    model.get_layer("hidden").set_weights([hidden, np.zeros(WIDTH, np.float32)])
    model.get_layer("deep").set_weights([np.eye(WIDTH, dtype=np.float32), np.zeros(WIDTH, np.float32)])
    channel = {"red": 0, "green": 1, "blue": 2}  # colour_data's classes, by their strongest channel
    decide = np.zeros((WIDTH, len(classes)), np.float32)
    for column, name in enumerate(classes):
        decide[:3, column] = -10.0
        decide[channel[name], column] = 20.0
    model.get_layer("probabilities").set_weights([decide, np.zeros(len(classes), np.float32)])
    return model


def model_folder(trained_dir: Path, out: Path) -> Path:
    """`trained_dir` (labels, split, config as `edgecell train` wrote them) with this model in it."""
    folder = shutil.copytree(trained_dir, out)
    build().save(folder / "model.keras")
    return folder
