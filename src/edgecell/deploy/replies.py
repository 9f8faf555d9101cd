"""Run a command and read what it answers with a cap on each stream, as it arrives.

A board is another machine: a login script printing in a loop, a full disk's error repeated, or a
hostile board can answer any amount. subprocess.run(capture_output=True) keeps all of it (a 200 MB
reply took the laptop past 900 MB, benchmarks/deploy_replies.py), so here each stream is read in
blocks by a thread of its own, at most `MAX_OUT` of standard output (the board's infer rows and
bench JSON: a few hundred kB) and `MAX_ERR` of standard error (the tail of a log). Past a cap the
command is killed and ReplyTooLarge says which stream and how much, in one sentence.
"""

import os
import signal
import subprocess
import threading
from pathlib import Path
from typing import NamedTuple, Union

MAX_OUT = 16 * 2**20
MAX_ERR = 256 * 2**10
BLOCK = 64 * 1024


class ReplyTooLarge(Exception):
    """The command answered more than its cap on one stream; `str()` is one sentence."""


class Reply(NamedTuple):
    code: int
    out: bytes
    err: bytes


def run_capped(
    argv: list, data: Union[bytes, Path, None] = None, timeout: float = 300, max_out=MAX_OUT, max_err=MAX_ERR
) -> Reply:
    """Run `argv` with `data` (bytes or a file) as its standard input; raises ReplyTooLarge past a
    cap and subprocess.TimeoutExpired after `timeout` seconds (the command is killed in both)."""
    stdin = subprocess.DEVNULL if data is None else subprocess.PIPE
    # A group of its own, so that stopping it stops what it started too (they hold the pipes open).
    proc = subprocess.Popen(argv, stdin=stdin, stdout=subprocess.PIPE, stderr=subprocess.PIPE, start_new_session=True)
    over = []  # (stream name, cap) of the first stream past its cap

    def stop():
        try:
            os.killpg(proc.pid, signal.SIGKILL)
        except OSError:  # already gone
            pass

    def read(stream, cap: int, name: str, into: bytearray):
        while True:
            block = stream.read1(BLOCK)
            if not block:
                return
            if len(into) + len(block) > cap:
                over.append((name, cap))
                stop()
                return
            into += block

    def feed():
        try:
            if isinstance(data, Path):
                with open(data, "rb") as f:
                    for block in iter(lambda: f.read(BLOCK), b""):
                        proc.stdin.write(block)
            else:
                proc.stdin.write(data)
        except (BrokenPipeError, OSError):  # the command stopped reading: its exit code says why
            pass
        finally:
            try:
                proc.stdin.close()
            except OSError:
                pass

    out, err = bytearray(), bytearray()
    threads = [
        threading.Thread(target=read, args=(proc.stdout, max_out, "standard output", out), daemon=True),
        threading.Thread(target=read, args=(proc.stderr, max_err, "standard error", err), daemon=True),
    ]
    if data is not None:
        threads.append(threading.Thread(target=feed, daemon=True))
    for thread in threads:
        thread.start()
    try:
        code = proc.wait(timeout=timeout)
    except BaseException:  # the timeout, or Ctrl-C: the command is not left running
        stop()
        proc.wait()
        raise
    finally:
        for thread in threads:
            thread.join(timeout=5)
        proc.stdout.close()
        proc.stderr.close()
    if over:
        name, cap = over[0]
        raise ReplyTooLarge(
            f"the board answered more than {size(cap)} on its {name}; stopped reading and ended the command "
            "(something on the board prints without end: check its login scripts, e.g. ~/.bashrc, and its disk)."
        )
    return Reply(code, bytes(out), bytes(err))


def size(n: int) -> str:
    return f"{n // 2**20} MiB" if n >= 2**20 else f"{n // 2**10} KiB"
