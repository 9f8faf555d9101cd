"""The binomial tail and the Clopper-Pearson bound against exact rational arithmetic."""

import math
from fractions import Fraction

import pytest

from edgecell.device.measure import binomial


def exact_cdf(k: int, n: int, p: Fraction) -> Fraction:
    return sum(math.comb(n, i) * p**i * (1 - p) ** (n - i) for i in range(k + 1))


@pytest.mark.parametrize("n,k,p", [(1, 0, "1/2"), (20, 3, "1/20"), (59, 0, "1/20"), (200, 9, "1/20"), (60, 60, "1/3")])
def test_the_tail_is_the_exact_sum(n, k, p):
    assert binomial.cdf(k, n, float(Fraction(p))) == pytest.approx(float(exact_cdf(k, n, Fraction(p))), rel=1e-9)


def test_a_large_count_neither_overflows_nor_underflows():
    # mean 2000, sd ~43.6: 3 sd below the mean the tail is about 0.13%
    assert 0.0005 < binomial.cdf(2000 - 131, 40_000, 0.05) < 0.003


def test_the_bound_with_no_errors_is_the_closed_form():
    # P(Binomial(n, p) <= 0) = (1 - p)^n = delta  <=>  p = 1 - delta^(1/n)
    for n in (1, 10, 59, 1000):
        assert binomial.upper_bound(0, n, 0.05) == pytest.approx(1 - 0.05 ** (1 / n), abs=1e-12)


def test_the_bound_is_where_the_exact_tail_crosses_delta():
    bound = binomial.upper_bound(4, 120, 0.05)
    assert float(exact_cdf(4, 120, Fraction(bound) - Fraction(1, 10**9))) >= 0.05
    assert float(exact_cdf(4, 120, Fraction(bound) + Fraction(1, 10**9))) < 0.05


def test_the_fewest_trials_that_can_show_a_rate():
    assert binomial.fewest_trials(0.05, 0.05) == 59  # (0.95)^59 = 0.0485, (0.95)^58 = 0.0510
    assert binomial.fewest_trials(0.01, 0.05) == 299
    assert binomial.upper_bound(0, 59, 0.05) <= 0.05 < binomial.upper_bound(0, 58, 0.05)
