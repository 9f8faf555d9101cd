"""The folder `edgecell infer --collect DIR` keeps frames in, within a size cap.

Each frame is two files written atomically (core/atomic.py, so a reader never sees part of
either): NAME.jpg, then its sidecar NAME.json, so a frame whose sidecar is there is whole
(`edgecell collect` fetches only those). Names start with the UTC time, so they sort oldest
first. The cap counts every frame on disk, those an earlier run left included; past it the
oldest frames go first, as journald's SystemMaxUse= removes the oldest journal files.
"""

import json
import os
import time
from collections import deque
from pathlib import Path

from edgecell.core import atomic

KINDS = (".jpg", ".json")
RESCAN_S = 60.0  # at the cap, what is on disk is looked at again at most this often


class CollectFolder:
    def __init__(self, folder: Path, max_bytes: int):
        self.folder = Path(folder)
        self.max_bytes = max_bytes
        self.removed = 0  # frames removed for the cap
        self.folder.mkdir(parents=True, exist_ok=True)
        atomic.sweep_folder(self.folder)  # once here, not at every write: each look lists the folder
        self._scan()

    def _scan(self) -> None:
        """What is on disk now, oldest first: (stem, bytes of its files)."""
        sizes = {}
        with os.scandir(self.folder) as entries:
            for entry in entries:
                stem, kind = os.path.splitext(entry.name)
                if kind in KINDS and not entry.name.startswith(".") and entry.is_file(follow_symlinks=False):
                    sizes[stem] = sizes.get(stem, 0) + entry.stat(follow_symlinks=False).st_size
        self._frames = deque(sorted(sizes.items()))
        self.bytes = sum(sizes.values())
        self._scanned = time.monotonic()

    def add(self, stem: str, jpeg: bytes, sidecar: dict) -> None:
        """Make room for one frame (the oldest go first), then write it: the folder, the frame
        being written included, never holds more than the cap."""
        text = json.dumps(sidecar, indent=2) + "\n"
        size = len(jpeg) + len(text.encode("utf-8"))
        if size > self.max_bytes:
            raise ValueError(f"a frame of {size} bytes is larger than the whole --collect-mb cap")
        if self.bytes + size > self.max_bytes and time.monotonic() - self._scanned > RESCAN_S:
            self._scan()  # files fetched and removed by `edgecell collect --remove` no longer count
        while self.bytes + size > self.max_bytes and self._frames:
            old, held = self._frames.popleft()
            for kind in KINDS:
                (self.folder / f"{old}{kind}").unlink(missing_ok=True)
            self.bytes -= held
            self.removed += 1
        atomic.write_bytes(self.folder / f"{stem}.jpg", jpeg, sweep=False)
        atomic.write_text(self.folder / f"{stem}.json", text, sweep=False)
        self._frames.append((stem, size))
        self.bytes += size
