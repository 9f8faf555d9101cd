"""The edgecell wheel a board installs: given with --wheel, or built once from this checkout.

Built here and copied over because boards are often offline; only when some board needs it.
"""

import subprocess
import sys
import threading
from pathlib import Path
from typing import Optional

import edgecell.device
from edgecell.core.errors import EdgecellError

INSTALL_SCRIPT = Path(edgecell.device.__file__).parent / "install.sh"
UNIT_TEMPLATE = INSTALL_SCRIPT.with_name("edgecell-infer.service")  # install.sh fills it in
TYPICAL_BYTES = 512 * 1024


class Wheel:
    def __init__(self, given: Optional[Path], scratch: Path):
        self.given = given
        self.scratch = scratch
        self._built: Optional[Path] = None
        self._lock = threading.Lock()

    @property
    def size_estimate(self) -> int:
        return self.given.stat().st_size if self.given is not None else TYPICAL_BYTES

    def kit(self) -> dict:
        """What a board needs to install: {name there: file here}."""
        wheel = self.get()
        return {wheel.name: wheel, INSTALL_SCRIPT.name: INSTALL_SCRIPT, UNIT_TEMPLATE.name: UNIT_TEMPLATE}

    def get(self) -> Path:
        with self._lock:  # several boards may ask at once: build it once
            if self.given is not None:
                return self.given
            if self._built is None:
                self._built = build(self.scratch)
            return self._built


def source_tree() -> Optional[Path]:
    """The checkout this edgecell runs from (an editable install), or None for an installed wheel."""
    root = Path(edgecell.device.__file__).resolve().parents[1]
    pyproject = root / "pyproject.toml"
    if pyproject.is_file() and 'name = "edgecell"' in pyproject.read_text(encoding="utf-8"):
        return root
    return None


def build(out: Path) -> Path:
    root = source_tree()
    if root is None:
        raise EdgecellError(
            "this edgecell was installed from a wheel, so there is no source to build the board's wheel from; "
            "give one with --wheel FILE (python -m build --wheel in an edgecell checkout makes it)."
        )
    _check_setuptools()
    done = subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "-q", "--no-deps", "--no-build-isolation", "-w", str(out), str(root)],
        capture_output=True,
        text=True,
    )
    wheels = sorted(out.glob("edgecell-*.whl"))
    if done.returncode != 0 or not wheels:
        tail = (done.stderr.strip().splitlines() or ["no message"])[-1]
        raise EdgecellError(f"building the edgecell wheel from {root} failed: {tail}")
    return wheels[-1]


SETUPTOOLS_NEEDED = (77, 0)  # pyproject's SPDX `license = "Apache-2.0"` (PEP 639)


def _check_setuptools() -> None:
    """The wheel is built without build isolation (boards and laptops are often offline), so with
    this environment's setuptools, which must read pyproject's SPDX licence string."""
    from importlib import metadata

    try:
        version = metadata.version("setuptools")
    except metadata.PackageNotFoundError:
        version = "0"
    parts = tuple(int(p) for p in version.split(".")[:2] if p.isdigit())
    if parts < SETUPTOOLS_NEEDED:
        raise EdgecellError(
            f"building the board's edgecell wheel here needs setuptools 77 or newer (this environment has "
            f"{version}); upgrade it with: pip install -U 'setuptools>=77', or give a wheel with --wheel FILE."
        )
