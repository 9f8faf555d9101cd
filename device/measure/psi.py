"""The population stability index (PSI) of two histograms, and the PSI a sample reaches by chance.

PSI = sum over bins of (p - q) * ln(p / q), p and q the two shares of each bin: a symmetric
Kullback-Leibler divergence, the drift index of credit scoring and of ML monitoring tools. Each
count gets half an observation more (the Jeffreys correction), so an empty bin adds a finite
amount instead of infinity.

Its customary fixed cut-offs (0.1 "small", 0.25 "large") ignore how many observations it was
computed from. When nothing changed, PSI of a sample of n against a reference of m over B bins is
close to (1/n + 1/m) times a chi-square with B - 1 degrees of freedom: to second order it is the
two-sample Pearson chi-square statistic scaled by 1/n + 1/m (B. Yurdakul, "Statistical properties
of population stability index", PhD dissertation, Western Michigan University, 2018). So
`threshold` takes that distribution's quantile q: a window over it is drift at level 1 - q.
The chi-square quantile is Wilson and Hilferty's cube-root approximation (1931), in pure Python;
at 0.9999 it errs a little high (7% at 1 degree of freedom, 1% at 9), at 0.99 within 1%.
"""

import math
from statistics import NormalDist

SMOOTHING = 0.5


def psi(counts, reference) -> float:
    """The PSI of `counts` against `reference` (counts per bin, same bins)."""
    n = sum(counts) + SMOOTHING * len(counts)
    m = sum(reference) + SMOOTHING * len(reference)
    total = 0.0
    for a, b in zip(counts, reference):
        p, q = (a + SMOOTHING) / n, (b + SMOOTHING) / m
        total += (p - q) * math.log(p / q)
    return total


def chi2_quantile(degrees: int, q: float) -> float:
    """The q quantile of a chi-square with `degrees` degrees of freedom (Wilson-Hilferty)."""
    z = NormalDist().inv_cdf(q)
    k = float(max(1, degrees))
    return k * max(0.0, 1.0 - 2.0 / (9.0 * k) + z * math.sqrt(2.0 / (9.0 * k))) ** 3


def threshold(window: int, reference: int, bins: int, q: float) -> float:
    """The PSI a window of `window` observations against a reference of `reference` over `bins` bins
    stays under with probability about q when nothing changed."""
    return (1.0 / window + 1.0 / reference) * chi2_quantile(bins - 1, q)
