"""Ctrl-C while the main thread is inside a long C call (as in TensorFlow's first-step tracing):
the watchdog ends the run within the grace period, with the line said once and exit 130."""

import signal
import subprocess
import sys
import time

from edgecell.train.interrupt import EXIT_INTERRUPTED, GRACE_S

BUSY_IN_C = """
import numpy as np
from edgecell.train.interrupt import Guard
with Guard(lambda: print("Interrupted; continue with --resume", flush=True)):
    print("busy", flush=True)
    big = np.random.default_rng(0).random((1500, 1500))
    for _ in range(2000):  # each product is one C call of a fraction of a second, which no Python handler interrupts
        big = big @ big
        big /= big.max()
print("not interrupted")
"""


def start():
    process = subprocess.Popen([sys.executable, "-c", BUSY_IN_C], stdout=subprocess.PIPE, text=True)
    assert process.stdout.readline() == "busy\n"
    time.sleep(0.5)
    return process


def test_a_run_stuck_in_c_ends_within_the_grace_period_with_one_line():
    process = start()
    process.send_signal(signal.SIGINT)
    sent = time.monotonic()
    rest, _ = process.communicate(timeout=60)
    assert process.returncode == EXIT_INTERRUPTED
    assert time.monotonic() - sent < GRACE_S + 3
    assert rest.splitlines() == ["Interrupted; continue with --resume"]


def test_a_second_ctrl_c_ends_at_once():
    process = start()
    process.send_signal(signal.SIGINT)
    time.sleep(0.2)
    process.send_signal(signal.SIGINT)
    sent = time.monotonic()
    rest, _ = process.communicate(timeout=60)
    assert process.returncode == EXIT_INTERRUPTED and rest.count("Interrupted") == 1
    assert time.monotonic() - sent < GRACE_S  # not the watchdog's grace: the handler itself ended it
