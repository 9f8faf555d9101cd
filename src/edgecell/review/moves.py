"""What a label does to the files, and how it is undone.

A frame labelled with a class moves to DATA/<class>/NAME.jpg (its sidecar to
INBOX/<board>/.labelled/, the record of what the board said about it); one of none of the classes
to INBOX/_none/ with its sidecar. A move never replaces a file: a name taken in the target gets
-1, -2, ... before its extension. Each file goes by a hard link made under the new name (which
fails rather than replace one) and the old name removed; across file systems, by a copy written
beside and renamed (core/atomic.py). The last moves are kept, newest last, to be undone.
"""

import errno
import os
from pathlib import Path
from typing import NamedTuple, Optional

from edgecell.core import atomic
from edgecell.core.errors import EdgecellError
from edgecell.review.inbox import NONE_FOLDER, Frame

UNDO = 100  # moves kept to undo
LABELLED = ".labelled"


class Move(NamedTuple):
    key: str
    choice: str  # a class, or None for none of them
    files: tuple  # ((from, to), ...)


def free_name(folder: Path, name: str) -> Path:
    stem, dot, ext = name.rpartition(".")
    stem, ext = (stem, dot + ext) if dot else (name, "")
    candidate, n = folder / name, 0
    while candidate.exists():
        n += 1
        candidate = folder / f"{stem}-{n}{ext}"
    return candidate


def relink(source: Path, target: Path) -> None:
    """`source` renamed to `target`, which must not exist (FileExistsError if it does)."""
    try:
        os.link(source, target)
    except FileExistsError:
        raise
    except OSError as error:
        if error.errno not in (errno.EXDEV, errno.EPERM, errno.EMLINK, errno.ENOTSUP):
            raise
        if target.exists():  # another file system, or one without hard links: copied beside, renamed
            raise FileExistsError(errno.EEXIST, "exists", str(target)) from None
        with atomic.replacing(target) as tmp:
            tmp.write_bytes(source.read_bytes())
    source.unlink()


def move_file(source: Path, folder: Path) -> Path:
    """`source` into `folder` under its name or a free one; never over another file."""
    folder.mkdir(parents=True, exist_ok=True)
    while True:
        target = free_name(folder, source.name)
        try:
            relink(source, target)
        except FileExistsError:  # taken between the look and the link: the next name
            continue
        return target


class Labeller:
    def __init__(self, inbox: Path, data: Path):
        self.inbox, self.data = Path(inbox), Path(data)
        self.done: list = []  # Moves, newest last

    def label(self, frame: Frame, choice: Optional[str]) -> Move:
        """Move `frame` into DATA/<choice>/, or to INBOX/_none/ when `choice` is None."""
        if choice is None:
            jpeg_to = sidecar_to = self.inbox / NONE_FOLDER
        else:
            jpeg_to, sidecar_to = self.data / choice, frame.jpeg.parent / LABELLED
        files = [(frame.jpeg, move_file(frame.jpeg, jpeg_to))]
        if frame.sidecar is not None and frame.sidecar.exists():
            files.append((frame.sidecar, move_file(frame.sidecar, sidecar_to)))
        move = Move(frame.key, choice, tuple(files))
        self.done = [*self.done[-(UNDO - 1) :], move]
        return move

    def undo(self) -> Move:
        """Put the last move's files back where they were."""
        if not self.done:
            raise EdgecellError("Nothing to undo.")
        move = self.done[-1]
        for was, now in move.files:
            try:
                relink(now, was)
            except FileExistsError:
                raise EdgecellError(f"Cannot undo: {was.name} is in the inbox again already.") from None
            except FileNotFoundError:
                raise EdgecellError(f"Cannot undo: {now} is no longer there.") from None
        self.done.pop()
        return move
