"""`edgecell infer --unknown`: the answer `unknown` for a frame whose top-1 score is under a threshold.

`--unknown auto` takes the threshold export chose and recorded in the model, with its guarantee
(converters/unknown_threshold.py: the answers given are right at least the target share of the
time, at a stated confidence); a model exported elsewhere may carry one in its standard metadata
(ScoreThresholdingOptions, as MediaPipe reads it), which states no guarantee. `--unknown 0.7`
sets one by hand. The ranked classes stay in the result (the model's guess is still shown); the
answer (`Result.answer`, the row's `label`) is `unknown`, and the row carries the threshold.
"""

import math
from dataclasses import dataclass
from typing import Optional

from edgecell.core.errors import EdgecellError

UNKNOWN = "unknown"  # the answer
AUTO = "auto"


@dataclass(frozen=True)
class Rule:
    threshold: float  # a top-1 score under this is answered `unknown`
    source: str  # where the threshold came from, for the run's first lines and its summary
    guarantee: Optional[dict] = None  # what export recorded beside it (target, confidence, images, method)

    def as_dict(self) -> dict:
        return {"threshold": self.threshold, "source": self.source, "guarantee": self.guarantee}


def parse(flag: Optional[str]):
    """None, AUTO or a threshold: `--unknown` checked before any model loads."""
    if flag is None:
        return None
    if flag.strip().lower() == AUTO:
        return AUTO
    try:
        value = float(flag)
    except ValueError:
        value = math.nan
    if not 0.0 <= value <= 1.0:  # NaN fails too
        raise EdgecellError(
            f"--unknown {flag!r} is neither auto nor a score between 0 and 1; give --unknown auto "
            "(the threshold export chose and recorded in the model) or a score such as --unknown 0.7."
        )
    return value


def rule(flag: Optional[str], classifier) -> Optional[Rule]:
    """The threshold `flag` asks for on `classifier`'s model, or None without `--unknown`."""
    wanted = parse(flag)
    if wanted is None:
        return None
    if UNKNOWN in (classifier.labels or []):
        raise EdgecellError(
            f"{classifier.path} has a class named {UNKNOWN!r}, so --unknown's answer would be that class too; "
            "name the classes otherwise with --labels FILE, or leave out --unknown."
        )
    if wanted != AUTO:
        return Rule(float(wanted), f"--unknown {wanted:g}")
    recorded = (classifier.metadata or {}).get("unknown") or {}
    if recorded.get("threshold") is not None:
        return Rule(float(recorded["threshold"]), "the model's edgecell metadata (chosen at export)", recorded)
    standard = getattr(classifier.standard_metadata, "score_threshold", None)
    if standard is not None and not recorded:
        return Rule(standard, "the model's standard metadata (ScoreThresholdingOptions, no stated guarantee)")
    why = f" ({recorded['reason']})" if recorded.get("reason") else ""
    raise EdgecellError(
        f"{classifier.path} records no unknown threshold{why}; export it again with edgecell export "
        "(on enough held-out images), or give one by hand with --unknown 0.7."
    )


def line(found: Rule) -> str:
    """The run's line saying which threshold answers `unknown`, and what it guarantees."""
    said = f"unknown: a top-1 score under {found.threshold:g} is answered {UNKNOWN}, from {found.source}"
    if found.threshold == 0.0:
        said += " (0: every answer is given)"
    g = found.guarantee
    if g:
        said += (
            f"; the answers given are right at least {100 * g['target']:g}% of the time at "
            f"{100 * g['confidence']:g}% confidence ({g['images']} held-out images)"
        )
    return said + "."
