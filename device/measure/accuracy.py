"""How sure an accuracy is: Wilson intervals, the paired drop against a reference, and the verdict.

An accuracy measured on n images is one draw: on 18 images a single image is 5.6 points. Export
compares each .tflite with Keras on the *same* images, so the drop is a paired difference and
only the images where the two disagree on correctness carry information about it:

    both      Keras right, TFLite right
    keras     Keras right, TFLite wrong   (b)
    tflite    Keras wrong, TFLite right   (c)
    neither   both wrong
    drop = (b - c) / n

Its interval is Newcombe's hybrid score interval for paired proportions (method 10 of Newcombe,
"Improved confidence intervals for the difference between binomial proportions based on paired
data", Statistics in Medicine 17:2635-2650, 1998): the Wilson intervals of the two accuracies,
combined with the correlation of the pairs. Unlike the Wald interval it never leaves [-1, 1],
is not zero-width when no image flips, and keeps close to its nominal coverage on a few dozen
images. Pure Python (the normal quantile comes from `statistics.NormalDist`), so it runs on the
board; scipy and statsmodels are not needed.

The verdict against a budget: failed when the whole interval is above it, passed when the whole
interval is at or below it, and inconclusive when it straddles the budget: then the policy
(`--inconclusive pass|fail`) decides, and the sentence says how many images would settle it.
"""

import math
from enum import Enum
from statistics import NormalDist
from typing import NamedTuple, Optional

CONFIDENCE = 0.95
Z = NormalDist().inv_cdf(0.5 + CONFIDENCE / 2)  # 1.959964
MOST_IMAGES = 10_000_000  # beyond this, "more images" is not advice


class Interval(NamedTuple):
    low: float
    high: float


class Verdict(str, Enum):
    passed = "passed"  # within budget beyond reasonable doubt
    failed = "failed"  # over budget beyond reasonable doubt
    inconclusive = "inconclusive"  # the interval straddles the budget


class Inconclusive(str, Enum):
    """What an inconclusive verdict counts as (`--inconclusive`)."""

    passes = "pass"
    fails = "fail"


DEFAULT_INCONCLUSIVE = Inconclusive.passes  # exit 3 means "over budget", not "too few images to tell"


def wilson(successes: float, n: float, z: float = Z) -> Interval:
    """Wilson's score interval for the proportion successes / n (counts may be fractional)."""
    if n <= 0:
        return Interval(0.0, 1.0)
    p = successes / n
    centre = (p + z * z / (2 * n)) / (1 + z * z / n)
    half = z * math.sqrt(max(0.0, p * (1 - p) / n + z * z / (4 * n * n))) / (1 + z * z / n)
    low, high = max(0.0, centre - half), min(1.0, centre + half)
    # At 0 or n successes one end is exactly 0 or 1; the sum above can miss it by a rounding error.
    return Interval(0.0 if successes <= 0 else low, 1.0 if successes >= n else high)


def accuracy_interval(correct: int, n: int) -> Optional[dict]:
    """An accuracy with its 95% Wilson interval, for reports; None when there are no images."""
    if n <= 0:
        return None
    low, high = wilson(correct, n)
    return {"images": int(n), "correct": int(correct), "accuracy": correct / n, "low": low, "high": high}


class Paired(NamedTuple):
    """Correctness of a reference (Keras) and a candidate (TFLite) on the same images."""

    both: float  # both right
    keras_only: float  # reference right, candidate wrong: b
    tflite_only: float  # reference wrong, candidate right: c
    neither: float

    @property
    def n(self) -> float:
        return self.both + self.keras_only + self.tflite_only + self.neither

    @property
    def drop(self) -> float:
        """Reference accuracy minus candidate accuracy, as a fraction (positive = the candidate is worse)."""
        return (self.keras_only - self.tflite_only) / self.n if self.n else 0.0

    def scaled(self, n: float) -> "Paired":
        """The same proportions on `n` images (fractional counts): what more images would look like."""
        factor = n / self.n
        return Paired(*(count * factor for count in self))

    def as_dict(self) -> dict:
        return {"images": int(self.n), **{key: int(value) for key, value in self._asdict().items()}}


def paired(reference_right, candidate_right) -> Paired:
    """The four counts from two boolean arrays: was each image right for the reference, for the candidate."""
    import numpy as np  # here, not at the top: the CLI reads this module's defaults at start

    reference, candidate = np.asarray(reference_right, bool), np.asarray(candidate_right, bool)
    return Paired(
        int(np.sum(reference & candidate)),
        int(np.sum(reference & ~candidate)),
        int(np.sum(~reference & candidate)),
        int(np.sum(~reference & ~candidate)),
    )


def drop_interval(counts: Paired, z: float = Z) -> Interval:
    """Newcombe's (1998) method 10 interval for the paired drop (b - c) / n, as fractions."""
    a, b, c, d = counts
    n = counts.n
    if n <= 0:
        return Interval(-1.0, 1.0)
    p1, p2 = (a + b) / n, (a + c) / n  # reference accuracy, candidate accuracy
    l1, u1 = wilson(a + b, n, z)
    l2, u2 = wilson(a + c, n, z)
    # The correlation of the pairs, with Newcombe's continuity adjustment of the numerator: a
    # positive association counts only beyond n/2, a negative one in full; 0 when a margin is empty.
    margins = (a + b) * (c + d) * (a + c) * (b + d)
    association = a * d - b * c
    if margins == 0:
        phi = 0.0
    elif association > n / 2:
        phi = (association - n / 2) / math.sqrt(margins)
    elif association >= 0:
        phi = 0.0
    else:
        phi = association / math.sqrt(margins)
    below = math.sqrt(max(0.0, (p1 - l1) ** 2 - 2 * phi * (p1 - l1) * (u2 - p2) + (u2 - p2) ** 2))
    above = math.sqrt(max(0.0, (u1 - p1) ** 2 - 2 * phi * (u1 - p1) * (p2 - l2) + (p2 - l2) ** 2))
    drop = p1 - p2
    return Interval(max(-1.0, drop - below), min(1.0, drop + above))


