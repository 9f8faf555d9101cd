"""The int8 calibration set: training images only, stratified across classes."""

from collections import Counter

import pytest
from support.imagegen import colour_dataset

from edgecell.converters import calibration
from edgecell.core.errors import EdgecellError
from edgecell.core.split import Sample, Split


def _split(train_per_class, root=""):
    train = [Sample(f"{label}/{i}.png", label) for label, n in enumerate(train_per_class) for i in range(n)]
    test = [Sample(f"{label}/test.png", label) for label in range(len(train_per_class))]
    return Split([str(i) for i in range(len(train_per_class))], train, [], test, 4, 0.2, 0.1, root)


def test_the_count_is_split_in_proportion_to_each_class():
    chosen = calibration.choose(_split([600, 300, 100]), 300)
    assert len(chosen) == 300
    assert Counter(s.label for s in chosen) == {0: 180, 1: 90, 2: 30}
    assert len(set(chosen)) == 300


def test_every_class_gets_at_least_one_image():
    chosen = calibration.choose(_split([1000, 2]), 10)
    assert Counter(s.label for s in chosen)[1] >= 1 and len(chosen) == 10


def test_only_training_images_are_chosen_and_the_choice_is_repeatable():
    split = _split([50, 40, 30])
    chosen = calibration.choose(split, 60)
    assert set(chosen) <= set(split.train) and not set(chosen) & set(split.test)
    assert chosen == calibration.choose(split, 60)


def test_fewer_images_than_asked_is_a_warning(tmp_path):
    root = colour_dataset(tmp_path / "data", per_class=3, size=16)
    split = Split(
        ["blue", "green", "red"],
        [
            Sample(f"{name}/{name}_{i:03d}.png", label)
            for label, name in enumerate(["blue", "green", "red"])
            for i in range(3)
        ],
        [],
        [],
        4,
        0.2,
        0.1,
        str(root),
    )
    loaded = calibration.load(split, 300, (8, 8))
    assert loaded.images.shape == (9, 8, 8, 3) and loaded.per_class == {"blue": 3, "green": 3, "red": 3}
    assert "Only 9 training images" in loaded.warning and "--calib-samples 300" in loaded.warning
    batches = list(calibration.representative(loaded)())
    assert len(batches) == 9 and batches[0][0].shape == (1, 8, 8, 3) and batches[0][0].dtype.name == "float32"


def test_no_training_images_is_an_error():
    with pytest.raises(EdgecellError, match="no training images"):
        calibration.choose(_split([0, 0]), 10)
