"""Scanning and splitting a class-folder dataset (no TensorFlow needed)."""

import json

import pytest
from support.imagegen import colour_dataset

from edgecell.core.errors import EdgecellError
from edgecell.core.split import Split, read_split
from edgecell.device.input.classfolder import scan
from edgecell.train.dataset import split


@pytest.fixture
def messy(tmp_path):
    """Four classes with a truncated JPEG, a zero-byte file, a text file and a folder named like an image."""
    root = colour_dataset(
        tmp_path / "data",
        per_class=6,
        ext=".jpg",
        colours={
            "EOSINOPHIL": (200, 80, 80),
            "LYMPHOCYTE": (80, 200, 80),
            "MONOCYTE": (80, 80, 200),
            "NEUTROPHIL": (200, 200, 80),
        },
    )
    good = (root / "EOSINOPHIL" / "EOSINOPHIL_000.jpg").read_bytes()
    (root / "EOSINOPHIL" / "cut.jpg").write_bytes(good[: len(good) // 2])
    (root / "LYMPHOCYTE" / "empty.PNG").write_bytes(b"")
    (root / "MONOCYTE" / "notes.txt").write_text("not an image")
    (root / "NEUTROPHIL" / "album.jpeg").mkdir()
    return root


def test_scan_sorts_classes_and_skips_what_cannot_be_decoded(messy):
    data = scan(messy)
    assert data.classes == ["EOSINOPHIL", "LYMPHOCYTE", "MONOCYTE", "NEUTROPHIL"]
    assert data.counts() == {name: 6 for name in data.classes}
    reasons = {item["path"]: item["reason"] for item in data.skipped}
    assert reasons == {
        "EOSINOPHIL/cut.jpg": "truncated JPEG (no end-of-image marker)",
        "LYMPHOCYTE/empty.PNG": "empty file (0 bytes)",
    }
    assert all(not s.path.endswith((".txt", "album.jpeg")) for s in data.samples)


def test_nested_folders_and_extension_case(tmp_path):
    root = colour_dataset(tmp_path / "d", per_class=2, colours={"a": (0, 0, 0), "b": (255, 255, 255)}, ext=".PNG")
    colour_dataset(root / "a" / "more", per_class=1, colours={"x": (9, 9, 9)}, ext=".Bmp")
    data = scan(root)
    assert data.counts() == {"a": 3, "b": 2}


@pytest.mark.parametrize(
    "layout, message",
    [
        (None, "does not exist"),
        ({"only": 2}, "at least two"),
        ({"a": 2, "b": 0}, "hold no usable image"),
    ],
)
def test_unusable_dataset_folders(tmp_path, layout, message):
    root = tmp_path / "data"
    if layout is not None:
        for name, n in layout.items():
            (root / name).mkdir(parents=True)
            colour_dataset(root, per_class=n, colours={name: (1, 2, 3)}) if n else None
    with pytest.raises(EdgecellError, match=message):
        scan(root)


def test_split_is_stratified_deterministic_and_disjoint(tmp_path):
    root = colour_dataset(tmp_path / "d", per_class=10, colours={"a": (0, 0, 0), "b": (90, 90, 90), "c": (200, 0, 0)})
    data = scan(root)
    first, again = split(data, 0.2, 0.1, seed=4), split(data, 0.2, 0.1, seed=4)
    assert first == again
    assert split(data, 0.2, 0.1, seed=5).test != first.test
    for part, expected in (("test", 2), ("val", 1), ("train", 7)):
        assert data.counts(getattr(first, part)) == {"a": expected, "b": expected, "c": expected}
    paths = [s.path for part in (first.train, first.val, first.test) for s in part]
    assert len(paths) == len(set(paths)) == 30


def test_split_json_round_trip(tmp_path):
    root = colour_dataset(tmp_path / "d", per_class=5, colours={"a": (0, 0, 0), "b": (90, 90, 90)})
    parts = split(scan(root), 0.2, 0.1, seed=4)
    (tmp_path / "split.json").write_text(json.dumps(parts.to_json()))
    assert read_split(tmp_path) == parts
    assert Split.from_json(parts.to_json()).root == str(root.resolve())


def test_split_rejects_fractions_out_of_range(tmp_path):
    root = colour_dataset(tmp_path / "d", per_class=3, colours={"a": (0, 0, 0), "b": (90, 90, 90)})
    with pytest.raises(EdgecellError, match="--test-split 1.5"):
        split(scan(root), 1.5)


def test_missing_split_file_names_the_folder(tmp_path):
    with pytest.raises(EdgecellError, match="edgecell train"):
        read_split(tmp_path)


def test_a_split_whose_dataset_folder_is_gone_is_one_sentence_for_export_and_bench(tmp_path):
    from edgecell.core.split import Sample
    from edgecell.device import benchmark
    from edgecell.device.input import classfolder

    gone = tmp_path / "moved-away"
    split = Split(["a", "b"], [Sample("a/1.png", 0)], [], [Sample("b/2.png", 1)], 4, 0.2, 0.1, str(gone))
    (tmp_path / "model").mkdir()
    (tmp_path / "model" / "split.json").write_text(json.dumps(split.to_json()))
    (tmp_path / "model" / "labels.txt").write_text("a\nb\n")
    for find in (lambda: classfolder.held_out(tmp_path / "model"), lambda: benchmark.find_images(tmp_path / "model")):
        with pytest.raises(EdgecellError, match=f"recorded in .*split.json \\({gone}\\) is gone; give the class"):
            find()
