"""Training end to end on tiny generated data: artifacts, report, colour order, architectures."""

import json

import numpy as np
import pytest
from support.imagegen import COLOURS, colour_dataset, colour_image

from edgecell.core import modelfolder
from edgecell.core.split import read_split
from edgecell.device.input.classfolder import scan
from edgecell.device.input.image import load_resized
from edgecell.train.config import TrainConfig

pytestmark = pytest.mark.tf

ARTIFACTS = [
    "model.keras",
    "labels.txt",
    "split.json",
    "config.json",
    "train_report.json",
    "curves.png",
    "confusion.png",
]


def test_training_writes_every_artifact(trained_dir):
    for name in ARTIFACTS:
        assert (trained_dir / name).stat().st_size > 0, name
    assert not list(trained_dir.glob(".*partial*"))
    assert (trained_dir / "labels.txt").read_text().split() == sorted(COLOURS)
    report = json.loads((trained_dir / "train_report.json").read_text())
    assert report["classes"] == sorted(COLOURS)
    assert report["images"]["test"] == {name: 4 for name in sorted(COLOURS)}
    assert report["test"]["images"] == 12
    assert len(report["test"]["confusion_matrix"]) == 3
    assert {row["class"] for row in report["test"]["per_class"]} == set(COLOURS)
    assert report["epochs_run"] == len(report["history"]["loss"]) >= 1
    assert TrainConfig.read(trained_dir).img_size == 32


def test_colour_only_classes_are_learned(trained_dir):
    """Classes differ only by colour: any BGR/RGB swap between training and use fails this."""
    report = json.loads((trained_dir / "train_report.json").read_text())
    assert report["test"]["accuracy"] == 1.0
    model, labels = modelfolder.load_keras(trained_dir)
    rng = np.random.default_rng(99)
    for name, rgb in COLOURS.items():
        pixels = colour_image(rgb, 32, rng)[None].astype(np.float32)
        assert labels[int(model.predict(pixels, verbose=0).argmax())] == name


def test_training_and_device_see_the_same_pixels(trained_dir):
    """One function decodes for both: the tf.data pipeline yields exactly load_resized's pixels."""
    from edgecell.train.pipeline import image_batches

    split = read_split(trained_dir)
    paths = [f"{split.root}/{s.path}" for s in split.test[:4]]
    images, labels = next(iter(image_batches(paths, [s.label for s in split.test[:4]], 24, 4)))
    for path, pixels in zip(paths, images.numpy()):
        np.testing.assert_array_equal(pixels, load_resized(path, (24, 24)).astype(np.float32))


def test_skipped_files_are_reported(tmp_path):
    """Four classes with a truncated JPEG, a zero-byte file and a text file among them."""
    from edgecell.train.training import train

    root = colour_dataset(
        tmp_path / "TRAIN",
        per_class=5,
        ext=".jpeg",
        size=24,
        colours={
            "EOSINOPHIL": (200, 60, 60),
            "LYMPHOCYTE": (60, 200, 60),
            "MONOCYTE": (60, 60, 200),
            "NEUTROPHIL": (220, 220, 40),
        },
    )
    jpeg = (root / "MONOCYTE" / "MONOCYTE_000.jpeg").read_bytes()
    (root / "MONOCYTE" / "truncated.jpeg").write_bytes(jpeg[:200])
    (root / "EOSINOPHIL" / "zero.jpeg").write_bytes(b"")
    (root / "LYMPHOCYTE" / "readme.txt").write_text("notes")
    lines = []
    report = train(
        TrainConfig(str(root), str(tmp_path / "out"), img_size=24, epochs=1, batch_size=8), verbose=0, log=lines.append
    )
    assert {s["path"] for s in report["skipped"]} == {"MONOCYTE/truncated.jpeg", "EOSINOPHIL/zero.jpeg"}
    assert any(line.startswith("Skipped 2 file(s)") for line in lines)
    assert report["images"]["total"] == 20
    assert all((tmp_path / "out" / name).exists() for name in ARTIFACTS)
    saved = json.loads((tmp_path / "out" / "train_report.json").read_text())
    assert saved["skipped"] == report["skipped"]


def test_seed_network_is_the_tutorials_and_edge_is_a_tenth_of_it():
    from edgecell.train import networks

    seed = networks.build("tutorial", 4, 200)
    edge = networks.build("edge", 4, 200)
    kinds = [type(layer).__name__ for layer in seed.layers]
    assert kinds == [
        "InputLayer",
        "Rescaling",
        "Conv2D",
        "MaxPooling2D",
        "Conv2D",
        "MaxPooling2D",
        "Flatten",
        "Dense",
        "Dense",
    ]
    assert seed.count_params() == 10_250_788  # 896 + 9,248 + 80,000 x 128 + 128 + 516
    assert edge.count_params() <= seed.count_params() / 10
    assert edge.output_shape == (None, 4)


def test_mobilenetv2_builds_without_downloading():
    from edgecell.train import networks

    model = networks.build("mobilenetv2", 3, 96, weights="none")
    assert model.output_shape == (None, 3)


def test_weights_only_for_mobilenetv2():
    from edgecell.core.errors import EdgecellError
    from edgecell.train import networks

    with pytest.raises(EdgecellError, match="--weights imagenet is only available for --arch mobilenetv2"):
        networks.build("edge", 3, 32, weights="imagenet")


def test_evaluate_on_split_and_on_another_folder(trained_dir, colour_data):
    from edgecell.train.evaluation import evaluate

    on_split = evaluate(trained_dir)
    assert on_split["images"] == 12 and on_split["accuracy"] == 1.0 and on_split["loss"] < 0.5
    on_folder = evaluate(trained_dir, colour_data)
    assert on_folder["images"] == len(scan(colour_data).samples) == 60


def test_batch_norm_follows_the_weights_on_small_datasets():
    from edgecell.train.networks import batch_norm_momentum

    assert batch_norm_momentum(5) == 0.5  # the colour fixture: 5 steps an epoch
    assert batch_norm_momentum(81) == pytest.approx(0.95, abs=0.01)  # the digits demo
    assert batch_norm_momentum(625) == 0.99  # the tutorial's 10,000 training images at batch 16
