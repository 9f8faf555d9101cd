"""TFLite classifiers "from elsewhere" for the device tests: no edgecell metadata, normalisation
outside the model, float or full-integer I/O. Made with TensorFlow from the `trained_dir` model.

The trained model takes pixels in 0..255. The foreign one takes (pixel - 127.5) / 127.5, like
many published classifiers, so it answers right only when the runner is given --mean 127.5
--std 127.5.
"""

from pathlib import Path

import numpy as np

MEAN = STD = 127.5


def foreign_models(trained_dir: Path, colour_data: Path, out: Path) -> dict:
    """{'float': path, 'int8': path, 'labels': path} of models taking (pixel - 127.5) / 127.5."""
    import tensorflow as tf

    from edgecell.core.modelfolder import load_keras
    from edgecell.device.input.image import load_resized

    model, labels = load_keras(trained_dir)
    size = tuple(model.inputs[0].shape[1:3])
    foreign = tf.keras.Sequential(
        [
            tf.keras.Input((*size, 3)),
            tf.keras.layers.Rescaling(STD, offset=MEAN),  # back to 0..255 for the trained layers
            model,
        ]
    )
    samples = [load_resized(p, size) for p in sorted(Path(colour_data).rglob("*.png"))[::3]]

    def representative():
        for pixels in samples:
            yield [((pixels.astype(np.float32) - MEAN) / STD)[None]]

    out.mkdir(parents=True, exist_ok=True)
    paths = {"labels": out / "labels.txt"}
    paths["labels"].write_text("\n".join(labels) + "\n")

    converter = tf.lite.TFLiteConverter.from_keras_model(foreign)
    paths["float"] = out / "foreign_float.tflite"
    paths["float"].write_bytes(converter.convert())

    converter = tf.lite.TFLiteConverter.from_keras_model(foreign)
    converter.optimizations = [tf.lite.Optimize.DEFAULT]
    converter.representative_dataset = representative
    converter.target_spec.supported_ops = [tf.lite.OpsSet.TFLITE_BUILTINS_INT8]
    converter.inference_input_type = tf.int8
    converter.inference_output_type = tf.int8
    paths["int8"] = out / "foreign_int8.tflite"
    paths["int8"].write_bytes(converter.convert())
    return paths
