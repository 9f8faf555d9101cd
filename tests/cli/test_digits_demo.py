"""The demo's last step: the held-out digits classified as a folder on the device path."""

import shutil
from pathlib import Path

import pytest

from edgecell.models import DEMO_MODEL

pytest.importorskip("sklearn")


@pytest.mark.skipif(not DEMO_MODEL.is_file(), reason="the shipped demo model is not built")
def test_the_demo_classifies_a_folder_with_a_line_for_some_images_and_the_summary(tmp_path):
    from edgecell.digits_demo import SHOWN, classify_folder, write_digits

    digits = write_digits(tmp_path / "digits")
    folder = tmp_path / "unseen"
    folder.mkdir()
    for digit in "0123456789":
        for image in sorted((digits / digit).glob("*.png"))[:3]:
            shutil.copy(image, folder / f"{digit}_{image.name}")
    lines = []
    summary = classify_folder(DEMO_MODEL, folder, lines.append)
    assert summary["images"] == {"done": 30, "failed": 0}
    per_image = [line for line in lines if line.startswith("ok ")]
    assert 1 <= len(per_image) <= SHOWN
    right = sum(Path(line.split()[1]).name[0] == line.split()[2] for line in per_image)
    assert right >= len(per_image) - 1, lines  # the demo model reads digits
    assert "images/s" in lines[-1]
