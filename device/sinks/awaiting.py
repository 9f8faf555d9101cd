"""Frames on their way to the model, held by a sink that taps them until their result arrives.

The loop drops a frame's pixels once the model's input tensor is made, so a sink that needs them
(the live page, the collector) keeps what it needs of each frame as it passes `tap`. Results come
out in the order frames go in, so the oldest held frame is the one a result belongs to, checked by
name: frames without a result of their own name (none goes missing today) are dropped on the way.
Bounded: at most `most` are held, the oldest going first.
"""

from collections import deque


class Awaiting:
    def __init__(self, most: int):
        self._held: deque = deque(maxlen=most)  # (name, what the sink keeps of the frame)

    def hold(self, name: str, kept) -> None:
        self._held.append((name, kept))

    def take(self, name: str):
        """What was held for the frame `name`, or None (and the older frames before it let go)."""
        while self._held:
            held, kept = self._held.popleft()
            if held == name:
                return kept
        return None

    def clear(self) -> None:
        self._held.clear()

    def __len__(self) -> int:
        return len(self._held)
