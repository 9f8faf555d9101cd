"""device/measure/accuracy.py: Wilson and Newcombe intervals against published figures and a direct
computation, and the verdict on a budget (no model needed)."""

import math

import numpy as np
import pytest

from edgecell.device.measure.accuracy import (
    Inconclusive,
    Paired,
    Verdict,
    decide,
    drop_interval,
    images_needed,
    paired,
    wilson,
)

Z = 1.959963984540054


def wilson_by_roots(successes, n):
    """Wilson's interval straight from its definition: the p with (x/n - p)^2 = z^2 p (1 - p) / n."""
    p = successes / n
    roots = np.roots([1 + Z * Z / n, -(2 * p + Z * Z / n), p * p])
    return float(min(roots.real)), float(max(roots.real))


def newcombe_by_hand(a, b, c, d):
    """Newcombe (1998) method 10 written out once more, term by term, from the paper's definitions."""
    n = a + b + c + d
    p1, p2 = (a + b) / n, (a + c) / n
    (l1, u1), (l2, u2) = wilson_by_roots(a + b, n), wilson_by_roots(a + c, n)
    big_a = (a + b) * (c + d) * (a + c) * (b + d)
    big_b = a * d - b * c
    big_c = big_b - n / 2 if big_b > n / 2 else (big_b if big_b < 0 else 0)
    phi = big_c / math.sqrt(big_a) if big_a else 0.0
    delta = math.sqrt((p1 - l1) ** 2 - 2 * phi * (p1 - l1) * (u2 - p2) + (u2 - p2) ** 2)
    epsilon = math.sqrt((u1 - p1) ** 2 - 2 * phi * (u1 - p1) * (p2 - l2) + (p2 - l2) ** 2)
    return (b - c) / n - delta, (b - c) / n + epsilon


@pytest.mark.parametrize(
    "successes, n, low, high",
    [
        (81, 263, 0.2553, 0.3662),  # Newcombe 1998 (single proportion), Table II
        (0, 10, 0.0, 0.2775),
        (10, 10, 0.7225, 1.0),
    ],
)
def test_wilson_matches_published_figures_and_its_definition(successes, n, low, high):
    interval = wilson(successes, n)
    assert interval == pytest.approx((low, high), abs=5e-5)
    assert interval == pytest.approx(wilson_by_roots(successes, n), abs=1e-9)
    assert interval.low <= successes / n <= interval.high
    assert (interval.low == 0.0) == (successes == 0) and (interval.high == 1.0) == (successes == n)


@pytest.mark.parametrize(
    "counts, low, high",
    [
        # Altman, Machin, Bryant & Gardner, Statistics with Confidence (2000), Table 6.2 (clinic against
        # laboratory on 41 thallium scans): 95% interval 0.011 to 0.226
        ((14, 5, 0, 22), 0.0115, 0.2265),
        # Fagerland, Lydersen & Laake, Statistical Analysis of Contingency Tables (2017), Cavo et al. 2012:
        # -0.1186 to -0.0046
        ((59, 6, 16, 80), -0.1186, -0.0046),
    ],
)
def test_paired_interval_matches_published_worked_examples(counts, low, high):
    assert drop_interval(Paired(*counts)) == pytest.approx((low, high), abs=5e-5)


@pytest.mark.parametrize(
    "counts",
    [(17, 1, 0, 0), (15, 2, 0, 1), (40, 3, 1, 6), (4, 8, 0, 0), (900, 10, 5, 85), (3, 0, 2, 5), (12, 0, 0, 0)],
)
def test_paired_interval_is_the_direct_computation(counts):
    assert drop_interval(Paired(*counts)) == pytest.approx(newcombe_by_hand(*counts), abs=1e-9)


def test_paired_interval_holds_the_observed_drop_and_stays_in_range():
    for a in range(4):
        for b in range(4):
            for c in range(4):
                for d in range(3):
                    counts = Paired(a, b, c, d)
                    if counts.n == 0:
                        continue
                    low, high = drop_interval(counts)
                    assert -1.0 <= low <= counts.drop <= high <= 1.0
                    assert high - low > 0  # never certain, even when no image flips


def test_the_counts_come_from_which_images_each_model_got_right():
    keras = [True, True, True, False, False, True]
    tflite = [True, False, True, True, False, True]
    counts = paired(keras, tflite)
    assert counts == Paired(both=3, keras_only=1, tflite_only=1, neither=1)
    assert counts.as_dict() == {"images": 6, "both": 3, "keras_only": 1, "tflite_only": 1, "neither": 1}


@pytest.mark.parametrize("n", [12, 18, 29])
def test_one_flipped_image_on_a_small_set_is_never_failed_on_its_own(n):
    decision = decide(Paired(n - 1, 1, 0, 0), max_drop_points=1.0)
    assert decision.drop_points > 3  # one image is several points on its own
    assert decision.verdict is Verdict.inconclusive and decision.passed
    sentence = decision.sentence()
    assert f"{n} held-out images are too few to judge a 1-point budget" in sentence
    assert f"about {decision.needed:,} would settle it" in sentence and decision.needed > 3 * n
    assert "a note:" in sentence and "counted as passed (--inconclusive fail would fail it)" in sentence


def test_the_inconclusive_policy_decides_only_inconclusive_verdicts():
    strict = decide(Paired(17, 1, 0, 0), 1.0, Inconclusive.fails)
    assert strict.verdict is Verdict.inconclusive and not strict.passed
    assert "counted as failed (--inconclusive fail)" in strict.sentence()
    collapse = decide(Paired(4, 8, 0, 0), 1.0, Inconclusive.passes)  # int8 answering one class for all
    assert collapse.verdict is Verdict.failed and not collapse.passed
    assert collapse.sentence().startswith("66.67 points below Keras (95% interval +29.92 to +86.19), over the budget")
    clear = decide(Paired(9500, 20, 15, 465), 1.0, Inconclusive.fails)
    assert clear.verdict is Verdict.passed and clear.passed and clear.needed is None


def test_a_real_loss_near_the_budget_on_many_images_is_reported_with_its_width():
    decision = decide(Paired(900, 10, 1, 89), 1.0)  # 0.9 points on 1,000 images
    low, high = decision.interval
    assert decision.verdict is Verdict.inconclusive and low > 0 and high > 0.01
    assert decision.as_dict()["interval_points"] == [round(100 * low, 4), round(100 * high, 4)]


def test_images_needed_is_where_the_interval_stops_straddling_the_budget():
    # With perfect agreement the interval's upper end is z^2 / (n + z^2): 381 images for 1 point.
    assert images_needed(Paired(12, 0, 0, 0), 1.0) == 390  # 381, rounded up to two figures
    counts = Paired(17, 1, 0, 0)
    needed = images_needed(counts, 1.0)
    assert decide(counts.scaled(needed), 1.0).verdict is Verdict.failed  # the observed 5.6 points, on more images
    assert decide(counts.scaled(0.8 * needed), 1.0).verdict is Verdict.inconclusive
    assert images_needed(Paired(190, 1, 0, 9), 1.0) is not None  # 0.5 points
    assert images_needed(Paired(90, 1, 0, 9), 1.0) is None  # 1 point, the budget itself: never settled