def verdict(interval: Interval, max_drop_points: float) -> Verdict:
    budget = max_drop_points / 100.0
    if interval.low > budget:
        return Verdict.failed
    if interval.high <= budget:
        return Verdict.passed
    return Verdict.inconclusive


def images_needed(counts: Paired, max_drop_points: float, most: int = MOST_IMAGES) -> Optional[int]:
    """About how many images would settle the verdict if the observed rates held (None: more than `most`).

    The four observed proportions (both right, reference only, candidate only, neither) are kept
    and the count grown until the interval no longer straddles the budget. With no disagreement
    at all this is the familiar floor: about 3.84 / budget images before a perfect agreement can
    show that the drop is within the budget.
    """
    if counts.n <= 0:
        return None

    def settled(n: float) -> bool:
        return verdict(drop_interval(counts.scaled(n)), max_drop_points) is not Verdict.inconclusive

    low, high = float(counts.n), float(most)
    if settled(low):
        return int(counts.n)
    if not settled(high):
        return None
    while high - low > max(1.0, low * 1e-3):
        middle = math.sqrt(low * high) if high > 2 * low else (low + high) / 2
        low, high = (low, middle) if settled(middle) else (middle, high)
    return int(_round_up(high))


def _round_up(n: float) -> int:
    """A count people can act on: 2 significant figures, rounded up (1,234 -> 1,300)."""
    n = math.ceil(n)
    step = 10 ** max(0, len(str(n)) - 2)
    return int(math.ceil(n / step) * step)


class Decision(NamedTuple):
    """The paired evidence for one candidate and what it decides."""

    counts: Paired
    agreement: Optional[float]  # share of images with the same top-1 class (not only both right)
    interval: Interval  # of the drop, as fractions
    verdict: Verdict
    passed: bool  # the verdict, with an inconclusive one counted as the policy says
    needed: Optional[int]  # images that would settle an inconclusive verdict (None: settled, or too many)
    max_drop_points: float

    @property
    def drop_points(self) -> float:
        return 100.0 * self.counts.drop

    def sentence(self) -> str:
        """What the evidence says, in one sentence (no trailing full stop)."""
        low, high = 100.0 * self.interval.low, 100.0 * self.interval.high
        n, budget = int(self.counts.n), self.max_drop_points
        shown = f"{self.drop_points:.2f} points below Keras (95% interval {low:+.2f} to {high:+.2f})"
        if self.verdict is Verdict.failed:
            return f"{shown}, over the budget of {budget:g}: the whole interval is above it"
        if self.verdict is Verdict.passed:
            return f"{shown}, within the budget of {budget:g}"
        if self.needed is None:
            more = "no number of images would settle it at the observed rates (the drop is the budget itself)"
        else:
            more = f"about {self.needed:,} would settle it at the observed rates"
        small = f"{n} held-out image{'s' * (n != 1)} are too few to judge a {budget:g}-point budget; {more}"
        if self.passed:  # the evidence does not show a drop over the budget: a pass, with what would settle it
            return f"{shown}; a note: {small}; counted as passed (--inconclusive fail would fail it)"
        return f"{shown}: {small}; counted as failed (--inconclusive fail)"

    def as_dict(self) -> dict:
        return {
            **self.counts.as_dict(),
            "agreement": self.agreement,
            "drop_points": round(self.drop_points, 4),
            "interval_points": [round(100.0 * self.interval.low, 4), round(100.0 * self.interval.high, 4)],
            "confidence": CONFIDENCE,
            "method": "Newcombe 1998 paired hybrid score (method 10)",
            "verdict": self.verdict.value,
            "passed": self.passed,
            "images_needed": self.needed,
        }


def decide(
    counts: Paired,
    max_drop_points: float,
    inconclusive: Inconclusive = DEFAULT_INCONCLUSIVE,
    agreement: Optional[float] = None,
) -> Decision:
    """The verdict on `counts` against a budget of `max_drop_points`, and what an inconclusive one counts as."""
    interval = drop_interval(counts)
    found = verdict(interval, max_drop_points)
    passed = found is Verdict.passed or (
        found is Verdict.inconclusive and Inconclusive(inconclusive) is Inconclusive.passes
    )
    needed = images_needed(counts, max_drop_points) if found is Verdict.inconclusive else None
    return Decision(counts, agreement, interval, found, passed, needed, max_drop_points)


def per_class_recall(matrix) -> list:
    """Each true class's share of images classified as it (rows of `matrix` are true classes); None for an empty row."""
    return [row[i] / sum(row) if sum(row) else None for i, row in enumerate(matrix)]


def balanced_accuracy(matrix) -> Optional[float]:
    """The mean recall over the classes that have images: a majority class cannot carry it."""
    recalls = [recall for recall in per_class_recall(matrix) if recall is not None]
    return sum(recalls) / len(recalls) if recalls else None
