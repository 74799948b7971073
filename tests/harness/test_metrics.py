"""Every metric against a brute-force enumeration over all k-subsets (and all tie orders)."""

from __future__ import annotations

import itertools
import math

import numpy as np
import pytest
from arena_harness import metrics

rng = np.random.default_rng(1234)


def random_case(n: int):
    correct = rng.random(n) < rng.random()
    q_levels = rng.integers(0, 3, size=n)  # few levels: many ties
    q = [None if rng.random() < 0.15 else float(v) for v in q_levels]
    return correct.tolist(), q


def brute_pass(correct, k):
    subsets = list(itertools.combinations(range(len(correct)), k))
    return np.mean([any(correct[i] for i in s) for s in subsets])


def brute_best_q(correct, q, k):
    """Average over every ordering of tied q values and every k-subset of the top pick's correctness."""
    n = len(correct)
    key = [(-math.inf if v is None else v) for v in q]
    levels = sorted(set(key), reverse=True)
    blocks = [[i for i in range(n) if key[i] == lv] for lv in levels]
    totals = []
    for perms in itertools.product(*(itertools.permutations(b) for b in blocks)):
        ranking = [i for block in perms for i in block]
        rank_of = {c: r for r, c in enumerate(ranking)}
        vals = [correct[min(s, key=rank_of.__getitem__)] for s in itertools.combinations(range(n), k)]
        totals.append(np.mean(vals))
    return float(np.mean(totals))


def brute_vote(keys, correct, q, k):
    n = len(keys)
    out = []
    for s in itertools.combinations(range(n), k):
        groups = {}
        for i in s:
            if keys[i] is not None:
                groups.setdefault(keys[i], []).append(i)
        if not groups:
            out.append(0.0)
            continue

        def score(a, groups=groups):
            qs = [(-math.inf if q[i] is None else q[i]) for i in groups[a]]
            return (len(groups[a]), float(np.mean(qs)))

        best = max(score(a) for a in groups)
        winners = [a for a in groups if score(a) == best]
        out.append(np.mean([correct[groups[a][0]] for a in winners]))
    return float(np.mean(out))


@pytest.mark.parametrize("n", range(1, 8))
def test_pass_at_k_matches_enumeration_and_comb(n):
    for _ in range(10):
        correct, _ = random_case(n)
        c = sum(correct)
        for k in range(1, n + 1):
            value = metrics.pass_at_k(n, c, k)
            assert value == pytest.approx(brute_pass(correct, k), abs=1e-12)
            assert value == pytest.approx(1 - math.comb(n - c, k) / math.comb(n, k), abs=1e-12)


@pytest.mark.parametrize("n", range(1, 7))
def test_best_q_matches_enumeration_over_subsets_and_tie_orders(n):
    for _ in range(6):
        correct, q = random_case(n)
        for k in range(1, n + 1):
            assert metrics.best_q_at_k(correct, q, k) == pytest.approx(brute_best_q(correct, q, k), abs=1e-12)


def test_best_q_without_q_is_pass_at_1_and_perfect_q_reaches_pass_at_k():
    correct = [True, False, False, True, False]
    assert metrics.best_q_at_k(correct, [None] * 5, 3) == pytest.approx(0.4)
    perfect = [1.0 if c else 0.0 for c in correct]
    assert metrics.best_q_at_k(correct, perfect, 3) == pytest.approx(metrics.pass_at_k(5, 2, 3))
    inverted = [0.0 if c else 1.0 for c in correct]
    assert metrics.best_q_at_k(correct, inverted, 3) == pytest.approx(1 - metrics.pass_at_k(5, 3, 3))


@pytest.mark.parametrize("n", range(1, 8))
def test_vote_matches_enumeration(n):
    for _ in range(8):
        correct_answer = "A"
        keys = [rng.choice(["A", "B", "C", None]) for _ in range(n)]
        keys = [None if k is None else str(k) for k in keys]
        correct = [k == correct_answer for k in keys]
        _, q = random_case(n)
        for k in range(1, n + 1):
            result = metrics.vote_at_k(keys, correct, q, k)
            assert result.exact
            assert result.value == pytest.approx(brute_vote(keys, correct, q, k), abs=1e-12)


def test_vote_monte_carlo_is_close_and_deterministic():
    k = 4
    keys = ["A", "B", "A", "C", "B", "A", None, "B", "C"]
    correct = [x == "A" for x in keys]
    q = [0.9, 0.5, 0.1, 0.3, 0.8, 0.4, None, 0.2, 0.7]
    exact = metrics.vote_at_k(keys, correct, q, k)
    mc1 = metrics.vote_at_k(keys, correct, q, k, max_exact_subsets=10, mc_draws=4000, seed=3)
    mc2 = metrics.vote_at_k(keys, correct, q, k, max_exact_subsets=10, mc_draws=4000, seed=3)
    assert exact.exact and not mc1.exact and mc1.draws == 4000
    assert mc1 == mc2
    se = math.sqrt(0.25 / 4000)
    assert abs(mc1.value - exact.value) < 4 * se


