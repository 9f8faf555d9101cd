"""The result of one frame: its classes best first, its timing by stage, or why it failed; and
`row`, the flat form every sink sends (the results file, MQTT, the live page, /classify).
"""

from datetime import datetime, timezone
from typing import NamedTuple, Optional

import numpy as np

from edgecell.device.loop.unknown import UNKNOWN


class Timing(NamedTuple):
    """Milliseconds per stage; None for stages a failed image never reached."""

    decode: Optional[float] = None
    preprocess: Optional[float] = None
    invoke: Optional[float] = None
    postprocess: Optional[float] = None
    total: Optional[float] = None  # decode + preprocess + invoke + postprocess: the work on one image
    wait: Optional[float] = None  # waiting for the source's next frame (a camera), not in `total`


class Result(NamedTuple):
    name: str
    classes: list  # [classify.Class], best first
    timing: Timing
    error: Optional[str] = None
    scores: Optional[np.ndarray] = None  # every class's score, in label order (events smooth these)
    unknown_threshold: Optional[float] = None  # `--unknown`: a top-1 score under it is answered `unknown`

    @property
    def ok(self) -> bool:
        return self.error is None

    @property
    def unknown(self) -> bool:
        """Whether the answer is `unknown`: a classified frame whose top-1 score is under the threshold."""
        if self.unknown_threshold is None or not self.ok:
            return False
        if self.scores is not None and len(self.scores):
            return float(np.max(self.scores)) < self.unknown_threshold
        return not self.classes or self.classes[0].score < self.unknown_threshold

    @property
    def answer(self) -> Optional[str]:
        """The label the frame is answered with: `unknown`, the best class, or None (failed, or none ranked)."""
        if self.unknown:
            return UNKNOWN
        return self.classes[0].label if self.classes else None


def row(result, time_utc: Optional[str] = None) -> dict:
    """One result as a flat dict; `top_k` is a list of {label, score, index}; `time_utc` is now
    unless given (ISO 8601 with a Z). With `--unknown`, `label` is the answer (`unknown` under the
    threshold, while `top_k` keeps the model's guess) and `unknown_threshold` the threshold."""
    best = result.classes[0] if result.classes else None
    timing = result.timing
    found = {
        "source": result.name,
        "status": "ok" if result.error is None else "failed",
        "label": result.answer,
        "score": round(best.score, 6) if best else None,
        "top_k": [{"label": c.label, "score": round(c.score, 6), "index": c.index} for c in result.classes],
        "decode_ms": _rounded_ms(timing.decode),
        "preprocess_ms": _rounded_ms(timing.preprocess),
        "invoke_ms": _rounded_ms(timing.invoke),
        "postprocess_ms": _rounded_ms(timing.postprocess),
        "total_ms": _rounded_ms(timing.total),
        "wait_ms": _rounded_ms(timing.wait),
        "error": result.error,
        "time_utc": time_utc or datetime.now(timezone.utc).isoformat(timespec="milliseconds").replace("+00:00", "Z"),
    }
    if result.unknown_threshold is not None:
        found["unknown_threshold"] = result.unknown_threshold
    return found


def _rounded_ms(value):
    return None if value is None else round(value, 4)
