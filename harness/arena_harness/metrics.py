"""Metrics as pure functions. Each docstring states the exact formula; tests compare with brute force.

Notation: a puzzle has n candidates (samples), c of them correct; k <= n is the budget being scored.
"""

from __future__ import annotations

import itertools
import math
from collections import defaultdict
from collections.abc import Hashable, Mapping, Sequence
from dataclasses import dataclass

import numpy as np


def _check_k(n: int, k: int) -> None:
    if n < 1:
        raise ValueError(f"need at least one candidate, got n={n}")
    if not 1 <= k <= n:
        raise ValueError(f"k must satisfy 1 <= k <= n (n={n}), got k={k}")


def pass_at_k(n: int, c: int, k: int) -> float:
    """Chen et al. (2021): P(a uniformly random k-subset of the n samples holds a correct one).

    pass@k = 1 - C(n-c, k) / C(n, k), computed stably as
    ``1 if n - c < k else 1 - prod_{i=n-c+1}^{n} (1 - k / i)``.
    """
    _check_k(n, k)
    if not 0 <= c <= n:
        raise ValueError(f"c must lie in 0..n (n={n}), got {c}")
    if n - c < k:
        return 1.0
    return float(1.0 - np.prod(1.0 - k / np.arange(n - c + 1, n + 1)))


def _q_key(q: float | None) -> float:
    return -math.inf if q is None or (isinstance(q, float) and math.isnan(q)) else float(q)


def best_q_at_k(correct: Sequence[bool], q: Sequence[float | None], k: int) -> float:
    """Expected correctness of the highest-q candidate of a uniformly random k-subset.

    Sort by q descending (ranks r = 1..n). The candidate at rank r is the pick exactly when it is in
    the subset and no higher-ranked one is: probability C(n-r, k-1) / C(n, k). So
    best-Q@k = sum_r correct_r * C(n-r, k-1) / C(n, k).

    Tie-break: candidates with equal q are in uniformly random order, and we take the exact expectation
    over those orders; since the pick probabilities of a tie block's ranks are shared by its members
    symmetrically, each member's correctness is replaced by the block's mean. ``None`` (or NaN) q ranks
    below every number, so with no q at all best-Q@k equals the mean correctness (pass@1).
    """
    n = len(correct)
    _check_k(n, k)
    if len(q) != n:
        raise ValueError(f"{n} correctness flags but {len(q)} q values")
    keys = np.array([_q_key(v) for v in q])
    corr = np.asarray(correct, dtype=float)
    order = np.argsort(-keys, kind="stable")
    keys, corr = keys[order], corr[order]
    # replace each tie block's correctness by its mean
    smoothed = corr.copy()
    start = 0
    for end in range(1, n + 1):
        if end == n or keys[end] != keys[start]:
            smoothed[start:end] = corr[start:end].mean()
            start = end
    total = math.comb(n, k)
    weights = np.array([math.comb(n - r, k - 1) / total for r in range(1, n + 1)])
    return float(np.dot(smoothed, weights))


@dataclass(frozen=True)
class VoteResult:
    value: float
    exact: bool  # True: exact enumeration; False: Monte-Carlo estimate over ``draws`` subsets
    draws: int


def _vote_subset(
    keys: Sequence[Hashable | None], correct: Sequence[bool], q: Sequence[float], subset: Sequence[int]
) -> float:
    """Expected correctness of the plurality answer within one subset (ties resolved as documented)."""
    votes: dict[Hashable, list[int]] = defaultdict(list)
    for i in subset:
        if keys[i] is not None:
            votes[keys[i]].append(i)
    if not votes:
        return 0.0
    best = max(len(v) for v in votes.values())
    leaders = [key for key, v in votes.items() if len(v) == best]
    if len(leaders) > 1:
        mean_q = {key: float(np.mean([q[i] for i in votes[key]])) for key in leaders}
        top = max(mean_q.values())
        leaders = [key for key in leaders if mean_q[key] == top]
    # the same answer grid is either right or wrong: take the correctness of any of its votes
    return float(np.mean([bool(correct[votes[key][0]]) for key in leaders]))


