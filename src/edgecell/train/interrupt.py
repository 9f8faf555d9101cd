"""Ctrl-C during training: stop at the next batch, keep the last epoch's backup, end with one line.

Python's default SIGINT handler raises KeyboardInterrupt wherever the main thread happens to be,
and only once it runs Python again: inside TensorFlow's C++ (tracing the first step, a
compile, a batch) that can be seconds later, and raised inside TensorFlow's own Python it has
come out as a SystemError traceback or been swallowed (training went on to the end). So the
handler only records the request, a Keras callback raises it at the next batch boundary, where
nothing is half-done, and a watchdog thread, woken at once through Python's signal wakeup fd,
ends the process if the main thread has not answered within GRACE_S: the epoch backup is
written atomically after every epoch, so a hard exit never loses more than the epoch under way.
A second Ctrl-C ends at once the same way.
"""

import os
import signal
import sys
import threading

from edgecell.core import requires

GRACE_S = 3.0  # seconds the main thread has to reach a batch boundary before the watchdog ends it
EXIT_INTERRUPTED = 130  # 128 + SIGINT, as a shell reports it


class Guard:
    """`with Guard(say) as guard:` around training; `guard.callback()` goes into `model.fit`.

    `say()` prints the closing line; it is called exactly once, by whichever side ends the run:
    the main thread through `guard.interrupted()`, or the watchdog before exiting 130.
    """

    def __init__(self, say, grace_s: float = GRACE_S):
        self.say, self.grace_s = say, grace_s
        self.requested = threading.Event()
        self._ended = threading.Event()
        self._said = threading.Lock()
        self._previous = None
        self._pipe = None

    def __enter__(self):
        read, write = os.pipe()
        os.set_blocking(write, False)
        self._pipe = (read, write)
        self._previous = signal.signal(signal.SIGINT, self._handle)
        self._wakeup = signal.set_wakeup_fd(write, warn_on_full_buffer=False)
        threading.Thread(target=self._watch, name="ctrl-c-watchdog", daemon=True).start()
        return self

    def __exit__(self, *exc):
        self._ended.set()
        signal.set_wakeup_fd(self._wakeup)
        signal.signal(signal.SIGINT, self._previous)
        os.close(self._pipe[1])  # ends the watchdog's read
        return False

    def callback(self):
        """A Keras callback that raises KeyboardInterrupt at the first batch boundary after Ctrl-C."""
        keras = requires.keras("`edgecell train`")
        guard = self

        class StopOnRequest(keras.callbacks.Callback):
            def _check(self, *args, **kwargs):
                if guard.requested.is_set():
                    raise KeyboardInterrupt

            on_train_batch_begin = on_train_batch_end = on_test_batch_end = _check
            on_epoch_begin = on_test_begin = _check

        return StopOnRequest()

    def interrupted(self) -> None:
        """The main thread reached a boundary: say the line (unless the watchdog already did)."""
        self._ended.set()
        if self._said.acquire(blocking=False):
            self.say()

    # --- signal side ------------------------------------------------------------------------------
    def _handle(self, signum, frame):
        if self.requested.is_set():  # a second Ctrl-C: no more waiting
            self._exit()
        self.requested.set()

    def _watch(self):
        read = self._pipe[0]
        try:
            while not self._ended.is_set():
                woken = os.read(read, 64)
                if not woken:  # the guard was left: training ended on its own
                    return
                if signal.SIGINT in woken:
                    self.requested.set()
                    if not self._ended.wait(self.grace_s):
                        self._exit()
                    return
        finally:
            os.close(read)

    def _exit(self):
        if self._said.acquire(blocking=False):
            self.say()
        for stream in (sys.stdout, sys.stderr):
            try:
                stream.flush()
            except (OSError, ValueError):
                pass
        os._exit(EXIT_INTERRUPTED)
