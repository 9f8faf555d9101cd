"""Write files beside their target and rename them, so a reader sees the old file or the new one.

A crash, SIGKILL or power cut part-way leaves at most a hidden `.<name>.partial-*` file, never a
truncated artifact under the real name; the next successful write of that name removes it.
"""

import contextlib
import glob
import json
import os
import tempfile
from pathlib import Path


@contextlib.contextmanager
def replacing(target: Path, suffix: str = ""):
    """Yield a temporary path beside `target`; on success fsync it and rename it over `target`.

    `suffix` keeps an extension writers insist on (Keras saves only to names ending `.keras`).
    """
    target = Path(target)
    target.parent.mkdir(parents=True, exist_ok=True)
    try:
        fd, tmp = tempfile.mkstemp(prefix=f".{target.name}.partial-", suffix=suffix, dir=target.parent)
    except OSError as error:  # a read-only or full file system: name the file the user asked for
        raise OSError(error.errno, error.strerror, str(target)) from None
    os.close(fd)
    tmp = Path(tmp)
    try:
        yield tmp
        with open(tmp, "rb+") as f:
            os.fsync(f.fileno())
        os.replace(tmp, target)
        _fsync_dir(target.parent)
        _sweep(target)
    except OSError as error:  # a full disk names the file the user asked for, not the temporary one
        if error.filename in (None, str(tmp)):
            raise OSError(error.errno, error.strerror, str(target)) from None
        raise
    finally:
        tmp.unlink(missing_ok=True)


def write_bytes(target: Path, data: bytes) -> Path:
    with replacing(target) as tmp:
        tmp.write_bytes(data)
    return Path(target)


def write_text(target: Path, text: str) -> Path:
    return write_bytes(target, text.encode("utf-8"))


def write_json(target: Path, obj) -> Path:
    return write_text(target, json.dumps(obj, indent=2, sort_keys=False) + "\n")


def _fsync_dir(folder: Path) -> None:
    try:
        fd = os.open(folder, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


def _sweep(target: Path) -> None:
    """Remove what earlier writes of `target` left when they were killed part-way."""
    for stale in target.parent.glob(f".{glob.escape(target.name)}.partial-*"):
        try:
            stale.unlink()
        except OSError:
            pass
