"""Per-image results as a file: CSV or JSON Lines, one row per image, written as it is produced.

Each row is encoded whole and handed to the operating system in one `write` call, so a crash,
Ctrl-C or SIGKILL leaves only complete lines; the file is synced to the disk at most once a
second and at the end, so a power cut loses at most the last second of rows. The results file
is written in place (it is a log that grows during the run); the summary, written once at the
end, goes beside its target and is renamed like every other artifact.

A service that runs for months needs a bounded file: with `max_bytes`, a row that would take the
file past the cap first moves it to `<name>.1` (replacing the older one) and starts a new file,
so at most twice the cap is on disk and every line stays whole. With `append`, a restarted run
adds to the file instead of starting it afresh.

Class-change events (`device/loop/events.py`) are rows too, right after the frame that settled them:
status `event`, `label` the class it changed to, `score` its smoothed score; in CSV the `top_k`
column holds the class it changed from; in JSONL the row has `previous`, `frame` and `time`.
"""

import csv
import io
import json
import os
import stat
import time
from pathlib import Path

from edgecell.core.errors import EdgecellError
from edgecell.device.loop.result import row
from edgecell.device.sinks.base import Sink

FORMATS = (".csv", ".jsonl")
FIELDS = [
    "source",
    "status",
    "label",
    "score",
    "top_k",
    "decode_ms",
    "preprocess_ms",
    "invoke_ms",
    "postprocess_ms",
    "total_ms",
    "wait_ms",
    "error",
    "time_utc",
]
SYNC_EVERY_S = 1.0
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
_SHORT_TEXT = 200  # characters a text cell keeps in a row shortened to fit the cap


def csv_cell(value) -> str:
    """A value as a CSV cell a spreadsheet shows as text: no formula, no `None`."""
    if value is None:
        return ""
    if isinstance(value, str) and value.startswith(_FORMULA_START):
        return "'" + value
    return value


def top_k_cell(classes) -> str:
    """`label:score;label:score`, with `\\`, `;` and `:` in a label backslash-escaped."""

    def escape(label):
        return str(label).replace("\\", "\\\\").replace(";", "\\;").replace(":", "\\:")

    return ";".join(f"{escape(c['label'])}:{c['score']:.6f}" for c in classes)


