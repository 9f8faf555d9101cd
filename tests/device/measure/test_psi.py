"""PSI against its formula, and its threshold against the chance it is meant to have."""

import math

import numpy as np
import pytest

from edgecell.device.measure import psi


def test_psi_is_the_symmetric_divergence_of_the_smoothed_shares():
    a, b = [30, 50, 20], [10, 60, 30]
    p = [(x + 0.5) / 101.5 for x in a]
    q = [(x + 0.5) / 101.5 for x in b]
    assert psi.psi(a, b) == pytest.approx(sum((x - y) * math.log(x / y) for x, y in zip(p, q)))
    assert psi.psi(a, a) == 0.0 and psi.psi([0, 10], [10, 0]) > 0  # an empty bin is finite


@pytest.mark.parametrize("k,q,table", [(1, 0.99, 6.635), (9, 0.99, 21.666), (9, 0.9999, 33.720), (49, 0.99, 74.919)])
def test_the_chi_square_quantile_is_near_the_tables(k, q, table):
    assert psi.chi2_quantile(k, q) == pytest.approx(table, rel=0.075)
    assert psi.chi2_quantile(k, q) >= table * 0.99  # never much under: a threshold is not looser than asked


def test_windows_of_an_unchanged_stream_go_over_the_threshold_about_as_often_as_it_says():
    rng = np.random.default_rng(0)
    shares = np.array([0.3, 0.2, 0.15, 0.1, 0.1, 0.05, 0.05, 0.03, 0.01, 0.01])
    reference_size, window, trials = 2000, 400, 4000
    limit = psi.threshold(window, reference_size, len(shares), 0.99)
    over = 0
    for _ in range(trials):
        reference = rng.multinomial(reference_size, shares)
        over += psi.psi(rng.multinomial(window, shares), reference) > limit
    assert 0.004 < over / trials < 0.02  # 1% asked for
