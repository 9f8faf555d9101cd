"""Reading a named file only when it is a regular file of a bounded size.

A FIFO named `x.png` blocks `open()` until a writer comes, past SIGTERM; a link to `/dev/zero`
reads until memory runs out. So the file is opened with O_NONBLOCK (which a FIFO honours and a
regular file ignores), its kind and size are taken with `fstat` on that descriptor (no race with
a rename between a check and the open), and at most `max_bytes` are read even if it grows.
"""

import os
import stat

MB = 1 << 20
_KINDS = (
    (stat.S_ISDIR, "a folder"),
    (stat.S_ISFIFO, "a FIFO (named pipe)"),
    (stat.S_ISCHR, "a character device"),
    (stat.S_ISBLK, "a block device"),
    (stat.S_ISSOCK, "a socket"),
)


class NotRegularFile(ValueError):
    """The path is not a regular file, or is over the size cap; the message says which, e.g.
    'is a FIFO (named pipe), not a regular file' (it follows the path in a sentence). `kind` is
    the kind of file ('a FIFO (named pipe)'), or None when it is a regular file over the cap."""

    def __init__(self, message: str, kind=None):
        super().__init__(message)
        self.kind = kind


def kind(mode: int) -> str:
    return next((name for test, name in _KINDS if test(mode)), "not a regular file")


def read_regular(path, max_bytes: int) -> bytes:
    """The bytes of `path`, a regular file (or a link to one) of at most `max_bytes`.

    Raises NotRegularFile for any other kind of file or one over the cap, and OSError
    (FileNotFoundError, PermissionError...) when it cannot be opened or read.
    """
    fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK | os.O_NOCTTY | getattr(os, "O_CLOEXEC", 0))
    try:
        info = os.fstat(fd)
        if not stat.S_ISREG(info.st_mode):
            raise NotRegularFile(f"is {kind(info.st_mode)}, not a regular file", kind(info.st_mode))
        if info.st_size > max_bytes:
            raise NotRegularFile(f"is {_size(info.st_size)}, over the {_size(max_bytes)} a file of this kind may be")
        chunks, total = [], 0
        while chunk := os.read(fd, min(max_bytes + 1 - total, 8 * MB)):
            chunks.append(chunk)
            total += len(chunk)
            if total > max_bytes:  # it grew while being read
                raise NotRegularFile(f"grew past {_size(max_bytes)} while being read")
        return b"".join(chunks)
    finally:
        os.close(fd)


def check_regular(path) -> None:
    """Raise NotRegularFile unless `path` names a regular file (for readers that open it themselves,
    such as OpenCV's video capture); `os.stat` does not block on a FIFO."""
    mode = os.stat(path).st_mode
    if not stat.S_ISREG(mode):
        raise NotRegularFile(f"is {kind(mode)}, not a regular file", kind(mode))


def _size(count: int) -> str:
    return f"{count / MB:.0f} MB" if count >= MB else f"{count} bytes"
