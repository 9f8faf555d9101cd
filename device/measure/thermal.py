"""How hot the board is and whether it is throttling: what the live page and /metrics show.

A Raspberry Pi slows its CPU when it is too hot or under-powered, and a classifier that was fast
on the bench becomes slow in the field: the latency and the temperature belong side by side.
The temperature comes from the kernel's thermal zones (`/sys/class/thermal`, millidegrees), the
throttling from the firmware's `vcgencmd get_throttled` (Raspberry Pi only). Where either is
missing (a laptop, a container) the reading is None and the page says "unknown".
"""

import shutil
import subprocess
import threading
import time
from pathlib import Path
from typing import NamedTuple, Optional

THERMAL_ROOT = Path("/sys/class/thermal")
# Zone types that are the CPU on common boards (Pi: cpu-thermal; Rockchip: soc-thermal; x86).
CPU_ZONES = ("cpu-thermal", "cpu_thermal", "soc-thermal", "soc_thermal", "x86_pkg_temp", "cpu0-thermal")
# `vcgencmd get_throttled` bits: now (low half) and since boot (high half).
THROTTLE_BITS = {
    0: "under-voltage",
    1: "frequency capped",
    2: "throttled",
    3: "soft temperature limit",
    16: "under-voltage occurred",
    17: "frequency capping occurred",
    18: "throttling occurred",
    19: "soft temperature limit occurred",
}
CACHE_SECONDS = 2.0  # vcgencmd is a process start: read at most this often, however many pages poll


class Reading(NamedTuple):
    celsius: Optional[float]  # None: no thermal zone here
    throttled: Optional[int]  # the raw get_throttled bits; None: no vcgencmd here
    flags: tuple = ()  # THROTTLE_BITS names of the bits set

    def as_dict(self) -> dict:
        return {
            "cpu_celsius": self.celsius,
            "throttled": None if self.throttled is None else hex(self.throttled),
            "throttle_flags": list(self.flags),
        }


def cpu_celsius(root: Path = THERMAL_ROOT) -> Optional[float]:
    """The CPU zone's temperature (or the first zone's when none is named as the CPU), or None."""
    zones = sorted(root.glob("thermal_zone*"))
    named = [z for z in zones if _read(z / "type") in CPU_ZONES]
    for zone in named + zones:
        text = _read(zone / "temp")
        try:
            return round(int(text) / 1000.0, 1)
        except (TypeError, ValueError):
            continue
    return None


def parse_throttled(text: str) -> Optional[int]:
    """'throttled=0x50005' -> 0x50005; None for anything else."""
    _, _, value = text.strip().partition("throttled=")
    try:
        return int(value, 16)
    except ValueError:
        return None


def throttled(vcgencmd: Optional[str] = None) -> Optional[int]:
    """The firmware's throttling bits, or None where there is no working `vcgencmd`."""
    command = vcgencmd or shutil.which("vcgencmd")
    if command is None:
        return None
    try:
        done = subprocess.run([command, "get_throttled"], capture_output=True, text=True, timeout=2)
    except (OSError, subprocess.SubprocessError):
        return None
    return parse_throttled(done.stdout) if done.returncode == 0 else None


def flags(bits: Optional[int]) -> tuple:
    return () if not bits else tuple(name for bit, name in THROTTLE_BITS.items() if bits & (1 << bit))


class Sensor:
    """`read()` the temperature and throttling, cached for `CACHE_SECONDS` (thread-safe)."""

    def __init__(self, root: Path = THERMAL_ROOT, vcgencmd: Optional[str] = None):
        self.root, self.vcgencmd = root, vcgencmd
        self._lock = threading.Lock()
        self._at = -CACHE_SECONDS
        self._last = Reading(None, None)

    def read(self) -> Reading:
        with self._lock:
            if time.monotonic() - self._at >= CACHE_SECONDS:
                bits = throttled(self.vcgencmd)
                self._last = Reading(cpu_celsius(self.root), bits, flags(bits))
                self._at = time.monotonic()
            return self._last


def _read(path: Path) -> Optional[str]:
    try:
        return path.read_text().strip()
    except OSError:
        return None
