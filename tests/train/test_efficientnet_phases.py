"""The training phases `edgecell train` plans: two for EfficientNet-Lite0 from ImageNet, sharing the epoch budget."""

from edgecell.cli.train import LITE0_SIZE
from edgecell.train import efficientnet_lite
from edgecell.train.config import TrainConfig
from edgecell.train.training import FINE_TUNE_RATE, phases


def _config(**settings):
    return TrainConfig(data_dir="data", out_dir="out", **settings)


def test_lite0_from_imagenet_trains_the_head_then_the_top_blocks_within_the_same_epochs():
    head, top = phases(_config(arch="efficientnet-lite0", weights="imagenet", epochs=9, learning_rate=1e-3))
    assert (head.name, head.last_epoch, head.learning_rate, head.unfreeze) == ("head", 4, 1e-3, False)
    assert (top.name, top.last_epoch, top.epochs, top.unfreeze) == ("top", 9, 5, True)
    assert top.learning_rate == 1e-3 * FINE_TUNE_RATE < head.learning_rate


def test_one_epoch_or_no_imagenet_weights_is_one_phase():
    (only,) = phases(_config(arch="efficientnet-lite0", weights="imagenet", epochs=1))
    assert only.name == "head" and not only.unfreeze
    (scratch,) = phases(_config(arch="efficientnet-lite0", weights="none", epochs=9))
    assert (scratch.name, scratch.last_epoch) == ("all", 9)
    (edge,) = phases(_config(arch="edge", epochs=9))
    assert edge.name == "all"


def test_the_cli_default_size_for_lite0_is_the_networks_imagenet_size():
    assert LITE0_SIZE == efficientnet_lite.IMG_SIZE == 224
