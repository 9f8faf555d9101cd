"""Exact binomial tails and the Clopper-Pearson bound, in pure Python (no scipy on the board).

`cdf(k, n, p)` is P(X <= k) for X ~ Binomial(n, p), summed term by term in logarithms
(`math.lgamma`), so n in the tens of thousands neither overflows nor underflows to nonsense.
`upper_bound(k, n, delta)` is the one-sided Clopper-Pearson (1934) upper bound on the error rate
of which k errors in n trials were seen: the largest p with P(X <= k) >= delta, found by
bisection on the monotone tail. With probability at least 1 - delta the true rate is below it.
"""

import math

BISECTIONS = 60  # halvings of [0, 1]: far below any figure shown


def cdf(k: int, n: int, p: float) -> float:
    """P(X <= k) for X ~ Binomial(n, p)."""
    if k < 0:
        return 0.0
    if k >= n or p <= 0.0:
        return 1.0
    if p >= 1.0:
        return 0.0
    log_p, log_q = math.log(p), math.log1p(-p)
    log_n = math.lgamma(n + 1)
    terms = [log_n - math.lgamma(i + 1) - math.lgamma(n - i + 1) + i * log_p + (n - i) * log_q for i in range(k + 1)]
    top = max(terms)
    return min(1.0, math.exp(top) * math.fsum(math.exp(t - top) for t in terms))


def upper_bound(k: int, n: int, delta: float) -> float:
    """The one-sided Clopper-Pearson upper bound at confidence 1 - delta of a rate with k in n."""
    if n <= 0 or k >= n:
        return 1.0
    low, high = 0.0, 1.0  # cdf(k, n, p) falls as p grows: keep cdf(low) >= delta > cdf(high)
    for _ in range(BISECTIONS):
        middle = (low + high) / 2
        if cdf(k, n, middle) >= delta:
            low = middle
        else:
            high = middle
    return high


def fewest_trials(rate: float, delta: float) -> int:
    """The fewest trials that, all successes, bound the error rate below `rate` at confidence
    1 - delta: the smallest n with (1 - rate)^n <= delta (59 for 5% at 95%)."""
    return math.ceil(math.log(delta) / math.log1p(-rate) - 1e-9)