def vote_at_k(
    answer_keys: Sequence[Hashable | None],
    correct: Sequence[bool],
    q: Sequence[float | None],
    k: int,
    *,
    max_exact_subsets: int = 200_000,
    mc_draws: int = 20_000,
    seed: int = 0,
) -> VoteResult:
    """Expected correctness of the plurality answer of a uniformly random k-subset (self-consistency).

    ``answer_keys`` identify answers (equal key = same answer); ``None`` (abstention / failure) never
    wins, and a subset with no answer scores 0. Ties in vote count go to the answer with the higher
    mean q over its votes (None q = -inf), remaining ties are split evenly (exact expectation).
    The value is the mean over all C(n, k) subsets when that number is at most ``max_exact_subsets``
    (k = n is a single subset); otherwise it is a Monte-Carlo estimate from ``mc_draws`` subsets drawn
    with ``seed`` (``exact=False``, the draws are reported).
    """
    n = len(answer_keys)
    _check_k(n, k)
    if len(correct) != n or len(q) != n:
        raise ValueError("answer_keys, correct and q must have the same length")
    qs = [_q_key(v) for v in q]
    total = math.comb(n, k)
    if total <= max_exact_subsets:
        s = sum(_vote_subset(answer_keys, correct, qs, sub) for sub in itertools.combinations(range(n), k))
        return VoteResult(s / total, True, total)
    rng = np.random.default_rng(seed)
    s = sum(_vote_subset(answer_keys, correct, qs, rng.choice(n, size=k, replace=False)) for _ in range(mc_draws))
    return VoteResult(s / mc_draws, False, mc_draws)


def attempts_at(correct_per_attempt: Sequence[bool], attempts: int = 2) -> bool:
    """The official ARC rule: solved if any of the first ``attempts`` attempts is exactly right."""
    if attempts < 1:
        raise ValueError(f"attempts must be >= 1, got {attempts}")
    return any(bool(c) for c in list(correct_per_attempt)[:attempts])


# -- abstention / selective prediction ---------------------------------------------------------------


def _flags(answered: Sequence[bool], correct: Sequence[bool]) -> tuple[np.ndarray, np.ndarray]:
    a = np.asarray(answered, dtype=bool)
    c = np.asarray(correct, dtype=bool)
    if a.shape != c.shape:
        raise ValueError("answered and correct must have the same length")
    if np.any(c & ~a):
        raise ValueError("a candidate cannot be correct without an answer")
    return a, c


def coverage(answered: Sequence[bool]) -> float:
    """answered / total (0 when there is nothing)."""
    a = np.asarray(answered, dtype=bool)
    return float(a.mean()) if a.size else 0.0


def wrong_count(answered: Sequence[bool], correct: Sequence[bool]) -> int:
    """Number of answered candidates that are wrong (a malformed answer counts as wrong)."""
    a, c = _flags(answered, correct)
    return int((a & ~c).sum())


def precision_when_answering(answered: Sequence[bool], correct: Sequence[bool]) -> float:
    """correct / answered; NaN when nothing was answered."""
    a, c = _flags(answered, correct)
    return float(c.sum() / a.sum()) if a.any() else math.nan


def selective_risk(answered: Sequence[bool], correct: Sequence[bool]) -> float:
    """wrong / answered = 1 - precision; NaN when nothing was answered."""
    p = precision_when_answering(answered, correct)
    return math.nan if math.isnan(p) else 1.0 - p


def _binom_cdf(x: int, n: int, p: float) -> float:
    """P(X <= x) for X ~ Binomial(n, p), summed in log space."""
    if p <= 0.0:
        return 1.0
    if p >= 1.0:
        return 1.0 if x >= n else 0.0
    logs = [
        math.lgamma(n + 1) - math.lgamma(i + 1) - math.lgamma(n - i + 1) + i * math.log(p) + (n - i) * math.log1p(-p)
        for i in range(x + 1)
    ]
    m = max(logs)
    return min(1.0, math.exp(m) * sum(math.exp(v - m) for v in logs))


