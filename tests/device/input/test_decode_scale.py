"""Decode scale: the rule (a pure function of the declared size and the model's input) and the
pixels it gives, through real JPEGs decoded by OpenCV."""

import cv2
import numpy as np
import pytest
from support.imagegen import write_rgb

from edgecell.core.errors import EdgecellError
from edgecell.device.input import decode_scale
from edgecell.device.input.decode_scale import reduction
from edgecell.device.input.image import load_resized, load_rgb


@pytest.mark.parametrize(
    "width, height, size, factor",
    [
        (4000, 3000, (128, 128), 8),  # a phone photo for a small model: 500x375
        (4000, 3000, (224, 224), 8),  # 500x375 still >= 224
        (4000, 3000, (400, 400), 4),  # 1/8 would give 375 rows, under 400
        (1600, 1200, (224, 224), 4),  # 400x300; 1/8 would be 200x150
        (1600, 1200, (600, 600), 2),  # 800x600
        (1600, 1200, (601, 601), 1),  # under twice the input in height: as today
        (448, 448, (224, 224), 2),  # exactly twice: 1/2 gives exactly the input
        (447, 4000, (224, 224), 1),  # one side under twice the input
        (1025, 1025, (128, 128), 8),  # libjpeg rounds up: ceil(1025 / 8) = 129
        (1017, 1017, (128, 128), 8),  # ceil(1017 / 8) = 128: exactly the input
        (1016, 1016, (128, 128), 4),  # 1016 / 8 = 127: one short
        (32, 32, (32, 32), 1),
        (3000, 4000, (96, 160), 8),  # a non-square input: compared with its larger side (EXIF turns)
        (640, 4000, (96, 160), 4),
    ],
)
def test_reduction_is_the_largest_factor_keeping_both_sides_at_least_the_input(width, height, size, factor):
    assert reduction(width, height, size) == factor


def test_reduction_never_goes_under_the_input_on_any_size():
    for need in (1, 7, 32, 128, 224, 299):
        for width in range(need, 9 * need + 9, max(1, need // 5)):
            for height in (need, 2 * need - 1, 2 * need, 5 * need + 3, 8 * need, 8 * need + 1):
                factor = reduction(width, height, (need, need))
                assert factor in (1, 2, 4, 8)
                if factor > 1:
                    assert width >= 2 * need and height >= 2 * need
                    assert -(-width // factor) >= need and -(-height // factor) >= need
                    if factor < 8:  # the next factor would have gone under
                        assert -(-width // (2 * factor)) < need or -(-height // (2 * factor)) < need


def test_fit_follows_the_rule():
    assert decode_scale.fit(decode_scale.JPEG_REDUCED, (128, 96)) == (128, 96)
    assert decode_scale.fit(decode_scale.FULL, (128, 96)) is None
    with pytest.raises(EdgecellError, match="'jpeg-reduced-v9'.*upgrade edgecell, or pass --full-decode"):
        decode_scale.check_rule("jpeg-reduced-v9", "model.tflite")


def photo(width, height, seed=0):
    """A smooth picture with some grain, like a photo (not noise, which no scale preserves)."""
    y, x = np.mgrid[0:height, 0:width].astype(np.float32)
    rng = np.random.default_rng(seed)
    channels = [128 + 90 * np.sin(x / 97 + k) * np.cos(y / 131 - 2 * k) for k in range(3)]
    image = np.stack(channels, axis=-1) + rng.normal(0, 6, (height, width, 3))
    return np.clip(image, 0, 255).astype(np.uint8)


@pytest.fixture(scope="module")
def big_jpeg(tmp_path_factory):
    return write_rgb(tmp_path_factory.mktemp("big") / "photo.jpg", photo(1600, 1200))


def test_a_large_jpeg_decodes_reduced_and_resizes_to_nearly_the_full_decode(big_jpeg):
    assert load_rgb(big_jpeg).shape == (1200, 1600, 3)
    assert load_rgb(big_jpeg, fit=(128, 128)).shape == (150, 200, 3)  # 1/8
    assert load_rgb(big_jpeg, fit=(224, 224)).shape == (300, 400, 3)  # 1/4
    reduced = load_resized(big_jpeg, (128, 128), decode_scale.JPEG_REDUCED).astype(int)
    full = load_resized(big_jpeg, (128, 128), decode_scale.FULL).astype(int)
    assert reduced.shape == full.shape == (128, 128, 3)
    assert np.abs(reduced - full).mean() < 1.5 and np.abs(reduced - full).max() < 24


def test_small_jpegs_and_other_formats_decode_as_before(tmp_path, big_jpeg):
    small = write_rgb(tmp_path / "small.jpg", photo(200, 150))
    assert np.array_equal(load_rgb(small, fit=(128, 128)), load_rgb(small))
    png = write_rgb(tmp_path / "big.png", photo(1024, 768))
    assert load_rgb(png, fit=(64, 64)).shape == (768, 1024, 3)


def test_reduced_decode_gives_libjpegs_scaled_pixels(big_jpeg):
    """The pixels are OpenCV's own IMREAD_REDUCED_COLOR_8 ones (BGR there), not a resize of ours."""
    expected = cv2.imread(str(big_jpeg), cv2.IMREAD_REDUCED_COLOR_8)[:, :, ::-1]
    assert np.array_equal(load_rgb(big_jpeg, fit=(128, 128)), expected)
