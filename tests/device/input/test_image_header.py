"""device/input/image_header.py: the size an image declares, read from real files OpenCV wrote."""

import cv2
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from support.bombs import jpeg_bomb, png16_bomb

from edgecell.device.input.image_header import declared_size


def encoded(ext, width=37, height=21, channels=3, depth=np.uint8, params=()):
    shape = (height, width, channels) if channels > 1 else (height, width)
    ok, data = cv2.imencode(ext, np.full(shape, 100, depth), list(params))
    assert ok, ext
    return data.tobytes()


@pytest.mark.parametrize(
    "ext, kwargs",
    [
        (".jpg", {}),
        (".jpg", {"params": (cv2.IMWRITE_JPEG_PROGRESSIVE, 1)}),
        (".jpg", {"channels": 1}),
        (".png", {}),
        (".png", {"depth": np.uint16}),
        (".png", {"channels": 4}),
        (".bmp", {}),
        (".webp", {}),
        (".webp", {"params": (cv2.IMWRITE_WEBP_QUALITY, 101)}),  # lossless: VP8L
        (".tiff", {}),
        (".ppm", {}),
        (".pgm", {"channels": 1}),
    ],
)
def test_the_declared_size_of_each_format_opencv_writes(ext, kwargs):
    data = encoded(ext, **kwargs)
    assert declared_size(data) == (37, 21)
    assert cv2.imdecode(np.frombuffer(data, np.uint8), cv2.IMREAD_UNCHANGED).shape[:2] == (21, 37)


def test_a_header_alone_is_enough_and_a_cut_header_is_none():
    data = encoded(".jpg", 640, 480)
    sos = data.index(b"\xff\xda")
    assert declared_size(data[: sos + 2]) == (640, 480)  # no scan data at all
    assert declared_size(data[:20]) is None
    png = encoded(".png", 640, 480)
    assert declared_size(png[:24]) == (640, 480)
    assert declared_size(png[:20]) is None


def test_a_gif_and_a_comment_in_a_pnm_header():
    gif = b"GIF89a" + (300).to_bytes(2, "little") + (200).to_bytes(2, "little") + b"\0" * 8
    assert declared_size(gif) == (300, 200)
    assert declared_size(b"P6\n# made by hand\n 300 # width\n200\n255\n" + b"\0" * 16) == (300, 200)


def test_bombs_declare_their_real_size(tmp_path):
    assert declared_size(jpeg_bomb(tmp_path / "bomb.jpg").read_bytes()) == (30000, 30000)
    assert declared_size(png16_bomb(tmp_path / "bomb.png", side=18000).read_bytes()) == (18000, 18000)


@pytest.mark.parametrize("data", [b"", b"\xff\xd8", b"\x89PNG\r\n\x1a\n", b"BM", b"not an image at all", b"P6 x"])
def test_unknown_or_cut_data_is_none(data):
    assert declared_size(data) is None


PREFIXES = [b"\xff\xd8\xff", b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR", b"BM", b"II*\0", b"RIFF"]


@settings(max_examples=300, deadline=None)
@given(st.binary(max_size=64), st.sampled_from(PREFIXES))
def test_any_bytes_give_a_size_or_none_never_an_exception(tail, prefix):
    size = declared_size(prefix + tail)
    assert size is None or (size[0] > 0 and size[1] > 0)
