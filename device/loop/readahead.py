"""Reading ahead: the next images decoded and preprocessed in a thread while the model runs.

OpenCV, numpy and the TFLite runtime release the GIL in their heavy calls, so on a multi-core
board decoding image N+1 overlaps with inference on image N. The queue is bounded, so memory
stays at `depth` images whatever the folder holds.
"""

import queue
import threading


def ahead(frames, depth: int, stop):
    """The items of `frames`, produced by a background thread at most `depth` ahead of the
    consumer. Ends early once `stop` (a threading.Event) is set and nothing is ready; an
    exception in the producer is raised in the consumer; closing the generator stops the thread."""
    buffer = queue.Queue(maxsize=depth)
    done = object()
    finished = threading.Event()

    def offer(item) -> bool:
        while not finished.is_set():
            try:
                buffer.put(item, timeout=0.1)
                return True
            except queue.Full:
                continue
        return False

    def produce():
        try:
            for frame in frames:
                if not offer(frame):
                    return
        except BaseException as error:  # surfaced in the consumer, not lost in the thread
            offer(error)
            return
        offer(done)

    thread = threading.Thread(target=produce, daemon=True, name="decode-ahead")
    thread.start()
    try:
        while True:
            try:
                item = buffer.get(timeout=0.1)
            except queue.Empty:
                if stop.is_set():
                    return
                continue
            if item is done:
                return
            if isinstance(item, BaseException):
                raise item
            yield item
    finally:
        finished.set()
