"""The edgecell wheel a board installs: given with --wheel, built once from this checkout, or
packed again from the installed edgecell when there is no checkout.

Made here and copied over because boards are often offline; only when some board needs it. An
edgecell installed with pip is packed from its own files as its RECORD lists them (the wheel
format's manifest, PEP 376/427): the same version the laptop runs, with no build tools and no
network. (pip cannot download it back: the index may be out of reach, and the installed version
may be one no index serves.)
"""

import base64
import hashlib
import subprocess
import sys
import threading
import zipfile
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
    """The board's wheel: built from the checkout this edgecell runs from, or, for an edgecell pip
    installed, packed again from the installed files (`repack`)."""
    root = source_tree()
    if root is None:
        return repack(out)
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


SKIPPED = {"RECORD", "INSTALLER", "REQUESTED", "direct_url.json"}  # what pip adds on install, not the wheel's


def repack(out: Path, name: str = "edgecell") -> Path:
    """The installed distribution `name` as a wheel in `out`: each file its RECORD lists (bytecode and
    pip's own install files left out), a fresh RECORD with each file's sha256 and size."""
    from importlib import metadata

    try:
        dist = metadata.distribution(name)
    except metadata.PackageNotFoundError:
        raise EdgecellError(
            f"{name} is not installed here, so there is no wheel to pack; give one with --wheel FILE."
        ) from None
    files = [f for f in dist.files or () if f.suffix != ".pyc" and f.name not in SKIPPED]
    if not any(f.name == "METADATA" for f in files) or not any(f.name == "WHEEL" for f in files):
        raise EdgecellError(
            f"the installed {name} {dist.version} lists no METADATA or WHEEL in its RECORD, so it cannot be packed "
            f"again; give a wheel with --wheel FILE."
        )
    info = next(f for f in files if f.name == "METADATA").parent.as_posix()
    target = Path(out) / f"{name}-{dist.version}-py3-none-any.whl"
    record = []
    with zipfile.ZipFile(target, "w", zipfile.ZIP_DEFLATED) as wheel:
        for entry in files:
            if entry.as_posix().startswith("../"):  # a script installed outside site-packages: pip makes it anew
                continue
            data = Path(entry.locate()).read_bytes()
            wheel.writestr(entry.as_posix(), data)
            digest = base64.urlsafe_b64encode(hashlib.sha256(data).digest()).rstrip(b"=").decode()
            record.append(f"{entry.as_posix()},sha256={digest},{len(data)}")
        record.append(f"{info}/RECORD,,")
        wheel.writestr(f"{info}/RECORD", "\n".join(record) + "\n")
    return target
