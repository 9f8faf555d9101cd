"""The Keras model as a baseline row of `edgecell bench --keras`: timed as a tutorial user runs it
(`model.predict` on one image) and as a careful one would (`model(x, training=False)`), with the
same Run rows and helpers as the .tflite models in `edgecell.device.benchmark`."""

import time
from pathlib import Path
from typing import Optional

import numpy as np

from edgecell.core import modelfolder
from edgecell.core.errors import EdgecellError
from edgecell.device.benchmark import (
    MAX_INPUTS,
    Images,
    Run,
    decoded,
    peak_memory_mb,
    random_inputs,
    time_end_to_end,
    timed,
)
from edgecell.device.input import decode_scale, image


def keras_baseline(
    model_dir, runs: int = 200, warmup: int = 20, images: Optional[Images] = None, full_decode: bool = False
) -> list:
    """The Keras model timed as a tutorial user runs it (`model.predict` on one image) and as a
    careful one would (`model(x, training=False)`): two Runs, images decoded under the model
    folder's decode rule (every pixel with `full_decode`). Imports TensorFlow."""
    decode = decode_scale.of_model_folder(model_dir, full_decode)
    start = time.perf_counter()
    model, labels = modelfolder.load_keras(model_dir)
    init_ms = (time.perf_counter() - start) * 1000
    import tensorflow as tf

    size = int(model.inputs[0].shape[1]), int(model.inputs[0].shape[2])
    if images is not None and list(labels) != list(images.classes):
        raise EdgecellError(
            f"The classes of the --data images ({', '.join(images.classes)}) are not the classes "
            f"of {model_dir} ({', '.join(labels)}); give images of the model's own classes."
        )
    if images is not None:
        fit = decode_scale.fit(decode, size)
        inputs = [image.resize(rgb, size).astype(np.float32)[None] for rgb in decoded(images.paths[:MAX_INPUTS], fit)]
    else:
        inputs = random_inputs((1, *size, 3), np.float32)
    file_size = (Path(model_dir) / modelfolder.MODEL_FILE).stat().st_size
    name = f"tensorflow {tf.__version__}"
    calls = {
        "keras predict": lambda x: model.predict(x, verbose=0),
        "keras call": lambda x: np.asarray(model(x, training=False)),
    }
    rows = []
    for label, call in calls.items():
        first_ms, invoke, rate = timed(call, inputs, runs, warmup)
        accuracy, end_to_end, compared = None, None, None
        if images is not None:

            def classify(path, call=call):
                return call(image.load_resized(path, size, decode).astype(np.float32)[None])[0]

            accuracy, end_to_end, compared = time_end_to_end(classify, images)
        rows.append(
            Run(
                label,
                "keras float32",
                name,
                None,
                file_size,
                init_ms,
                first_ms,  # one load, both rows
                invoke,
                rate,
                peak_memory_mb(),
                len(images.paths) if images else 0,
                accuracy,
                end_to_end,
                compared,
            )
        )
    return rows
