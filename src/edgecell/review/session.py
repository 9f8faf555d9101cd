"""One review session: the frames left, in order (a skipped one goes last), the classes, and the
labeller that moves files; what the page's every answer is made from."""

import threading
from pathlib import Path
from typing import Optional

from edgecell.core.errors import EdgecellError
from edgecell.review import inbox
from edgecell.review.moves import Labeller

SCORES_SHOWN = 5


class Session:
    def __init__(self, inbox_folder: Path, data: Path):
        inbox.check(inbox_folder)
        self.inbox = Path(inbox_folder)
        self.classes = inbox.classes(data, inbox.frames(self.inbox))
        self.labeller = Labeller(self.inbox, data)
        self.skipped: list = []  # keys, in the order they were skipped
        self.labelled = 0
        self.lock = threading.Lock()  # one move at a time, whatever the page sends

    def left(self) -> list:
        found = inbox.frames(self.inbox)
        later = {key: n for n, key in enumerate(self.skipped)}
        return sorted(found, key=lambda f: (f.key in later, later.get(f.key, 0)))

    def find(self, key: str) -> inbox.Frame:
        """The frame the page names, looked up among those left: a key is never used as a path."""
        for frame in inbox.frames(self.inbox):
            if frame.key == key:
                return frame
        raise EdgecellError(f"No frame {key!r} is left in the inbox; it was labelled or moved away.")

    def label(self, key: str, choice: Optional[str]) -> None:
        if choice is not None and choice not in self.classes:
            raise EdgecellError(f"{choice!r} is not one of the classes ({', '.join(self.classes)}).")
        with self.lock:
            self.labeller.label(self.find(key), choice)
            self.labelled += 1

    def skip(self, key: str) -> None:
        with self.lock:
            self.find(key)
            self.skipped = [k for k in self.skipped if k != key] + [key]

    def undo(self) -> None:
        with self.lock:
            self.labeller.undo()
            self.labelled -= 1

    def state(self) -> dict:
        left = self.left()
        last = self.labeller.done[-1] if self.labeller.done else None
        return {
            "classes": self.classes,
            "frame": describe(left[0]) if left else None,
            "remaining": len(left),
            "labelled": self.labelled,
            "last": {"key": last.key, "choice": last.choice, "to": str(last.files[0][1])} if last else None,
        }


def describe(frame: inbox.Frame) -> dict:
    info = inbox.read_sidecar(frame).info
    scores = info.get("scores") if isinstance(info.get("scores"), dict) else {}
    ranked = sorted(((str(k), float(v)) for k, v in scores.items() if isinstance(v, (int, float))), key=lambda s: -s[1])
    score = info.get("score")
    return {
        "key": frame.key,
        "guess": str(info["guess"]) if info.get("guess") is not None else None,
        "score": float(score) if isinstance(score, (int, float)) else None,
        "scores": ranked[:SCORES_SHOWN],
        "why": str(info.get("why") or ""),
        "source": str(info.get("source") or ""),
    }
