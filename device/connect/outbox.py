"""A bounded first-in, first-out queue on disk: what waits for an MQTT broker that has gone away.

Records (bytes without a newline, e.g. JSON) are appended as lines to segment files
`000000000001.q`, `000000000002.q`, ... in one folder, and taken back in the order they went in.
A segment that has been read whole is deleted. Past `max_bytes` on disk, a new record is refused
and counted in `dropped`: the records already waiting keep their order and nothing older is lost.

The folder outlives the process: a restarted run delivers what the last one left. A clean `close`
writes the unread rest of the head segment back (and any records handed to it, in front), so
nothing is sent twice; after a crash, the head segment's records that were already taken are
sent again (at least once, as MQTT's QoS 1 is). One process at a time: the folder is locked.

A power cut can leave a segment ending in part of a record (or in zeros: the file's new length
reached the disk and its data did not). As Kafka's log recovery truncates a segment at its first
incomplete batch, opening the folder cuts each segment back to its last whole line and counts the
cut record in `torn`; the records before it are delivered. Appends reach the disk (fsync) at most
once every `SYNC_S`, as Kafka's `flush.ms` and journald's `SyncIntervalSec=` bound theirs: a power
cut loses at most the last second of results, and a busy loop does not wait on the SD card for
each one.
"""

import collections
import fcntl
import os
import time
from pathlib import Path

from edgecell.core import atomic
from edgecell.core.errors import EdgecellError

SEGMENT_BYTES = 256 * 1024
SUFFIX = ".q"
FIRST = 10**9  # segment numbers start here, leaving room for records put back in front
SYNC_S = 1.0  # appends are fsynced at most this often (and at `sync` once due, and at `close`)


class Outbox:
    def __init__(self, folder, max_bytes: int):
        self.folder = Path(folder)
        self.max_bytes = max_bytes
        self.dropped = 0
        self.torn = 0  # records cut short by a crash mid-write, found and cut off when the folder opened
        try:
            self.folder.mkdir(parents=True, exist_ok=True)
            self._lock = os.open(self.folder / "lock", os.O_RDWR | os.O_CREAT, 0o644)
        except OSError as error:
            raise EdgecellError(f"The outbox folder {self.folder} cannot be used ({error.strerror}).") from None
        try:
            fcntl.flock(self._lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:
            os.close(self._lock)
            raise EdgecellError(
                f"Another edgecell run is using the outbox {self.folder}; give this one its own folder."
            ) from None
        self._segments = sorted(int(p.stem) for p in self.folder.glob("*" + SUFFIX) if p.stem.isdigit())
        self.bytes = self._count = 0
        for number in self._segments:
            data = self._recover(number)
            self.bytes += len(data)
            self._count += data.count(b"\n")
        self._head = collections.deque()  # the records of the first segment, loaded to be read
        self._head_segment = None
        self._tail = None  # (segment number, file) being appended to
        self._synced = time.monotonic()
        self._unsynced = False

    def __len__(self) -> int:
        return self._count

    def append(self, record: bytes) -> bool:
        """Queue `record` on disk; False (and one more `dropped`) when the cap is reached."""
        line = record + b"\n"
        if self.bytes + len(line) > self.max_bytes:
            self.dropped += 1
            return False
        if self._tail is None or self._tail[1].tell() >= SEGMENT_BYTES:
            self._open_tail()
        self._tail[1].write(line)
        self._tail[1].flush()  # to the operating system: a crash of this process loses nothing
        self.bytes += len(line)
        self._count += 1
        self._unsynced = True
        self.sync()
        return True

    def sync(self, force: bool = False) -> None:
        """fsync what was appended, if `SYNC_S` has passed since the last time (or `force`)."""
        if not self._unsynced or self._tail is None:
            return
        if force or time.monotonic() - self._synced >= SYNC_S:
            os.fsync(self._tail[1].fileno())
            self._synced, self._unsynced = time.monotonic(), False

    def peek(self):
        """The oldest record, or None when the outbox is empty."""
        if not self._head and not self._load_head():
            return None
        return self._head[0]

    def pop(self):
        """Take the oldest record (after `peek` said what it is)."""
        record = self.peek()
        if record is None:
            return None
        self._head.popleft()
        self._count -= 1
        if not self._head:  # the whole segment has been read: it can go
            path = self._path(self._head_segment)
            self.bytes -= path.stat().st_size
            path.unlink()
            self._segments.remove(self._head_segment)
            self._head_segment = None
        return record

    def close(self, front=()):
        """Keep what was not taken, `front` (records taken but not delivered) first, for the next run."""
        self._close_tail()
        rest = list(front) + list(self._head)
        if rest:
            number = (
                self._head_segment if self._head_segment is not None else (min(self._segments, default=FIRST + 1) - 1)
            )
            atomic.write_bytes(self._path(number), b"".join(r + b"\n" for r in rest))
        self._head.clear()
        os.close(self._lock)

    def _recover(self, number: int) -> bytes:
        """A segment's whole records, the segment cut back to them: what a crash mid-write left
        after the last one is part of one record (or zeros), never a record to send."""
        path = self._path(number)
        data = path.read_bytes()
        if data.endswith(b"\n") or not data:
            return data
        data = data[: data.rfind(b"\n") + 1]
        os.truncate(path, len(data))
        self.torn += 1
        return data

    def _load_head(self) -> bool:
        if not self._segments:
            return False
        first = self._segments[0]
        if self._tail is not None and self._tail[0] == first:
            self._close_tail()  # new records go to a new segment from now on
        self._head_segment = first
        self._head.extend(self._path(first).read_bytes().splitlines())
        if not self._head:  # an empty segment (a crash between creating and writing it)
            self._path(first).unlink()
            self._segments.remove(first)
            self._head_segment = None
            return self._load_head()
        return True

    def _open_tail(self):
        self._close_tail()
        number = max(self._segments, default=FIRST) + 1
        self._segments.append(number)
        self._tail = (number, open(self._path(number), "ab"))
        atomic.fsync_dir(self.folder)  # the new file's name survives a power cut with its records

    def _close_tail(self):
        if self._tail is not None:
            self.sync(force=True)
            self._tail[1].close()
            self._tail = None

    def _path(self, number: int) -> Path:
        return self.folder / f"{number:012d}{SUFFIX}"
