"""Fuzzing the two parsers that read untrusted bytes on the board: the image decoder
(`decode_rgb`/`load_rgb`) and the .tflite metadata reader (`read`/`read_entries`).

Inputs are byte strings from hypothesis: arbitrary ones, and mutations (flipped, overwritten,
inserted, deleted bytes, cuts, splices) of valid PNG, JPEG, BMP and TFLite files. The only
exception allowed out is the documented one, ImageError or MetadataError; anything else fails.

CI runs 600 examples per test (about 7 s for the file); for a longer run set
EDGECELL_FUZZ_EXAMPLES, e.g. `EDGECELL_FUZZ_EXAMPLES=20000 pytest tests/faults/test_faults_fuzz.py`.
"""

import json
import os

import cv2
import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from edgecell.device.input import image
from edgecell.device.model import edgecell_metadata
from edgecell.models import DEMO_MODEL

EXAMPLES = int(os.environ.get("EDGECELL_FUZZ_EXAMPLES", "600"))
fuzz = settings(
    max_examples=EXAMPLES,
    deadline=None,
    derandomize="EDGECELL_FUZZ_EXAMPLES" not in os.environ,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)


def _encoded(ext, size=(12, 10), flags=()):
    rng = np.random.default_rng(3)
    pixels = rng.integers(0, 256, (size[1], size[0], 3), dtype=np.uint8)
    return cv2.imencode(ext, pixels, list(flags))[1].tobytes()


IMAGES = {
    "png": _encoded(".png"),
    "jpeg": _encoded(".jpg", flags=(cv2.IMWRITE_JPEG_QUALITY, 80)),
    "progressive_jpeg": _encoded(".jpg", flags=(cv2.IMWRITE_JPEG_PROGRESSIVE, 1)),
    "bmp": _encoded(".bmp", size=(6, 5)),
    "png16_gray": cv2.imencode(".png", np.arange(60, dtype=np.uint16).reshape(6, 10) * 1000)[1].tobytes(),
}


@st.composite
def mutated(draw, seeds):
    """One seed file with one to four mutations applied."""
    data = bytearray(seeds[draw(st.sampled_from(sorted(seeds)))])
    for _ in range(draw(st.integers(1, 4))):
        kind = draw(st.sampled_from(["flip", "overwrite", "insert", "delete", "cut", "splice", "int"]))
        at = draw(st.integers(0, max(0, len(data) - 1)))
        if kind == "flip" and data:
            data[at] ^= 1 << draw(st.integers(0, 7))
        elif kind == "overwrite":
            chunk = draw(st.binary(min_size=1, max_size=8))
            data[at : at + len(chunk)] = chunk
        elif kind == "insert":
            data[at:at] = draw(st.binary(min_size=1, max_size=64))
        elif kind == "delete":
            del data[at : at + draw(st.integers(1, 64))]
        elif kind == "cut":
            del data[at:]
        elif kind == "splice":
            other = seeds[draw(st.sampled_from(sorted(seeds)))]
            data[at:] = other[draw(st.integers(0, len(other))) :]
        elif kind == "int" and len(data) >= 4:  # flatbuffer offsets and image sizes are 32-bit integers
            at = min(at, len(data) - 4)
            value = draw(st.sampled_from([0, 1, 0x7FFFFFFF, 0x80000000, 0xFFFFFFFF, len(data), len(data) - at]))
            data[at : at + 4] = value.to_bytes(4, draw(st.sampled_from(["little", "big"])))
    return bytes(data)


def decodes_or_image_error(data: bytes):
    try:
        rgb = image.decode_rgb(data)
    except image.ImageError:
        return
    assert rgb.dtype == np.uint8 and rgb.ndim == 3 and rgb.shape[2] == 3 and rgb.size > 0


@fuzz
@given(st.binary(max_size=512))
def test_decode_arbitrary_bytes(data):
    decodes_or_image_error(data)


@fuzz
@given(mutated(IMAGES))
def test_decode_mutated_images(data):
    decodes_or_image_error(data)


@fuzz
@given(
    st.sampled_from(sorted(IMAGES)).flatmap(
        lambda name: st.tuples(st.just(IMAGES[name]), st.integers(0, len(IMAGES[name])))
    )
)
def test_load_truncated_files(tmp_path_factory, cut):
    data, at = cut
    path = tmp_path_factory.getbasetemp() / "cut.img"
    path.write_bytes(data[:at])
    try:
        rgb = image.load_rgb(path)
    except image.ImageError:
        return
    assert rgb.ndim == 3 and rgb.shape[2] == 3


# --- the metadata reader ----------------------------------------------------------------------

needs_demo = pytest.mark.skipif(not DEMO_MODEL.exists(), reason="the demo model is not in models/demo yet")
TFLITE = {"demo": DEMO_MODEL.read_bytes()} if DEMO_MODEL.exists() else {}


def reads_or_metadata_error(data: bytes):
    try:
        entries = edgecell_metadata.read_entries(data)
    except edgecell_metadata.MetadataError:
        entries = None
    if entries is not None:
        assert all(isinstance(k, str) and isinstance(v, bytes) for k, v in entries.items())
    try:
        meta = edgecell_metadata.read(data)
    except edgecell_metadata.MetadataError:
        return
    if meta is not None:
        assert isinstance(meta, dict) and isinstance(meta["labels"], list)


@fuzz
@given(st.binary(max_size=512).map(lambda b: b[:4] + b"TFL3" + b[4:]))
def test_read_arbitrary_bytes_with_the_identifier(data):
    reads_or_metadata_error(data)


@needs_demo
@fuzz
@given(mutated(TFLITE))
def test_read_mutated_models(data):
    reads_or_metadata_error(data)


@needs_demo
@settings(fuzz, max_examples=max(1, EXAMPLES // 3))
@given(
    st.recursive(
        st.none() | st.booleans() | st.floats() | st.integers() | st.text(max_size=8),
        lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner, max_size=4),
        max_leaves=12,
    ),
    st.sampled_from(["labels", "input", "source", "mean", "std", "height", "width"]),
)
def test_metadata_fields_of_any_type_are_read_or_refused(tmp_path_factory, value, field):
    """Valid JSON in the wrong shape is refused in one sentence, never a TypeError in the runner
    or in `edgecell info` later."""
    from edgecell.converters import describe, flatbuffer
    from edgecell.core.errors import EdgecellError
    from edgecell.device.model.classifier import Classifier

    meta = edgecell_metadata.read(TFLITE["demo"])
    if field in ("labels", "input", "source"):
        meta[field] = value
    else:
        meta["input"][field] = value
    path = tmp_path_factory.getbasetemp() / "fuzzed.tflite"
    path.write_bytes(
        flatbuffer.set_metadata(TFLITE["demo"], edgecell_metadata.METADATA_NAME, json.dumps(meta).encode())
    )
    try:
        classifier = Classifier(path)
        describe.text(describe.describe(path))
    except EdgecellError as error:
        assert str(path) in str(error)
        return
    assert classifier.classify(np.zeros((4, 4, 3), np.uint8)).shape == (10,)
