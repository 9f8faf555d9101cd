"""One writer of a folder at a time: two `edgecell export` of one model folder take turns.

An flock on `<folder>/.<what>.lock` (an empty file), held for the whole run and released by the kernel when the process
ends however it ends (no stale lock to clean up after a kill). The second run waits, saying so,
then runs as if it had been started after the first.
"""

import contextlib
import fcntl
import os
from pathlib import Path


@contextlib.contextmanager
def locked(folder, what: str, log=print):
    folder = Path(folder)
    try:
        fd = os.open(folder / f".{what}.lock", os.O_RDWR | os.O_CREAT | os.O_NOFOLLOW | os.O_CLOEXEC, 0o666)
    except OSError:  # a read-only disk or a missing folder: the run itself says why, in one sentence
        yield
        return
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            log(f"Waiting for another {what} of {folder} to finish ...")
            fcntl.flock(fd, fcntl.LOCK_EX)
        yield
    finally:
        os.close(fd)
