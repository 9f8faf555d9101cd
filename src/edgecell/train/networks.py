"""The networks `edgecell train --arch` builds. Each takes RGB pixels in 0..255 (the
preprocessing contract) and scales them with its own first layer."""

from enum import Enum

from edgecell.core import requires
from edgecell.core.errors import EdgecellError


class Arch(str, Enum):
    edge = "edge"
    tutorial = "tutorial"
    mobilenetv2 = "mobilenetv2"
    efficientnet_lite0 = "efficientnet-lite0"  # ImageNet weights from an installed package (efficientnet_lite.py)


OLD_NAMES = {"seed": "tutorial"}  # config.json of models trained before 0.2 says "seed"


class Weights(str, Enum):
    none = "none"
    imagenet = "imagenet"


def build(arch: str, num_classes: int, img_size: int, weights: str = "none", steps_per_epoch: int = 0):
    """`steps_per_epoch` (0: unknown) sets how fast batch norm's moving statistics follow the weights."""
    arch = Arch(OLD_NAMES.get(arch, arch))
    if arch is Arch.efficientnet_lite0:
        from edgecell.train import efficientnet_lite

        return efficientnet_lite.classifier(num_classes, img_size, weights)
    if weights != "none" and arch is not Arch.mobilenetv2:
        raise EdgecellError(
            f"--weights {weights} is only available for --arch mobilenetv2 and efficientnet-lite0; use --weights none."
        )
    builder = {Arch.tutorial: tutorial, Arch.edge: edge, Arch.mobilenetv2: mobilenetv2}[arch]
    if arch is Arch.mobilenetv2:
        return builder(num_classes, img_size, weights)
    if arch is Arch.edge:
        return builder(num_classes, img_size, bn_momentum=batch_norm_momentum(steps_per_epoch))
    return builder(num_classes, img_size)


def batch_norm_momentum(steps_per_epoch: int) -> float:
    """Momentum of batch norm's moving statistics, so they follow the last quarter epoch or so.

    Keras' default (0.99) averages over ~100 steps. On a small dataset with a handful of steps an
    epoch, the moving statistics then lag the weights by several epochs: validation loss (which
    uses them) does not improve, early stopping keeps the first epoch, and the model predicts one
    class. Blood-cell-sized data (600 steps an epoch) keeps 0.99; 5 steps an epoch get 0.5.
    """
    if steps_per_epoch <= 0:
        return 0.9
    return float(min(0.99, max(0.5, 1.0 - 4.0 / steps_per_epoch)))


def tutorial(num_classes: int, img_size: int = 200):
    """The tutorial's network, made correct: it was missing the Flatten before its Dense layers."""
    keras = requires.keras("Building a network")
    layers = keras.layers
    inputs = keras.Input((img_size, img_size, 3), name="pixels")
    x = layers.Rescaling(1.0 / 255)(inputs)
    x = layers.Conv2D(32, 3, padding="same", activation="relu")(x)
    x = layers.MaxPooling2D(2)(x)
    x = layers.Conv2D(32, 3, padding="same", activation="relu")(x)
    x = layers.MaxPooling2D(2)(x)
    x = layers.Flatten()(x)
    x = layers.Dense(128, activation="relu")(x)
    outputs = layers.Dense(num_classes, activation="softmax", name="probabilities")(x)
    return keras.Model(inputs, outputs, name="tutorial")


# (filters, stride) of each depthwise-separable block after the stem.
EDGE_BLOCKS = ((32, 1), (64, 2), (64, 1), (128, 2), (128, 1))


def edge(num_classes: int, img_size: int = 200, stem: int = 16, blocks=EDGE_BLOCKS, bn_momentum: float = 0.9):
    """A small network for int8 on a Pi-class CPU.

    A strided stem, depthwise-separable blocks (ops XNNPACK and TFLite's int8 kernels run fast),
    batch norm folded into the convolutions at export, ReLU6 (bounded, so one int8 scale fits it),
    and global average pooling (no Flatten-to-Dense, so parameters do not grow with input size).
    """
    keras = requires.keras("Building a network")
    layers = keras.layers

    def conv_bn(x, filters, kernel, stride, name):
        x = layers.Conv2D(filters, kernel, strides=stride, padding="same", use_bias=False, name=f"{name}_conv")(x)
        x = layers.BatchNormalization(momentum=bn_momentum, name=f"{name}_bn")(x)
        return layers.ReLU(6.0, name=f"{name}_relu")(x)

    inputs = keras.Input((img_size, img_size, 3), name="pixels")
    x = layers.Rescaling(1.0 / 255)(inputs)
    x = conv_bn(x, stem, 3, 2, "stem")
    for i, (filters, stride) in enumerate(blocks):
        x = layers.DepthwiseConv2D(3, strides=stride, padding="same", use_bias=False, name=f"block{i}_dw")(x)
        x = layers.BatchNormalization(momentum=bn_momentum, name=f"block{i}_dw_bn")(x)
        x = layers.ReLU(6.0, name=f"block{i}_dw_relu")(x)
        x = conv_bn(x, filters, 1, 1, f"block{i}_pw")
    x = layers.GlobalAveragePooling2D()(x)
    x = layers.Dropout(0.2)(x)
    outputs = layers.Dense(num_classes, activation="softmax", name="probabilities")(x)
    return keras.Model(inputs, outputs, name="edge")


def mobilenetv2(num_classes: int, img_size: int = 224, weights: str = "none", alpha: float = 1.0):
    """MobileNetV2 for transfer learning; with ImageNet weights the backbone starts frozen."""
    keras = requires.keras("Building a network")
    layers = keras.layers
    try:
        backbone = keras.applications.MobileNetV2(
            input_shape=(img_size, img_size, 3),
            include_top=False,
            weights=None if weights == "none" else weights,
            alpha=alpha,
        )
    except Exception as error:  # download failures surface as several exception types
        raise EdgecellError(
            f"Could not get the ImageNet weights for MobileNetV2 ({type(error).__name__}: {error}); "
            "connect this machine to the internet once, use --arch efficientnet-lite0 (ImageNet weights installed "
            "from the package index, no download), or train from scratch with --weights none."
        ) from None
    if weights != "none":
        backbone.trainable = False
    inputs = keras.Input((img_size, img_size, 3), name="pixels")
    x = layers.Rescaling(1.0 / 127.5, offset=-1.0)(inputs)  # MobileNetV2 expects [-1, 1]
    x = backbone(x)
    x = layers.GlobalAveragePooling2D()(x)
    x = layers.Dropout(0.2)(x)
    outputs = layers.Dense(num_classes, activation="softmax", name="probabilities")(x)
    return keras.Model(inputs, outputs, name="mobilenetv2")
