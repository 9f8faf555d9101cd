"""The board's wheel from an edgecell installed with pip (no checkout): packed again from the
installed files, the same files as the wheel it was installed from, and installable itself."""

import subprocess
import sys
import zipfile

import pytest
from support.paths import REPO


def run(*args, **kwargs):
    done = subprocess.run([str(a) for a in args], capture_output=True, text=True, timeout=300, **kwargs)
    assert done.returncode == 0, done.stdout + done.stderr
    return done


def installed_from_a_wheel(tmp_path):
    """(the wheel built from this checkout, a folder where pip installed it, not editable)."""
    dist, site = tmp_path / "dist", tmp_path / "site"
    run(sys.executable, "-m", "pip", "wheel", "-q", "--no-deps", "--no-build-isolation", "-w", dist, REPO)
    (built,) = dist.glob("edgecell-*.whl")
    run(sys.executable, "-m", "pip", "install", "-q", "--no-deps", "--no-compile", "--target", site, built)
    return built, site


def pack_in(site, out):
    """Run the installed edgecell's own wheel step, as `edgecell deploy` does without --wheel."""
    code = (
        "from pathlib import Path; from edgecell.deploy import wheel; "
        "assert wheel.source_tree() is None, wheel.source_tree(); print(wheel.build(Path(__import__('sys').argv[1])))"
    )
    return run(sys.executable, "-c", code, out, env={"PYTHONPATH": str(site), "PATH": "/usr/bin:/bin"}, cwd=out)


@pytest.mark.slow
def test_an_installed_edgecell_packs_the_wheel_it_came_from(tmp_path):
    built, site = installed_from_a_wheel(tmp_path)
    out = tmp_path / "out"
    out.mkdir()
    packed = pack_in(site, out).stdout.strip()
    assert packed == str(out / built.name)  # the same name: edgecell-VERSION-py3-none-any.whl
    with zipfile.ZipFile(built) as a, zipfile.ZipFile(packed) as b:
        originals, copies = set(a.namelist()), set(b.namelist())
        assert originals == copies
        for name in originals - {n for n in originals if n.endswith("/RECORD")}:
            assert a.read(name) == b.read(name), name
    again = tmp_path / "again"
    run(sys.executable, "-m", "pip", "install", "-q", "--no-deps", "--no-compile", "--target", again, packed)
    version = run(sys.executable, "-m", "edgecell", "--help", env={"PYTHONPATH": str(again), "PATH": "/usr/bin:/bin"})
    assert "infer" in version.stdout
