"""Where a measurement was taken: runtime, CPU, board, temperature and throttling.

Latency numbers mean little without the machine they came from; `infer` and `bench` attach this
to every summary. Everything is read from /proc and /sys, so it costs nothing on the board.
"""

import os
import platform
from pathlib import Path

import numpy as np

from edgecell.core.version import __version__
from edgecell.device.measure import thermal


def cpu_model() -> str:
    try:
        text = Path("/proc/cpuinfo").read_text(errors="replace")
    except OSError:
        return platform.processor() or platform.machine()
    for key in ("model name", "Model", "Hardware", "cpu model"):
        for line in text.splitlines():
            if line.split(":")[0].strip() == key:
                return line.split(":", 1)[1].strip()
    return platform.machine()


def board_model():
    """The board's name from the device tree (a Raspberry Pi says 'Raspberry Pi 4 Model B ...')."""
    try:
        return Path("/proc/device-tree/model").read_text(errors="replace").rstrip("\x00\n ") or None
    except OSError:
        return None


def cpu_temperature_c():
    return thermal.cpu_celsius()


def throttled():
    """The Pi firmware's throttling flags (`vcgencmd get_throttled`), e.g. '0x0', when available."""
    bits = thermal.throttled()
    return None if bits is None else hex(bits)


def run_context(runtime=None, threads=None) -> dict:
    context = {
        "edgecell_version": __version__,
        "python": platform.python_version(),
        "numpy": np.__version__,
        "machine": platform.machine(),
        "cpu": cpu_model(),
        "cpu_count": os.cpu_count(),
        "board": board_model(),
        "cpu_temperature_c": cpu_temperature_c(),
        "throttled": throttled(),
    }
    if runtime is not None:
        context["runtime"] = runtime.name
        context["runtime_version"] = runtime.version
    if threads is not None:
        context["threads"] = threads
    try:
        import cv2

        context["opencv"] = cv2.__version__
    except ImportError:
        pass
    return context
