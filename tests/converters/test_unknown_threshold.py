"""The unknown threshold on known scores, against a direct computation written out here: every
grid threshold, its answered and wrong images counted one by one, the binomial tail summed in
exact fractions, and the fixed sequence walked from the top."""

import math
from fractions import Fraction

import numpy as np
import pytest

from edgecell.converters import unknown_threshold


def scored(tops, right, classes=3):
    """(scores, labels): image i's top-1 score is tops[i], on class i % classes; right or not."""
    n = len(tops)
    scores = np.zeros((n, classes), np.float32)
    labels = np.zeros(n, np.int64)
    for i, (top, ok) in enumerate(zip(tops, right)):
        guess = i % classes
        scores[i] = (1 - top) / (classes - 1)
        scores[i, guess] = top
        labels[i] = guess if ok else (guess + 1) % classes
    return scores, labels


def exact_cdf(k, n, p):
    return sum(math.comb(n, i) * p**i * (1 - p) ** (n - i) for i in range(k + 1))


def direct(scores, labels, target, confidence):
    """(threshold, answered, wrong) or None, by brute force over the whole grid."""
    risk, delta = (
        Fraction(1) - Fraction(target).limit_denominator(10**6),
        Fraction(1) - Fraction(confidence).limit_denominator(10**6),
    )
    grid = sorted({float(np.float32(i / 1000)) for i in range(1001)} | {k / 256 for k in range(257)}, reverse=True)
    fewest = next(n for n in range(1, 10**5) if (1 - risk) ** n <= delta)
    tops = [float(max(row)) for row in scores]
    wrong = [int(np.argmax(row)) != int(label) for row, label in zip(scores, labels)]
    passed = None
    for threshold in grid:
        answered = [i for i, top in enumerate(tops) if top >= threshold]
        if len(answered) < fewest:
            continue
        k = sum(wrong[i] for i in answered)
        if exact_cdf(k, len(answered), risk) > delta:
            break
        passed = (threshold, len(answered), k)
    return passed


@pytest.mark.parametrize("seed", [0, 1, 2, 3])
def test_the_chosen_threshold_and_its_bound_match_a_direct_computation(seed):
    rng = np.random.default_rng(seed)
    tops = rng.uniform(0.34, 1.0, 400)
    right = rng.uniform(size=400) >= 0.6 * ((1 - tops) / 0.66) ** 3  # the surer, the more often right
    scores, labels = scored(tops, right)
    choice = unknown_threshold.choose(scores, labels, 0.95, 0.95)
    expected = direct(scores, labels, 0.95, 0.95)
    assert expected is not None and (choice.threshold, choice.answered, choice.wrong) == expected
    # the bound: the Clopper-Pearson accuracy bound, where the exact tail crosses delta
    error = Fraction(1) - Fraction(choice.accuracy_bound)
    assert exact_cdf(choice.wrong, choice.answered, error - Fraction(1, 10**6)) >= Fraction(5, 100)
    assert exact_cdf(choice.wrong, choice.answered, error + Fraction(1, 10**6)) < Fraction(5, 100)
    assert 0.95 <= choice.accuracy_bound < 1 - choice.wrong / choice.answered
    recorded = choice.as_dict()
    assert recorded["images"] == 400 and recorded["method"].startswith("Learn then Test")


def test_uint8_scores_on_the_output_levels():
    rng = np.random.default_rng(7)
    levels = rng.integers(90, 256, 300)
    tops = levels / 256
    right = rng.uniform(size=300) >= 0.5 * ((256 - levels) / 166) ** 2
    scores, labels = scored(tops, right)
    choice = unknown_threshold.choose(scores, labels, 0.9, 0.9)
    assert (choice.threshold, choice.answered, choice.wrong) == direct(scores, labels, 0.9, 0.9)


def test_a_model_right_on_every_image_answers_everything():
    scores, labels = scored(np.linspace(0.4, 1.0, 100), [True] * 100)
    choice = unknown_threshold.choose(scores, labels, 0.95, 0.95)
    assert choice.threshold == 0.0 and choice.answered == 100 and choice.wrong == 0


def test_too_few_images_say_how_many_it_takes():
    scores, labels = scored(np.full(40, 0.99), [True] * 40)
    choice = unknown_threshold.choose(scores, labels, 0.95, 0.95)
    assert choice.threshold is None and "40 held-out images" in choice.reason and "it takes 59" in choice.reason
    assert unknown_threshold.sentence(choice.as_dict()).startswith("no unknown threshold: 40 held-out images")


def test_no_threshold_when_even_the_surest_answers_miss_the_target():
    rng = np.random.default_rng(5)
    scores, labels = scored(rng.uniform(0.4, 1.0, 300), rng.uniform(size=300) < 0.7)
    choice = unknown_threshold.choose(scores, labels, 0.95, 0.95)
    assert direct(scores, labels, 0.95, 0.95) is None
    assert choice.threshold is None and "under the 95% target" in choice.reason
    assert "more images would not help" in choice.reason


def test_too_few_images_for_the_error_rate_seen_say_how_many_would_do():
    scores, labels = scored(np.full(100, 0.99), [i >= 2 for i in range(100)])  # 2 wrong in 100
    choice = unknown_threshold.choose(scores, labels, 0.95, 0.95)
    assert choice.threshold is None and "have 2 wrong" in choice.reason
    needed = int(choice.reason.split("about ")[1].split(" held-out")[0])
    assert exact_cdf(round(needed / 50), needed, Fraction(1, 20)) <= Fraction(1, 20)  # 2% wrong of that many passes
    assert exact_cdf(round(needed * 0.8 / 50), round(needed * 0.8), Fraction(1, 20)) > Fraction(1, 20)
