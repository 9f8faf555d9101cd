"""The sink: what a run hands every result to. Every sink (the results file, the terminal, the
labelled-folder report, MQTT, the webhook, the live page) is one, so the run asks each the same
questions instead of telling them apart by type.

`write` is required; the rest have defaults that do nothing:
- `event(event)`: a class change settled by the loop's detector (`loop/events.py`);
- `tap(frames)`: the frames on their way to the model, for a sink that shows pixels (it sets
  `taps_frames`, so a folder's files reach it decoded rather than for the decode pool to decode);
- `follow(drift)`: the run's drift tracker (`loop/drift.py`), once at the start when the model has a
  reference, for a sink that reports its figures as they are (`drift.report()`, any thread);
- `close()`: the run is over (flush, join threads);
- `report()`: after `close`, the sink's part of the summary under `key` (None: no part);
- `lines(report)`: that part as text for the closing summary.
"""

from collections.abc import Iterable
from typing import ClassVar, Optional


class Sink:
    key: ClassVar[Optional[str]] = None  # the summary's key for `report()`, or None
    taps_frames: ClassVar[bool] = False  # True for a sink whose `tap` looks at the frames' pixels

    def write(self, result) -> None:
        raise NotImplementedError(f"{type(self).__name__} must define write(result)")

    def event(self, event) -> None:
        pass

    def tap(self, frames: Iterable) -> Iterable:
        return frames

    def follow(self, drift) -> None:
        pass

    def close(self) -> None:
        pass

    def report(self) -> Optional[dict]:
        return None

    def lines(self, report: dict) -> list:
        return []


def reports(sinks) -> dict:
    """The summary's parts from the sinks that have one, after they closed."""
    return {sink.key: sink.report() for sink in sinks if sink.key is not None}


def report_lines(summary: dict, sinks) -> list:
    """The text of each sink's part of `summary`, in the sinks' order."""
    return [line for sink in sinks if sink.key in summary for line in sink.lines(summary[sink.key])]
