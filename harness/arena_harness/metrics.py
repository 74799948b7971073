"""Harness metrics as small pure functions over plain Python / numpy inputs (no I/O).

Every docstring states the formula it computes; ``tests/harness/test_metrics.py`` checks each one against a
brute-force enumeration over all k-subsets (and all orderings of tied confidences).

Notation: one puzzle has n candidates (samples); c of them are correct; k (1 <= k <= n) is the budget being
scored, and "a random k-subset" is a uniformly random k-element subset of the n candidates. ``q`` is an
agent's own confidence (higher = surer) or ``None`` when it has none; NaN is treated as ``None``.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Hashable, Iterator, Mapping, Sequence
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

FloatArray = npt.NDArray[np.float64]
BoolArray = npt.NDArray[np.bool_]
IntArray = npt.NDArray[np.int64]

_EXACT_CHUNK_ROWS = 65_536  # subsets evaluated per numpy batch in vote@k
_MC_CHUNK_CELLS = 2_000_000  # random numbers drawn per numpy batch in the vote@k Monte-Carlo path


# -- shared helpers ----------------------------------------------------------------------------------------


def _check_k(n: int, k: int) -> None:
    """Raise ValueError unless 1 <= k <= n."""
    if not 1 <= k <= n:
        raise ValueError(f"k must satisfy 1 <= k <= n, got k={k} with n={n} candidates")


def _q_float(v: float | None) -> float | None:
    """q as a float, or None when it carries no confidence (None or NaN)."""
    if v is None:
        return None
    f = float(v)
    return None if math.isnan(f) else f


def _q_rank(q: Sequence[float | None]) -> IntArray:
    """Dense integer rank of each q: equal q -> equal rank, higher q -> higher rank, None/NaN -> 0.

    The missing rank 0 lies below every number, -inf included.
    """
    values = [_q_float(v) for v in q]
    levels = sorted({v for v in values if v is not None})
    rank = {v: i + 1 for i, v in enumerate(levels)}
    return np.array([0 if v is None else rank[v] for v in values], dtype=np.int64)


def _answered_correct(answered: Sequence[bool], correct: Sequence[bool]) -> tuple[BoolArray, BoolArray]:
    """Both flag arrays as bool, checked for equal length and for 'correct implies answered'."""
    a = np.asarray(answered, dtype=bool).reshape(-1)
    c = np.asarray(correct, dtype=bool).reshape(-1)
    if a.shape != c.shape:
        raise ValueError(f"answered has {a.size} flags but correct has {c.size}")
    if np.any(c & ~a):
        raise ValueError("a candidate is marked correct without an answer (correct must imply answered)")
    return a, c


# -- sampling metrics --------------------------------------------------------------------------------------


def pass_at_k(n: int, c: int, k: int) -> float:
    """Chen et al. (2021) unbiased pass@k: P(a random k-subset of n samples holds a correct one).

    pass@k = 1 - C(n-c, k) / C(n, k), evaluated stably as
    ``1.0 if n - c < k else 1 - prod_{i=n-c+1}^{n} (1 - k / i)``.
    Raises ValueError unless 1 <= k <= n and 0 <= c <= n.
    """
    _check_k(n, k)
    if not 0 <= c <= n:
        raise ValueError(f"c must satisfy 0 <= c <= n, got c={c} with n={n}")
    if n - c < k:
        return 1.0
    return float(1.0 - np.prod(1.0 - k / np.arange(n - c + 1, n + 1, dtype=np.float64)))


def best_q_at_k(correct: Sequence[bool], q: Sequence[float | None], k: int) -> float:
    """best-Q@k: expected correctness of the highest-q candidate of a random k-subset.

    Rank the n candidates by q descending (r = 1..n). The rank-r candidate is the pick exactly when it is in
    the subset and no better-ranked one is, with probability w_r = C(n-r, k-1) / C(n, k), so
    best-Q@k = sum_r correct_r * w_r.

    Tie-break: candidates with equal q stand in a uniformly random order and the value is the exact
    expectation over those orders. Because the members of a tie block share the block's ranks symmetrically,
    this equals giving every member of the block the block's mean correctness:
    best-Q@k = sum_blocks mean(correct in block) * sum_{r in block} w_r.
    ``None`` (or NaN) q ranks below every number; with no q at all the pick is a uniformly random candidate
    and best-Q@k = c / n (= pass@1).
    """
    n = len(correct)
    _check_k(n, k)
    if len(q) != n:
        raise ValueError(f"{n} correctness flags but {len(q)} q values")
    rank = _q_rank(q)
    ok = np.asarray(correct, dtype=bool).astype(np.float64)
    order = np.argsort(-rank, kind="stable")
    rank, ok = rank[order], ok[order]
    total = math.comb(n, k)
    weight = np.array([math.comb(n - r, k - 1) / total for r in range(1, n + 1)])
    value = 0.0
    start = 0
    for end in range(1, n + 1):
        if end == n or rank[end] != rank[start]:
            value += float(ok[start:end].mean()) * float(weight[start:end].sum())
            start = end
    return value


@dataclass(frozen=True)
class VoteResult:
    """vote@k value; ``exact`` says whether all C(n, k) subsets were enumerated (True) or ``draws`` random
    k-subsets were sampled (False). ``draws`` is the number of subsets evaluated: C(n, k) when exact."""

    value: float
    exact: bool
    draws: int


def _vote_values(
    subsets: IntArray, label: IntArray, q_low: BoolArray, q_value: FloatArray, truth: BoolArray
) -> FloatArray:
    """For each row of ``subsets`` (candidate indices), the expected correctness of its winning answer.

    Candidate i votes for answer ``label[i]`` (label == truth.size is an abstention). Winner: most votes;
    ties -> larger sum of q over the answer's votes, -inf if any of them has ``q_low`` (equal counts make
    this the mean-q rule); remaining ties -> each tied answer equally likely. No answer -> 0.
    """
    rows, k = subsets.shape
    g = truth.size
    if g == 0:
        return np.zeros(rows)
    counts = np.zeros((rows, g + 1), dtype=np.int64)
    q_sum = np.zeros((rows, g + 1))
    lows = np.zeros((rows, g + 1), dtype=np.int64)
    row = np.arange(rows)
    for j in range(k):  # rows hold distinct candidates, so (row, label) pairs never repeat within one step
        idx = subsets[:, j]
        lab = label[idx]
        counts[row, lab] += 1
        q_sum[row, lab] += q_value[idx]
        lows[row, lab] += q_low[idx]
    counts, q_sum, lows = counts[:, :g], q_sum[:, :g], lows[:, :g]
    top = counts.max(axis=1, keepdims=True)
    leaders = (counts == top) & (top > 0)
    score = np.where(lows > 0, -np.inf, q_sum)
    best = np.where(leaders, score, -np.inf).max(axis=1, keepdims=True)
    winners = leaders & (score == best)
    n_win = winners.sum(axis=1)
    hits = (winners & truth[None, :]).sum(axis=1)
    return np.where(n_win > 0, hits / np.maximum(n_win, 1), 0.0)


def _combination_chunks(n: int, k: int) -> Iterator[IntArray]:
    """All k-subsets of range(n) in lexicographic order, as int arrays of at most _EXACT_CHUNK_ROWS rows."""
    combos = itertools.combinations(range(n), k)
    while True:
        flat = np.fromiter(itertools.chain.from_iterable(itertools.islice(combos, _EXACT_CHUNK_ROWS)), dtype=np.int64)
        if flat.size == 0:
            return
        yield flat.reshape(-1, k)


def _random_subset_chunks(n: int, k: int, draws: int, seed: int) -> Iterator[IntArray]:
    """``draws`` independent uniformly random k-subsets of range(n) (each row sorted), seeded."""
    rng = np.random.default_rng(seed)
    per_chunk = max(1, _MC_CHUNK_CELLS // n)
    left = draws
    while left > 0:
        rows = min(per_chunk, left)
        keys = rng.random((rows, n))
        picked = keys.argsort(axis=1)[:, :k] if k == n else np.argpartition(keys, k - 1, axis=1)[:, :k]
        yield np.sort(picked, axis=1).astype(np.int64)
        left -= rows


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
    """vote@k (self-consistency): expected correctness of the plurality answer of a random k-subset.

    vote@k = (1 / C(n, k)) * sum_{|S| = k} v(S), where v(S) is the correctness of the answer with the most
    votes in S. Equal ``answer_keys`` are the same answer (use a hashable form, e.g. the grid's bytes); a
    ``None`` key is an abstention or failure and never wins; v(S) = 0 when S holds only ``None`` keys.
    Ties in vote count go to the answer with the higher mean q over its votes in S (a ``None``/NaN q counts as
    -inf, so one such vote makes the mean -inf); answers still tied are equally likely, so v(S) is the mean
    correctness of the tied answers. Different answers may both be correct (e.g. two optimal maze paths),
    but one answer must have one correctness: ValueError otherwise, and for a ``None`` key marked correct.

    Exact: all C(n, k) subsets when C(n, k) <= ``max_exact_subsets`` (k = n is the single full set).
    Otherwise a Monte-Carlo mean of v over ``mc_draws`` independent uniformly random k-subsets drawn with
    numpy's default_rng(``seed``) -- deterministic for a given seed -- reported with ``exact=False``; its
    standard error is at most 0.5 / sqrt(mc_draws).
    """
    n = len(answer_keys)
    _check_k(n, k)
    if len(correct) != n or len(q) != n:
        raise ValueError(f"answer_keys, correct and q need one entry per candidate: {n}, {len(correct)}, {len(q)}")
    if max_exact_subsets < 0 or mc_draws < 1:
        raise ValueError(f"need max_exact_subsets >= 0 and mc_draws >= 1, got {max_exact_subsets}, {mc_draws}")
    labels: dict[Hashable, int] = {}
    truth_of: list[bool] = []
    for key, ok in zip(answer_keys, correct):
        if key is None:
            if ok:
                raise ValueError("a candidate without an answer (key None) is marked correct")
            continue
        if key not in labels:
            labels[key] = len(labels)
            truth_of.append(bool(ok))
        elif truth_of[labels[key]] != bool(ok):
            raise ValueError(f"answer {key!r} is marked both correct and wrong")
    g = len(labels)
    label = np.array([g if key is None else labels[key] for key in answer_keys], dtype=np.int64)
    truth = np.array(truth_of, dtype=bool)
    q_float = [_q_float(v) for v in q]
    q_low = np.array([v is None or v == -math.inf for v in q_float], dtype=bool)
    q_value = np.array([0.0 if v is None or v == -math.inf else v for v in q_float])

    total = math.comb(n, k)
    exact = total <= max_exact_subsets
    chunks = _combination_chunks(n, k) if exact else _random_subset_chunks(n, k, mc_draws, seed)
    draws = total if exact else mc_draws
    value = math.fsum(float(_vote_values(s, label, q_low, q_value, truth).sum()) for s in chunks) / draws
    return VoteResult(value=value, exact=exact, draws=draws)


def attempts_at(correct_per_attempt: Sequence[bool], attempts: int = 2) -> bool:
    """Official ARC rule: solved = any(correct_per_attempt[:attempts]) (2 attempts per test pair).

    Attempts that were not made count as wrong. Raises ValueError if ``attempts`` < 1.
    """
    if attempts < 1:
        raise ValueError(f"attempts must be >= 1, got {attempts}")
    return any(bool(ok) for ok in list(correct_per_attempt)[:attempts])


# -- abstention / selective prediction ---------------------------------------------------------------------


def coverage(answered: Sequence[bool]) -> float:
    """coverage = answered / total; NaN for an empty input."""
    a = np.asarray(answered, dtype=bool).reshape(-1)
    return float(a.mean()) if a.size else math.nan


def precision_when_answering(answered: Sequence[bool], correct: Sequence[bool]) -> float:
    """precision = correct / answered; NaN when nothing was answered."""
    a, c = _answered_correct(answered, correct)
    n_answered = int(a.sum())
    return int(c.sum()) / n_answered if n_answered else math.nan


def wrong_count(answered: Sequence[bool], correct: Sequence[bool]) -> int:
    """wrong = #(answered and not correct); "sound" means wrong == 0."""
    a, c = _answered_correct(answered, correct)
    return int((a & ~c).sum())


def selective_risk(answered: Sequence[bool], correct: Sequence[bool]) -> float:
    """selective risk = wrong / answered (= 1 - precision); NaN when nothing was answered."""
    a, c = _answered_correct(answered, correct)
    n_answered = int(a.sum())
    return int((a & ~c).sum()) / n_answered if n_answered else math.nan


def _log_binom_cdf(x: int, n: int, p: float, log_comb: FloatArray) -> float:
    """log P(X <= x) for X ~ Binomial(n, p), 0 < p < 1: log-sum-exp of log C(n,i) + i log p + (n-i) log(1-p).

    ``log_comb[i]`` = log C(n, i) for i = 0..x.
    """
    i = np.arange(x + 1, dtype=np.float64)
    terms = log_comb + i * math.log(p) + (n - i) * math.log1p(-p)
    top = float(terms.max())
    return top + math.log(float(np.exp(terms - top).sum()))


def clopper_pearson_upper(failures: int, n: int, alpha: float = 0.05) -> float:
    """Exact one-sided (1 - alpha) Clopper-Pearson upper bound on a binomial rate from ``failures`` of ``n``.

    The bound is the p_U with P(X <= failures; n, p_U) = alpha, X ~ Binomial(n, p_U), i.e. the
    Beta(failures + 1, n - failures) quantile at 1 - alpha. Special cases: failures == 0 gives the closed form
    1 - alpha ** (1/n); failures == n, and n == 0 (no evidence), give 1.0. Otherwise p_U is found by bisection
    on the exact binomial CDF (log-space sum of lgamma terms, which decreases in p) until the bracket is below
    1e-15 relative, far inside the 1e-9 target.
    """
    if n < 0 or not 0 <= failures <= n:
        raise ValueError(f"need 0 <= failures <= n, got failures={failures}, n={n}")
    if not 0.0 < alpha < 1.0:
        raise ValueError(f"alpha must lie in (0, 1), got {alpha}")
    if n == 0 or failures == n:
        return 1.0
    if failures == 0:
        return -math.expm1(math.log(alpha) / n)  # = 1 - alpha ** (1/n), without cancellation for large n
    log_n_fact = math.lgamma(n + 1)
    log_comb = np.array([log_n_fact - math.lgamma(i + 1) - math.lgamma(n - i + 1) for i in range(failures + 1)])
    log_alpha = math.log(alpha)
    lo, hi = 0.0, 1.0  # CDF(lo) > alpha >= CDF(hi)
    for _ in range(400):
        mid = 0.5 * (lo + hi)
        if mid <= lo or mid >= hi or hi - lo <= 1e-15 * hi:
            break
        if _log_binom_cdf(failures, n, mid, log_comb) > log_alpha:
            lo = mid
        else:
            hi = mid
    return 0.5 * (lo + hi)


def clopper_pearson_interval(successes: int, n: int, alpha: float = 0.05) -> tuple[float, float]:
    """Exact two-sided (1 - alpha) Clopper-Pearson interval for a binomial rate from ``successes`` of ``n``.

    Each side is a one-sided bound at alpha / 2: upper = :func:`clopper_pearson_upper` (successes, n, alpha/2),
    lower = 1 - clopper_pearson_upper(n - successes, n, alpha/2) (the upper bound on the failure rate), i.e.
    the Beta(x, n - x + 1) quantile at alpha/2 and the Beta(x + 1, n - x) quantile at 1 - alpha/2. The lower
    end is 0 when successes == 0 and the upper end 1 when successes == n.
    """
    if n < 0 or not 0 <= successes <= n:
        raise ValueError(f"need 0 <= successes <= n, got successes={successes}, n={n}")
    upper = clopper_pearson_upper(successes, n, alpha / 2)
    lower = 0.0 if successes == 0 else 1.0 - clopper_pearson_upper(n - successes, n, alpha / 2)
    return lower, upper


def _ranked_answers(
    q: Sequence[float | None], answered: Sequence[bool], correct: Sequence[bool]
) -> tuple[int, IntArray, BoolArray]:
    """(total n, q rank of each answered candidate, wrong flag of each), ordered by q descending."""
    a, c = _answered_correct(answered, correct)
    if len(q) != a.size:
        raise ValueError(f"{a.size} candidates but {len(q)} q values")
    rank = _q_rank(q)[a]
    wrong = ~c[a]
    order = np.argsort(-rank, kind="stable")
    return a.size, rank[order], wrong[order]


def _block_ends(rank: IntArray) -> IntArray:
    """End positions (exclusive) of the runs of equal values in an already sorted rank array."""
    m = rank.size
    if m == 0:
        return np.zeros(0, dtype=np.int64)
    return np.append(np.flatnonzero(rank[1:] != rank[:-1]) + 1, m).astype(np.int64)


def risk_coverage_curve(
    q: Sequence[float | None], answered: Sequence[bool], correct: Sequence[bool]
) -> tuple[FloatArray, FloatArray]:
    """Risk-coverage curve of accepting answers whose q is at least a threshold, threshold falling.

    Answered candidates are sorted by q descending (None/NaN last); candidates with equal q enter together,
    so there is one point per distinct q among the answered. At the point where the first a answers are
    accepted: coverage = a / n (n = all candidates, unanswered included), risk = wrong among them / a.
    Unanswered candidates never enter, so the curve ends at the agent's own coverage. Empty when nothing
    was answered.
    """
    n, rank, wrong = _ranked_answers(q, answered, correct)
    ends = _block_ends(rank)
    cum_wrong = np.cumsum(wrong, dtype=np.float64)
    if ends.size == 0:
        return np.zeros(0), np.zeros(0)
    return ends / n, cum_wrong[ends - 1] / ends


def aurc(q: Sequence[float | None], answered: Sequence[bool], correct: Sequence[bool]) -> float:
    """AURC: area under the risk-coverage step curve divided by its final coverage (lower is better).

    With m answered candidates ranked by q descending and tie blocks B_1, B_2, ... (equal q, accepted
    together), every member of block B_j takes the risk of the curve point where B_j enters:
    risk_j = wrong in B_1..B_j / |B_1 u ... u B_j|. Then
    AURC = (1/m) * sum_j |B_j| * risk_j = (1/m) * sum_{answered i} wrong(q >= q_i) / #(q >= q_i),
    which is the integral of the right-continuous step curve over coverage divided by the final coverage
    m / n. With distinct q it is the usual mean of prefix risks (1/m) sum_i wrong(first i) / i.
    NaN when nothing was answered.
    """
    _, rank, wrong = _ranked_answers(q, answered, correct)
    m = rank.size
    if m == 0:
        return math.nan
    ends = _block_ends(rank)
    sizes = np.diff(ends, prepend=0)
    risk = np.cumsum(wrong, dtype=np.float64)[ends - 1] / ends
    return float(np.dot(sizes, risk) / m)


def auroc(scores: Sequence[float], positive: Sequence[bool]) -> float:
    """Area under the ROC curve of ``scores`` separating positives from negatives (NaN if either is empty).

    AUROC = P(s_pos > s_neg) + 0.5 * P(s_pos = s_neg) over all (positive, negative) pairs: the
    Mann-Whitney U statistic divided by n_pos * n_neg, computed from mid-ranks in O(n log n). Used to
    check that a model's halting confidence q ranks its right answers above its wrong ones.
    """
    s = np.asarray(scores, dtype=np.float64)
    pos = np.asarray(positive, dtype=bool)
    if s.shape != pos.shape:
        raise ValueError(f"scores {s.shape} and labels {pos.shape} differ in shape")
    n_pos, n_neg = int(pos.sum()), int((~pos).sum())
    if n_pos == 0 or n_neg == 0:
        return math.nan
    order = np.argsort(s, kind="stable")
    sorted_s = s[order]
    ranks = np.empty(s.size, dtype=np.float64)
    starts = np.flatnonzero(np.r_[True, sorted_s[1:] != sorted_s[:-1]])
    ends = np.r_[starts[1:], s.size]
    for a, b in zip(starts, ends):
        ranks[order[a:b]] = (a + b + 1) / 2  # mid-rank of a tie block, ranks counted from 1
    u = ranks[pos].sum() - n_pos * (n_pos + 1) / 2
    return float(u / (n_pos * n_neg))


# -- cost --------------------------------------------------------------------------------------------------


def mean_cost(costs: Sequence[Mapping[str, float | None]]) -> dict[str, float]:
    """Per cost field f: mean_f = sum of known values / count_f, over candidates where f is known.

    A value is known when it is not None and not NaN. The result holds ``f`` -> mean_f and
    ``f + "_known"`` -> count_f (as a float) for every field known at least once, in sorted field order.
    """
    values: dict[str, list[float]] = {}
    for cost in costs:
        for field, value in cost.items():
            if value is None or math.isnan(float(value)):
                continue
            values.setdefault(field, []).append(float(value))
    out: dict[str, float] = {}
    for field in sorted(values):
        out[field] = math.fsum(values[field]) / len(values[field])
        out[f"{field}_known"] = float(len(values[field]))
    return out
