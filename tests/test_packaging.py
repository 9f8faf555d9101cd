"""converters/ and device/ install as edgecell.converters and edgecell.device, in an editable
install and in a built wheel; the base install pulls no TensorFlow."""

import json
import subprocess
import sys
import venv
import zipfile
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
FIND = (
    "import importlib.util, json; print(json.dumps({m: importlib.util.find_spec(m).origin for m in "
    "['edgecell', 'edgecell.converters', 'edgecell.device', 'edgecell.device.input.image', 'edgecell.models']}))"
)

pytestmark = pytest.mark.slow


def run(*args, **kwargs):
    out = subprocess.run([str(a) for a in args], capture_output=True, text=True, timeout=600, **kwargs)
    assert out.returncode == 0, out.stdout + out.stderr
    return out.stdout


@pytest.fixture(scope="module")
def wheel(tmp_path_factory):
    dist = tmp_path_factory.mktemp("dist")
    run(sys.executable, "-m", "build", "--wheel", "--outdir", dist, REPO)
    (path,) = dist.glob("edgecell-*.whl")
    return path


def fresh_python(folder: Path) -> Path:
    venv.create(folder, with_pip=True)
    return folder / "bin" / "python"


def test_wheel_maps_the_top_level_folders(wheel, tmp_path):
    names = zipfile.ZipFile(wheel).namelist()
    for name in (
        "edgecell/device/input/image.py",
        "edgecell/converters/__init__.py",
        "edgecell/models/__init__.py",
        "edgecell/cli/main.py",
    ):
        assert name in names
    assert not any(name.startswith(("device/", "converters/", "tests/")) for name in names)
    # every package folder of the repository is in the wheel (a subpackage missing from
    # pyproject's list would work in an editable install and fail in a wheel)
    folders = {
        "src/edgecell": "edgecell",
        "device": "edgecell/device",
        "converters": "edgecell/converters",
        "models": "edgecell/models",
    }
    for folder, package in folders.items():
        for init in (REPO / folder).rglob("__init__.py"):
            inside = init.relative_to(REPO / folder).as_posix()
            if folder == "src/edgecell" and inside.split("/")[0] in ("device", "converters", "models"):
                continue
            assert f"{package}/{inside}" in names, f"{package}/{inside} is not in the wheel; list it in pyproject"

    python = fresh_python(tmp_path / "venv")
    run(python, "-m", "pip", "install", "-q", "--no-deps", wheel)
    origins = json.loads(run(python, "-c", FIND, cwd=tmp_path))
    site = str(tmp_path / "venv")
    assert all(origin.startswith(site) for origin in origins.values()), origins
    assert origins["edgecell.device.input.image"].endswith("edgecell/device/input/image.py")


def test_editable_install_maps_to_the_repository_folders(tmp_path):
    python = fresh_python(tmp_path / "venv")
    run(python, "-m", "pip", "install", "-q", "--no-deps", "-e", REPO)
    origins = json.loads(run(python, "-c", FIND, cwd=tmp_path))
    assert origins["edgecell.device"] == str(REPO / "device" / "__init__.py")
    assert origins["edgecell.converters"] == str(REPO / "converters" / "__init__.py")
    assert origins["edgecell.models"] == str(REPO / "models" / "__init__.py")
    assert origins["edgecell"] == str(REPO / "src" / "edgecell" / "__init__.py")


def test_base_install_pulls_no_tensorflow(wheel, tmp_path):
    """Resolve the base install against the package index, as `pip install edgecell` would."""
    report = tmp_path / "report.json"
    run(sys.executable, "-m", "pip", "install", "--dry-run", "--ignore-installed", "-q", "--report", report, wheel)
    names = {item["metadata"]["name"].lower() for item in json.loads(report.read_text())["install"]}
    assert {"numpy", "typer", "ai-edge-litert"} <= names and any(n.startswith("opencv") for n in names)
    assert not {n for n in names if "tensorflow" in n or n in ("keras", "tf-keras")}, names
