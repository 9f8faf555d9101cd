"""The real CLI in a process of its own, with its peak resident memory as the kernel counted it."""

import os
import subprocess
import sys
import threading


def run_cli(args, stdout=subprocess.DEVNULL, seconds=300):
    """(exit code, peak RSS in MB from wait4's ru_maxrss) of `python -m edgecell ARGS`; killed
    after `seconds`, so a hang fails the test instead of hanging it."""
    proc = subprocess.Popen(
        [sys.executable, "-m", "edgecell", *map(str, args)], stdout=stdout, stderr=subprocess.STDOUT
    )
    timer = threading.Timer(seconds, proc.kill)
    timer.start()
    try:
        _, status, usage = os.wait4(proc.pid, 0)
    finally:
        timer.cancel()
    proc.returncode = os.waitstatus_to_exitcode(status)
    return proc.returncode, usage.ru_maxrss / 1024
