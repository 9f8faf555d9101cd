"""Write files beside their target and rename them, so a reader sees the old file or the new one.

A crash, SIGKILL or power cut part-way leaves at most a hidden `.<name>.partial-*` file, never a
truncated artifact under the real name; the next successful write of that name removes it. The
temporary name carries the writer's process id, and the sweep removes only those of processes
that are gone, so two writers of one target never delete each other's file: the last rename
wins, and both see a whole file. (Not an flock on the file: HDF5, which Keras writes weights
with, takes its own lock on the file it writes and fails when it is held.)

The written file gets the mode a plain `open()` would give it (0666 less the umask), or keeps the
mode of the file it replaces, rather than mkstemp's 0600: a model exported by one user is
readable by the service user that runs it.
"""

import contextlib
import glob
import json
import os
import stat
import tempfile
from pathlib import Path


@contextlib.contextmanager
def replacing(target: Path, suffix: str = "", sweep: bool = True):
    """Yield a temporary path beside `target`; on success fsync it and rename it over `target`.

    `suffix` keeps an extension writers insist on (Keras saves only to names ending `.keras`).
    `sweep=False` leaves out the look for what killed writes of `target` left: a writer of many
    new names in one large folder (infer --collect) sweeps it once with `sweep_folder` instead,
    since each look lists the whole folder.
    """
    target = Path(target)
    target.parent.mkdir(parents=True, exist_ok=True)
    try:
        fd, tmp = tempfile.mkstemp(prefix=f".{target.name}.partial-{os.getpid()}-", suffix=suffix, dir=target.parent)
    except OSError as error:  # a read-only or full file system: name the file the user asked for
        raise OSError(error.errno, error.strerror, str(target)) from None
    tmp = Path(tmp)
    try:
        os.fchmod(fd, _mode_for(target))
        os.close(fd)
        yield tmp
        with open(tmp, "rb+") as f:
            os.fsync(f.fileno())
        os.replace(tmp, target)
        fsync_dir(target.parent)
        if sweep:
            _sweep(target)
    except OSError as error:  # a full disk names the file the user asked for, not the temporary one
        if error.filename in (None, str(tmp)):
            raise OSError(error.errno, error.strerror, str(target)) from None
        raise
    finally:
        tmp.unlink(missing_ok=True)


def write_bytes(target: Path, data: bytes, sweep: bool = True) -> Path:
    with replacing(target, sweep=sweep) as tmp:
        tmp.write_bytes(data)
    return Path(target)


def write_text(target: Path, text: str, sweep: bool = True) -> Path:
    return write_bytes(target, text.encode("utf-8"), sweep=sweep)


def write_json(target: Path, obj) -> Path:
    return write_text(target, json.dumps(obj, indent=2, sort_keys=False) + "\n")


def fsync_dir(folder: Path) -> None:
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


def _mode_for(target: Path) -> int:
    """The mode of the file `target` replaces, or 0666 less the umask for a new one."""
    try:
        return stat.S_IMODE(os.stat(target).st_mode)
    except OSError:
        return 0o666 & ~_umask()


def _umask() -> int:
    try:  # Linux 4.7+: read it without changing it (os.umask would, for every thread)
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("Umask:"):
                return int(line.split()[1], 8)
    except (OSError, ValueError):
        pass
    mask = os.umask(0o022)
    os.umask(mask)
    return mask


def sweep_folder(folder: Path) -> None:
    """Remove what killed writes left anywhere in `folder` (the temporary files of processes that
    are gone), in one look."""
    for stale in Path(folder).glob(".*.partial-*"):
        pid = stale.name.split(".partial-", 1)[1].split("-", 1)[0]
        if pid.isdigit() and not _alive(int(pid)):
            stale.unlink(missing_ok=True)


def _sweep(target: Path) -> None:
    """Remove what earlier writes of `target` left when they were killed part-way: the temporary
    files of processes that are gone (a live one, this one included, may be writing its own)."""
    prefix = f".{target.name}.partial-"
    for stale in target.parent.glob(f"{glob.escape(prefix)}*"):
        pid = stale.name[len(prefix) :].split("-", 1)[0]
        if pid.isdigit() and _alive(int(pid)):
            continue
        try:
            stale.unlink()
        except OSError:
            pass


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except (ProcessLookupError, OverflowError):  # OverflowError: a number no process id can be
        return False
    except OSError:  # PermissionError: it exists, as another user's
        return True
    return True