def test_attempts_at():
    assert metrics.attempts_at([False, True, True], 2)
    assert not metrics.attempts_at([False, False, True], 2)
    assert metrics.attempts_at([False, False, True], 3)


def brute_cp(x, n, alpha):
    """Smallest p on a fine grid with P(X <= x) <= alpha, refined: the bound is where the CDF hits alpha."""

    def cdf(p):
        return sum(math.comb(n, i) * p**i * (1 - p) ** (n - i) for i in range(x + 1))

    lo, hi = 0.0, 1.0
    for _ in range(200):
        mid = (lo + hi) / 2
        lo, hi = (mid, hi) if cdf(mid) > alpha else (lo, mid)
    return lo


@pytest.mark.parametrize(("x", "n"), [(0, 1), (0, 10), (0, 1000), (1, 10), (3, 20), (7, 40), (19, 20), (20, 20)])
def test_clopper_pearson_upper(x, n):
    value = metrics.clopper_pearson_upper(x, n)
    if x == n:
        assert value == 1.0
    else:
        assert value == pytest.approx(brute_cp(x, n, 0.05), abs=1e-9)
    if x == 0:
        assert value == pytest.approx(1 - 0.05 ** (1 / n), abs=1e-15)
    stats = pytest.importorskip("scipy.stats")
    if x < n:
        assert value == pytest.approx(stats.beta.ppf(0.95, x + 1, n - x), abs=1e-9)


def test_clopper_pearson_is_monotone_and_validates():
    bounds = [metrics.clopper_pearson_upper(x, 30) for x in range(31)]
    assert all(a < b for a, b in itertools.pairwise(bounds))
    assert metrics.clopper_pearson_upper(0, 0) == 1.0
    with pytest.raises(ValueError):
        metrics.clopper_pearson_upper(5, 3)


def test_abstention_counts():
    answered = [True, True, False, True, False]
    correct = [True, False, False, True, False]
    assert metrics.coverage(answered) == 0.6
    assert metrics.wrong_count(answered, correct) == 1
    assert metrics.precision_when_answering(answered, correct) == pytest.approx(2 / 3)
    assert metrics.selective_risk(answered, correct) == pytest.approx(1 / 3)
    assert math.isnan(metrics.precision_when_answering([False], [False]))
    with pytest.raises(ValueError, match="correct without an answer"):
        metrics.wrong_count([False], [True])


def brute_aurc(q, answered, correct):
    """Mean over answered candidates of the risk at the threshold that first accepts them (ties together)."""
    idx = [i for i in range(len(q)) if answered[i]]
    if not idx:
        return math.nan
    key = {i: (-math.inf if q[i] is None else q[i]) for i in idx}
    risks = []
    for i in idx:
        accepted = [j for j in idx if key[j] >= key[i]]
        risks.append(sum(not correct[j] for j in accepted) / len(accepted))
    return float(np.mean(risks))


@pytest.mark.parametrize("n", range(1, 9))
def test_aurc_and_curve_match_brute_force(n):
    for _ in range(10):
        correct, q = random_case(n)
        answered = [c or rng.random() < 0.6 for c in correct]
        expect = brute_aurc(q, answered, correct)
        got = metrics.aurc(q, answered, correct)
        assert (math.isnan(expect) and math.isnan(got)) or got == pytest.approx(expect, abs=1e-12)
        cov, risk = metrics.risk_coverage_curve(q, answered, correct)
        if sum(answered):
            assert cov[-1] == pytest.approx(sum(answered) / n)
            assert risk[-1] == pytest.approx(1 - sum(correct) / sum(answered))
            assert len(cov) == len({(-math.inf if q[i] is None else q[i]) for i in range(n) if answered[i]})


def test_mean_cost_skips_unknown_fields():
    out = metrics.mean_cost([{"nfe": 2, "seconds": 1.0}, {"nfe": 4, "seconds": None}, {}])
    assert out == {"nfe": 3.0, "nfe_known": 2.0, "seconds": 1.0, "seconds_known": 1.0}


@pytest.mark.parametrize("bad", [(0, 0, 1), (3, 1, 4), (3, 4, 1), (3, 1, 0)])
def test_invalid_arguments(bad):
    with pytest.raises(ValueError):
        metrics.pass_at_k(*bad)
