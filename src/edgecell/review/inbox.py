"""The inbox `edgecell collect` fills: INBOX/<board>/NAME.jpg with its sidecar NAME.json, and the
classes a frame can be labelled with.

A sidecar comes from a board, so it is read with a cap and believed only as far as it parses: a
frame whose sidecar is missing, too large or not JSON is still shown, with no guess. A class name
becomes a folder under DATA, so only a plain folder name is accepted as one (no '/', no leading '.').
"""

import json
import re
from pathlib import Path
from typing import NamedTuple, Optional

from edgecell.core.errors import EdgecellError
from edgecell.core.printable import printable

NONE_FOLDER = "_none"  # INBOX/_none/: frames of none of the classes
MAX_SIDECAR = 256 * 1024  # bytes read of a sidecar at most; a collected one is under 2 kB
CLASS = re.compile(r"^[^/\\\x00-\x1f.][^/\\\x00-\x1f]{0,99}$")


class Frame(NamedTuple):
    key: str  # "<board>/<name>": how the page names it
    jpeg: Path
    sidecar: Optional[Path]
    info: dict  # the sidecar's fields, {} when there is none to believe


def frames(inbox: Path) -> list:
    """The frames still to label, oldest name first, in every board's folder."""
    found = []
    for board in sorted(p for p in Path(inbox).iterdir() if p.is_dir() and not p.name.startswith((".", "_"))):
        for jpeg in sorted(board.glob("*.jpg")):
            if not jpeg.name.startswith(".") and jpeg.is_file():
                sidecar = jpeg.with_suffix(".json")
                found.append(Frame(f"{board.name}/{jpeg.name}", jpeg, sidecar if sidecar.is_file() else None, {}))
    return found


def read_sidecar(frame: Frame) -> Frame:
    """`frame` with what its sidecar says, as far as it can be believed."""
    if frame.sidecar is None:
        return frame
    try:
        with open(frame.sidecar, "rb") as f:
            data = f.read(MAX_SIDECAR + 1)
        info = json.loads(data) if len(data) <= MAX_SIDECAR else {}
    except (OSError, ValueError):
        info = {}
    return frame._replace(info=info if isinstance(info, dict) else {})


def classes(data: Path, inbox_frames) -> list:
    """DATA's class folders, or, for a DATA with none yet, the labels the model's sidecars name."""
    data = Path(data)
    if data.exists() and not data.is_dir():
        raise EdgecellError(f"--data {printable(data)} is a file; give the class-folder dataset to label into.")
    found = sorted(p.name for p in data.iterdir() if p.is_dir() and CLASS.match(p.name)) if data.is_dir() else []
    if not found:
        for frame in inbox_frames:
            labels = read_sidecar(frame).info.get("labels")
            if isinstance(labels, list) and labels:
                found = [str(label) for label in labels if CLASS.match(str(label))]
                break
    if not found:
        raise EdgecellError(
            f"No classes to label with: {printable(data)} has no class folders and no sidecar in the inbox names "
            "the model's labels; make one folder per class there (mkdir DATA/cat DATA/dog)."
        )
    return found


def check(inbox: Path) -> None:
    if not Path(inbox).is_dir():
        raise EdgecellError(
            f"Inbox {printable(inbox)} is not a folder; give the folder edgecell collect --into filled."
        )
