"""The top-1 score under which the board answers `unknown`, chosen at export with a guarantee.

The guarantee: the answers the board does give (top-1 score at or above the threshold) are right
at least `target` of the time, with probability at least `confidence` over the draw of the
held-out images, for images drawn as those were. The method is Learn then Test (Angelopoulos,
Bates, Candes, Jordan and Lei, "Learn then Test: Calibrating Predictive Algorithms to Achieve
Risk Control", 2021, arXiv:2110.01052) for selective classification, the setting of Geifman and
El-Yaniv ("Selective Classification for Deep Neural Networks", NeurIPS 2017):

- one null hypothesis per threshold of a fixed grid: "the error rate among the images scoring at
  least this is above 1 - target";
- each tested with an exact binomial p-value on the images it accepts (P(Binomial(n, 1 - target)
  <= errors), equivalently its Clopper-Pearson bound against 1 - target);
- fixed-sequence testing from the highest threshold down, stopping at the first one not
  rejected: the family-wise error stays at 1 - confidence with no Bonferroni split, because the
  order is fixed before the data is seen.

The grid is 0.000, 0.001, ..., 1.000 (as float32) and the 257 levels of a uint8 output (k/256), the same for
every model. The scan starts at the highest threshold that accepts enough images for zero errors
to pass (`binomial.fewest_trials`, 59 for 95% at 95%): above it no outcome could be rejected, so
stopping there would always end empty. That start is chosen from how many images score above
each threshold, never from whether they were right.

The images must not have been used to fit the model (export's check images, check_images.py);
int8 moves scores, so each variant gets its own threshold from its own scores.
"""

from typing import NamedTuple, Optional

import numpy as np

from edgecell.device.measure import binomial
from edgecell.device.model.scores import best

METHOD = "Learn then Test fixed-sequence testing with exact binomial (Clopper-Pearson) bounds"
CITATION = "Angelopoulos, Bates, Candes, Jordan, Lei 2021 (arXiv:2110.01052); Geifman, El-Yaniv, NeurIPS 2017"
# float32 values, so the standard metadata's float32 threshold and float32 scores compare as here
GRID = tuple(sorted({float(np.float32(i / 1000)) for i in range(1001)} | {k / 256 for k in range(257)}, reverse=True))


class Choice(NamedTuple):
    """The chosen threshold and its evidence, or None and why not."""

    threshold: Optional[float]
    target: float
    confidence: float
    images: int  # held-out images the choice was made on
    answered: int  # of those, scoring at least the threshold (0 when none was chosen)
    wrong: int  # of those answered, wrong
    accuracy_bound: Optional[float]  # accuracy of the answers at least this, at `confidence`
    reason: str = ""  # when threshold is None: one sentence

    def as_dict(self) -> dict:
        found = {
            "threshold": self.threshold,
            "target": self.target,
            "confidence": self.confidence,
            "images": self.images,
            "answered": self.answered,
            "wrong": self.wrong,
            "accuracy_bound": None if self.accuracy_bound is None else round(self.accuracy_bound, 6),
            "method": METHOD,
            "citation": CITATION,
        }
        if self.threshold is None:
            found["reason"] = self.reason
        return found


def sentence(recorded: dict) -> str:
    """A recorded choice (`Choice.as_dict()`, as the metadata holds it) in one sentence, for export and info."""
    if recorded.get("threshold") is None:
        return f"no unknown threshold: {recorded.get('reason', 'none recorded')}"
    others = f" ({recorded['unknown_images']} of none of the classes)" if recorded.get("unknown_images") else ""
    return (
        f"unknown under a top-1 score of {recorded['threshold']:g}: {recorded['answered']} of {recorded['images']} "
        f"held-out images{others} answered, {recorded['wrong']} wrong; the answers are right at least "
        f"{100 * recorded['accuracy_bound']:.2f}% of the time at {_pct(recorded['confidence'])} confidence "
        f"(target {_pct(recorded['target'])}; {recorded.get('method', METHOD)})"
    )


def without_labels(images: int, target: float, confidence: float) -> dict:
    """What a pretrained folder records: its check images carry Keras' answers, not labels."""
    return Choice(
        None,
        target,
        confidence,
        images,
        0,
        0,
        None,
        "the check images carry no labels (a pretrained folder), so no accuracy can be guaranteed",
    ).as_dict()


def choose(scores, labels, target: float, confidence: float) -> Choice:
    """The lowest grid threshold the fixed sequence reaches before its first failure, on `scores`
    (N, classes) of held-out images with true class indices `labels`."""
    scores, labels = np.asarray(scores), np.asarray(labels)
    top = scores.max(axis=-1).astype(np.float64)
    wrong = best(scores) != labels
    order = np.argsort(-top, kind="stable")
    top, errors = top[order], np.cumsum(wrong[order])  # errors[i]: wrong among the i + 1 best scored
    n, risk, delta = len(top), 1.0 - target, 1.0 - confidence
    fewest = binomial.fewest_trials(risk, delta)
    none = Choice(None, target, confidence, n, 0, 0, None)
    if n < fewest:
        return none._replace(
            reason=f"{n} held-out images cannot show {_pct(target)} accuracy at {_pct(confidence)} confidence; "
            f"even with none wrong it takes {fewest} (add images with --check-val or --check-data)"
        )
    passed = None
    for threshold in GRID:
        answered = int(np.searchsorted(-top, -threshold, side="right"))  # scores >= threshold
        if answered < fewest:
            continue  # no outcome could pass here: the scan starts lower (see the docstring)
        k = int(errors[answered - 1])
        if binomial.cdf(k, answered, risk) > delta:
            if passed is None:
                bound = 1.0 - binomial.upper_bound(k, answered, delta)
                return none._replace(
                    reason=f"the {answered} best-scored of {n} held-out images have {k} wrong, which shows only "
                    f"{100 * bound:.2f}% accuracy at {_pct(confidence)} confidence, under the {_pct(target)} target"
                    + _more_images(k, answered, n, risk, delta)
                )
            break
        passed = (threshold, answered, k)
    threshold, answered, k = passed
    bound = 1.0 - binomial.upper_bound(k, answered, delta)
    return Choice(threshold, target, confidence, n, answered, k, bound)


def _more_images(wrong: int, answered: int, images: int, risk: float, delta: float) -> str:
    """How many held-out images would show the target if the surest answers kept their error rate:
    the fewest multiples of these counts whose bound passes; nothing when that rate misses it."""
    if wrong / answered >= risk:
        return "; the surest answers themselves miss it, so more images would not help"
    for quarters in range(5, 4001):  # 1.25, 1.5, ... times as many
        times = quarters / 4
        if binomial.cdf(round(wrong * times), round(answered * times), risk) <= delta:
            return f"; at that error rate about {round(images * times)} held-out images would show it"
    return ""


def _pct(value: float) -> str:
    return f"{100 * value:g}%"
