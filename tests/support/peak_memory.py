"""The real CLI in a process of its own, with its peak resident memory as the kernel counted it.

Linux's ru_maxrss of a child starts from the memory of the process that forked it, and pytest's
process holds TensorFlow by the time the whole suite reaches these tests (1.4 GB seen). So the CLI
is started by a bare Python launcher, as benchmarks/spawn.py does, and the launcher reports the
CLI's own peak.
"""

import json
import os
import signal
import subprocess
import sys
import tempfile
import threading

from support.cli import edgecell_command

LAUNCHER = (
    "import json, os, subprocess, sys\n"
    "child = subprocess.Popen(sys.argv[2:])\n"
    "_, status, usage = os.wait4(child.pid, 0)\n"
    "with open(sys.argv[1], 'w') as out:\n"
    "    json.dump([os.waitstatus_to_exitcode(status), usage.ru_maxrss / 1024], out)\n"
)


def run_cli(args, stdout=subprocess.DEVNULL, seconds=300):
    """(exit code, peak RSS in MB from wait4's ru_maxrss) of `python -m edgecell ARGS`; killed
    after `seconds`, so a hang fails the test instead of hanging it."""
    with tempfile.TemporaryDirectory() as folder:
        report = os.path.join(folder, "peak.json")
        command = [sys.executable, "-c", LAUNCHER, report, *edgecell_command(*args)]
        proc = subprocess.Popen(command, stdout=stdout, stderr=subprocess.STDOUT, start_new_session=True)
        timer = threading.Timer(seconds, lambda: os.killpg(proc.pid, signal.SIGKILL))
        timer.start()
        try:
            proc.wait()
        finally:
            timer.cancel()
        if not os.path.exists(report):  # killed by the timer
            return -signal.SIGKILL, float("nan")
        with open(report) as done:
            code, peak_mb = json.load(done)
    return code, peak_mb
