"""Run one command and report what the kernel counted for it: wall time and peak resident memory.

    python benchmarks/spawn.py COMMAND [ARG ...]   ->  {"seconds": ..., "peak_mb": ..., "exit_code": ...}

A separate small launcher because Linux's ru_maxrss of a child starts from the memory of the
process that forked it (fork copies the page tables; vfork shares them until exec), so a child
spawned by a benchmark process that holds models would inherit that process's peak. This launcher
is a bare Python holding a few MB, so the figure is the command's own.
"""

import json
import os
import subprocess
import sys
import time


def main(argv) -> int:
    start = time.perf_counter()
    child = subprocess.Popen(argv, stdout=subprocess.DEVNULL)
    _, status, usage = os.wait4(child.pid, 0)
    seconds = time.perf_counter() - start
    child.returncode = os.waitstatus_to_exitcode(status)
    print(json.dumps({"seconds": seconds, "peak_mb": usage.ru_maxrss / 1024.0, "exit_code": child.returncode}))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