class ResultWriter(Sink):
    """Appends rows to a CSV or JSONL file; use as a context manager."""

    def __init__(self, path, append: bool = False, max_bytes=None):
        self.path = Path(path)
        self.append = append
        self.max_bytes = max_bytes
        self.rotations = 0
        suffix = self.path.suffix.lower()
        if suffix not in FORMATS:
            raise EdgecellError(f"--output {self.path} must end in .csv or .jsonl (one row per image).")
        self.format = suffix[1:]
        if self.path.is_dir():
            raise EdgecellError(f"--output {self.path} is a folder; give a file name ending in .csv or .jsonl.")
        if max_bytes is not None and max_bytes < 4096:
            raise EdgecellError(f"A results cap of {max_bytes} bytes is too small; give at least 4 KB.")
        self._fd = None
        self.rows = 0
        self._empty_size = len(self._csv_line(FIELDS).encode("utf-8")) if self.format == "csv" else 0  # no rows yet
        self._open(truncate=not append)

    def _open(self, truncate: bool):
        # O_NOFOLLOW: a symbolic link planted at the path is refused, its target never truncated.
        flags = os.O_RDWR | os.O_CREAT | os.O_APPEND | os.O_NOFOLLOW | os.O_NONBLOCK
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            self._fd = os.open(self.path, flags, 0o644)
            info = os.fstat(self._fd)
            self._size = info.st_size
        except OSError as error:
            if error.errno == 40:  # ELOOP: the path is a symbolic link
                raise EdgecellError(
                    f"--output {self.path} is a symbolic link; give the results file itself (links are not followed)."
                ) from None
            raise EdgecellError(f"--output {self.path} cannot be written ({error.strerror}).") from None
        try:
            self._check_existing(info)
        except EdgecellError:
            os.close(self._fd)
            self._fd = None
            raise
        if truncate and self._size:
            os.ftruncate(self._fd, 0)
            self._size = 0
        elif self._size and not self._ends_with_newline():
            self._write("\n")  # a power cut tore the last line: the next row starts on its own
        self._synced = time.monotonic()
        if self.format == "csv" and self._size == 0:
            self._write(self._csv_line(FIELDS))

    def _check_existing(self, info):
        """A file already there is written only if it is a results file of this format (or empty)."""
        if not stat.S_ISREG(info.st_mode):
            raise EdgecellError(
                f"--output {self.path} is not a regular file; give a file name ending in .csv or .jsonl."
            )
        if info.st_size == 0:
            return
        first = os.pread(self._fd, 4096, 0).split(b"\n", 1)[0]
        header = self._csv_line(FIELDS).encode("utf-8").rstrip(b"\n")
        if self.format == "csv":
            ours = first == header
        else:
            try:
                ours = {"source", "status"} <= set(json.loads(first))
            except (ValueError, TypeError):
                ours = False
        if not ours:
            raise EdgecellError(
                f"--output {self.path} exists and is not an edgecell results file of this version "
                f"(its first line is not {'the CSV header' if self.format == 'csv' else 'a results row'}); "
                "give a new file name, or move that file away."
            )

    def _ends_with_newline(self) -> bool:
        return os.pread(self._fd, 1, self._size - 1) == b"\n"

    def _rotate(self):
        """Keep the full file as `<name>.1` and start a new one."""
        self.close()
        os.replace(self.path, self.path.with_name(self.path.name + ".1"))
        self.rotations += 1
        self._open(truncate=True)

    def write(self, result):
        values = row(result)
        line = self._line(values)
        if self.max_bytes is not None and len(line) > self.max_bytes - self._empty_size:
            values["top_k"] = values["top_k"][:1]
            for key in ("source", "label", "error"):
                if isinstance(values[key], str) and len(values[key]) > _SHORT_TEXT:
                    values[key] = values[key][:_SHORT_TEXT] + "..."
            line = self._line(values)
        self._write(line)
        self.rows += 1
        if time.monotonic() - self._synced >= SYNC_EVERY_S:
            self.sync()

    def event(self, event):
        """A class-change event as a row (see the module's docstring); a drift event (loop/drift.py)
        is a row with status `drift`, `label` its state and `score` the top-1 scores' PSI."""
        found = event.as_dict()
        if found["type"] == "drift":
            if self.format == "csv":
                values = {"source": event.source, "status": "drift", "label": event.state, "score": event.score_psi}
                line = self._csv_line(["" if values.get(k) is None else values[k] for k in FIELDS])
            else:
                line = json.dumps({**found, "status": "drift"}, ensure_ascii=False) + "\n"
            self._write(line)
            return
        if self.format == "csv":
            values = {"source": event.source, "status": "event", "label": event.label, "score": event.score}
            values["top_k"] = event.previous
            line = self._csv_line(["" if values.get(k) is None else values[k] for k in FIELDS])
        else:
            values = {"source": event.source, "status": "event", "label": event.label, "score": event.score}
            values.update(previous=event.previous, frame=event.frame, time=event.time)
            if event.unknown_threshold is not None:
                values["unknown_threshold"] = event.unknown_threshold
            line = json.dumps(values, ensure_ascii=False) + "\n"
        self._write(line)

    def _line(self, values: dict) -> bytes:
        if self.format == "csv":
            values = dict(values, top_k=top_k_cell(values["top_k"]))
            text = self._csv_line([csv_cell(values[k]) for k in FIELDS])
        else:
            text = json.dumps(values, ensure_ascii=False) + "\n"
        return text.encode("utf-8", "backslashreplace")  # a name that is not UTF-8 is kept, escaped

    @staticmethod
    def _csv_line(values) -> str:
        buffer = io.StringIO()
        csv.writer(buffer, lineterminator="\n").writerow(values)
        return buffer.getvalue()

    def _write(self, line):
        data = line if isinstance(line, bytes) else line.encode("utf-8")
        if self.max_bytes is not None and self._size + len(data) > self.max_bytes and self._size > self._empty_size:
            self._rotate()
        try:
            written = os.write(self._fd, data)
            while written < len(data):  # a short write (a disk filling up): finish the line
                written += os.write(self._fd, data[written:])
        except OSError as error:  # cut off the part of the line that fit, and name the file
            self._cut_back()
            raise OSError(error.errno, error.strerror, str(self.path)) from None
        self._size += len(data)

    def _cut_back(self):
        """Truncate to the last whole line, so a full disk leaves no half row behind."""
        try:
            os.ftruncate(self._fd, self._size)
        except OSError:
            pass

    def sync(self):
        try:
            os.fsync(self._fd)
        except OSError as error:
            raise OSError(error.errno, error.strerror, str(self.path)) from None
        self._synced = time.monotonic()

    def close(self):
        if self._fd is not None:
            try:
                self.sync()
            finally:
                os.close(self._fd)
                self._fd = None

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()
        return False