def clopper_pearson_upper(failures: int, n: int, alpha: float = 0.05) -> float:
    """Exact one-sided (1 - alpha) upper confidence bound on a binomial rate, given ``failures`` of ``n``.

    The bound is the p with P(X <= failures | n, p) = alpha (= the Beta(failures+1, n-failures) quantile
    1 - alpha). With 0 failures it is 1 - alpha ** (1/n); with n failures, or n = 0, it is 1.
    Found by bisection on the exact CDF to 1e-12.
    """
    if n < 0 or not 0 <= failures <= max(n, 0):
        raise ValueError(f"need 0 <= failures <= n, got failures={failures}, n={n}")
    if not 0 < alpha < 1:
        raise ValueError(f"alpha must lie in (0, 1), got {alpha}")
    if n == 0 or failures == n:
        return 1.0
    if failures == 0:
        return 1.0 - alpha ** (1.0 / n)
    lo, hi = failures / n, 1.0
    for _ in range(100):
        mid = (lo + hi) / 2
        if _binom_cdf(failures, n, mid) > alpha:
            lo = mid
        else:
            hi = mid
        if hi - lo < 1e-13:
            break
    return (lo + hi) / 2


def risk_coverage_curve(
    q: Sequence[float | None], answered: Sequence[bool], correct: Sequence[bool]
) -> tuple[np.ndarray, np.ndarray]:
    """Selective risk against coverage as the confidence threshold drops.

    Answered candidates are sorted by q descending; candidates with equal q enter together, so there is
    one point per distinct q: coverage = answered-so-far / total, risk = wrong-so-far / answered-so-far.
    Unanswered candidates never enter (the curve ends at the agent's own coverage).
    """
    a, c = _flags(answered, correct)
    keys = np.array([_q_key(v) for v in q])
    if keys.shape != a.shape:
        raise ValueError("q must have one value per candidate")
    total = a.size
    idx = np.flatnonzero(a)
    if idx.size == 0:
        return np.zeros(0), np.zeros(0)
    order = idx[np.argsort(-keys[idx], kind="stable")]
    ks, wrong = keys[order], (~c[order]).astype(float)
    cum_wrong = np.cumsum(wrong)
    ends = [i for i in range(1, len(order) + 1) if i == len(order) or ks[i] != ks[i - 1]]
    cov = np.array([e / total for e in ends])
    risk = np.array([cum_wrong[e - 1] / e for e in ends])
    return cov, risk


def aurc(q: Sequence[float | None], answered: Sequence[bool], correct: Sequence[bool]) -> float:
    """Area under the risk-coverage curve, as the mean selective risk over answered prefixes.

    AURC = (1/m) * sum_{i=1}^{m} risk(i), where m is the number of answered candidates, candidates are
    ranked by q descending and risk(i) = wrong among the first i / i. Equal q values form a block whose
    members all take the risk at the end of the block (they are accepted together). Lower is better;
    NaN when nothing was answered.
    """
    a, c = _flags(answered, correct)
    keys = np.array([_q_key(v) for v in q])
    idx = np.flatnonzero(a)
    m = idx.size
    if m == 0:
        return math.nan
    order = idx[np.argsort(-keys[idx], kind="stable")]
    ks = keys[order]
    cum_wrong = np.cumsum(~c[order])
    risks = np.empty(m)
    start = 0
    for end in range(1, m + 1):
        if end == m or ks[end] != ks[start]:
            risks[start:end] = cum_wrong[end - 1] / end
            start = end
    return float(risks.mean())


def mean_cost(costs: Sequence[Mapping[str, float | None]]) -> dict[str, float]:
    """Per field, the mean over candidates where the field is known; ``<field>_known`` counts them."""
    sums: dict[str, float] = defaultdict(float)
    counts: dict[str, int] = defaultdict(int)
    for cost in costs:
        for key, value in cost.items():
            if value is None:
                continue
            sums[key] += float(value)
            counts[key] += 1
    out: dict[str, float] = {}
    for key in sorted(sums):
        out[key] = sums[key] / counts[key]
        out[f"{key}_known"] = float(counts[key])
    return out
