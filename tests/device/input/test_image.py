"""The preprocessing contract's decoding: every kind of file to 8-bit RGB, or one clear reason."""

import cv2
import numpy as np
import pytest
from support.imagegen import write_rgb

from edgecell.device.input.image import ImageError, decode_rgb, is_image_name, load_resized, load_rgb, resize


def encode(array, ext):
    ok, data = cv2.imencode(ext, array)
    assert ok
    return data.tobytes()


def test_colour_order_is_rgb(tmp_path):
    rgb = np.zeros((8, 8, 3), np.uint8)
    rgb[..., 0] = 200  # red
    for ext in (".png", ".bmp", ".jpg"):
        path = write_rgb(tmp_path / f"red{ext}", rgb)
        decoded = load_rgb(path)
        assert decoded.shape == (8, 8, 3) and decoded.dtype == np.uint8
        assert decoded[..., 0].mean() > 190 and decoded[..., 2].mean() < 10, ext


def test_grayscale_rgba_and_16_bit_become_8_bit_rgb():
    gray = decode_rgb(encode(np.full((5, 7), 77, np.uint8), ".png"))
    assert gray.shape == (5, 7, 3) and (gray == 77).all()

    bgra = np.zeros((4, 4, 4), np.uint8)
    bgra[..., 2], bgra[..., 3] = 150, 10  # red, almost transparent
    rgba = decode_rgb(encode(bgra, ".png"))
    assert rgba.shape == (4, 4, 3) and (rgba[..., 0] == 150).all() and (rgba[..., 2] == 0).all()

    deep = decode_rgb(encode(np.full((3, 3), 65535, np.uint16), ".png"))
    assert deep.dtype == np.uint8 and (deep == 255).all()
    mid = decode_rgb(encode(np.full((3, 3), 32896, np.uint16), ".png"))  # 128 * 257
    assert (mid == 128).all()


@pytest.mark.parametrize(
    "data, reason",
    [
        (b"", "empty file"),
        (b"just some text, not pixels", "not a decodable image"),
        (b"\x89PNG\r\n\x1a\n" + b"\x00" * 40, "not a decodable image"),
    ],
)
def test_undecodable_bytes_give_a_reason(data, reason):
    with pytest.raises(ImageError, match=reason):
        decode_rgb(data)


def test_truncated_jpeg_is_refused_not_half_grey():
    rng = np.random.default_rng(0)
    data = encode(rng.integers(0, 255, (64, 64, 3), dtype=np.uint8), ".jpg")
    assert decode_rgb(data).shape == (64, 64, 3)
    with pytest.raises(ImageError, match="truncated JPEG"):
        decode_rgb(data[: len(data) // 2])


def test_folders_and_missing_files(tmp_path):
    (tmp_path / "looks_like.jpg").mkdir()
    with pytest.raises(ImageError, match="folder"):
        load_rgb(tmp_path / "looks_like.jpg")
    (tmp_path / "dangling.png").symlink_to(tmp_path / "nowhere.png")
    with pytest.raises(ImageError, match="broken link"):
        load_rgb(tmp_path / "dangling.png")


def test_extensions_in_any_case():
    assert all(is_image_name(n) for n in ("a.JPG", "b.jpeg", "c.Png", "d.BMP"))
    assert not any(is_image_name(n) for n in ("notes.txt", "model.tflite", "jpg"))


def test_resize_shrinks_and_enlarges_to_height_width(tmp_path):
    big = np.zeros((60, 90, 3), np.uint8)
    assert resize(big, (20, 30)).shape == (20, 30, 3)
    assert resize(np.zeros((1, 1, 3), np.uint8), (32, 16)).shape == (32, 16, 3)
    path = write_rgb(tmp_path / "x.png", np.full((10, 10, 3), 9, np.uint8))
    assert (load_resized(path, (4, 4)) == 9).all()
