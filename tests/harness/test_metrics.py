"""Every metric against an independent brute force: all k-subsets, all tie orderings, exact rationals."""

from __future__ import annotations

import itertools
import math
from fractions import Fraction

import numpy as np
import pytest

from arena_harness import metrics

Q_LEVELS = [None, -math.inf, 0.0, 0.5, 1.0, 2.0, math.nan]  # few levels -> many ties; NaN behaves as None


# -- independent reference implementations -----------------------------------------------------------------


def q_key(v):
    """Sort key for q: None/NaN below every number (-inf included)."""
    if v is None or math.isnan(v):
        return (0, 0.0)
    return (1, float(v))


def random_q(rng, n):
    if rng.random() < 0.25:  # all distinct
        return [float(v) for v in rng.permutation(n)]
    return [Q_LEVELS[i] for i in rng.integers(0, len(Q_LEVELS), size=n)]


def random_correct(rng, n):
    return [bool(v) for v in rng.random(n) < rng.random()]


def brute_pass(correct, k):
    subsets = list(itertools.combinations(range(len(correct)), k))
    return Fraction(sum(any(correct[i] for i in s) for s in subsets), len(subsets))


def brute_best_q_orderings(correct, q, k):
    """Mean over every ordering of each tie block and every k-subset of the correctness of the top-ranked."""
    n = len(correct)
    levels = sorted({q_key(v) for v in q}, reverse=True)
    blocks = [[i for i in range(n) if q_key(q[i]) == lv] for lv in levels]
    per_order = []
    for orders in itertools.product(*(itertools.permutations(b) for b in blocks)):
        position = {i: p for p, i in enumerate(itertools.chain.from_iterable(orders))}
        picks = [correct[min(s, key=position.__getitem__)] for s in itertools.combinations(range(n), k)]
        per_order.append(Fraction(sum(picks), len(picks)))
    return sum(per_order) / len(per_order)


def brute_best_q_uniform_top(correct, q, k):
    """Per k-subset, the pick is a uniformly random member among those with the subset's highest q."""
    values = []
    for s in itertools.combinations(range(len(correct)), k):
        top = max(q_key(q[i]) for i in s)
        tied = [i for i in s if q_key(q[i]) == top]
        values.append(Fraction(sum(correct[i] for i in tied), len(tied)))
    return sum(values) / len(values)


def n_tie_orders(q):
    counts = {}
    for v in q:
        counts[q_key(v)] = counts.get(q_key(v), 0) + 1
    return math.prod(math.factorial(c) for c in counts.values())


def vote_subset_value(keys, correct, q, subset):
    """Plurality answer of one subset; ties by exact mean q (None/NaN/-inf -> -inf), then averaged."""
    votes = {}
    for i in subset:
        if keys[i] is not None:
            votes.setdefault(keys[i], []).append(i)
    if not votes:
        return Fraction(0)

    def mean_q(members):
        if any(q_key(q[i]) == (0, 0.0) or q[i] == -math.inf for i in members):
            return (0, Fraction(0))
        return (1, sum(Fraction(q[i]) for i in members) / len(members))

    score = {a: (len(m), mean_q(m)) for a, m in votes.items()}
    best = max(score.values())
    winners = [a for a in votes if score[a] == best]
    return Fraction(sum(correct[votes[a][0]] for a in winners), len(winners))


def brute_vote_values(keys, correct, q, k):
    return [vote_subset_value(keys, correct, q, s) for s in itertools.combinations(range(len(keys)), k)]


def random_vote_case(rng, n):
    alphabet = ["A", "B", "C", None][: int(rng.integers(1, 5))]
    keys = [alphabet[i] for i in rng.integers(0, len(alphabet), size=n)]
    truth = {a: bool(rng.random() < 0.5) for a in alphabet if a is not None}
    correct = [key is not None and truth[key] for key in keys]
    return keys, correct, random_q(rng, n)


def binom_cdf_exact(x, n, p):
    p = Fraction(p)
    return sum(math.comb(n, i) * p**i * (1 - p) ** (n - i) for i in range(x + 1))


def brute_curve(q, answered, correct):
    n = len(q)
    levels = sorted({q_key(q[i]) for i in range(n) if answered[i]}, reverse=True)
    cov, risk = [], []
    for lv in levels:
        accepted = [j for j in range(n) if answered[j] and q_key(q[j]) >= lv]
        cov.append(Fraction(len(accepted), n))
        risk.append(Fraction(sum(not correct[j] for j in accepted), len(accepted)))
    return cov, risk


def brute_aurc(q, answered, correct):
    """Mean over answered i of the risk of the set accepted by threshold q_i (ties enter together)."""
    idx = [i for i in range(len(q)) if answered[i]]
    if not idx:
        return math.nan
    risks = []
    for i in idx:
        accepted = [j for j in idx if q_key(q[j]) >= q_key(q[i])]
        risks.append(Fraction(sum(not correct[j] for j in accepted), len(accepted)))
    return sum(risks) / len(risks)


# -- pass@k ------------------------------------------------------------------------------------------------


def test_pass_at_k_matches_enumeration_and_comb():
    for n in range(1, 9):
        for c in range(n + 1):
            correct = [True] * c + [False] * (n - c)
            for k in range(1, n + 1):
                value = metrics.pass_at_k(n, c, k)
                assert abs(value - brute_pass(correct, k)) < 1e-12
                assert abs(value - (1 - Fraction(math.comb(n - c, k), math.comb(n, k)))) < 1e-12


def test_pass_at_k_large_n_is_stable():
    n, c, k = 2000, 3, 100
    exact = 1 - Fraction(math.comb(n - c, k), math.comb(n, k))
    assert abs(metrics.pass_at_k(n, c, k) - exact) < 1e-12
    assert metrics.pass_at_k(n, 0, k) == 0.0
    assert metrics.pass_at_k(n, n - k + 1, k) == 1.0


# -- best-Q@k ----------------------------------------------------------------------------------------------


def test_best_q_matches_enumeration_over_subsets_and_tie_orders():
    rng = np.random.default_rng(11)
    checked_orders = 0
    for n in range(1, 9):
        for _ in range(12):
            correct, q = random_correct(rng, n), random_q(rng, n)
            orders_feasible = n_tie_orders(q) * 2**n <= 20_000
            for k in range(1, n + 1):
                got = metrics.best_q_at_k(correct, q, k)
                assert abs(got - brute_best_q_uniform_top(correct, q, k)) < 1e-12, (correct, q, k)
                if orders_feasible:
                    assert abs(got - brute_best_q_orderings(correct, q, k)) < 1e-12, (correct, q, k)
                    checked_orders += 1
    assert checked_orders > 150  # the tie-order brute force really ran, on many cases


def test_best_q_design_formula_with_distinct_q():
    rng = np.random.default_rng(5)
    for n in range(1, 9):
        correct, q = random_correct(rng, n), [float(v) for v in rng.permutation(n)]
        ranked = sorted(range(n), key=lambda i: -q[i])
        for k in range(1, n + 1):
            expect = sum(
                Fraction(math.comb(n - r, k - 1), math.comb(n, k)) * correct[i] for r, i in enumerate(ranked, start=1)
            )
            assert abs(metrics.best_q_at_k(correct, q, k) - expect) < 1e-12


def test_best_q_reference_points():
    correct = [True, False, False, True, False]
    n, c = 5, 2
    for k in range(1, 6):
        assert metrics.best_q_at_k(correct, [None] * n, k) == pytest.approx(c / n, abs=1e-15)
        perfect = [1.0 if ok else 0.0 for ok in correct]
        assert metrics.best_q_at_k(correct, perfect, k) == pytest.approx(metrics.pass_at_k(n, c, k), abs=1e-15)
        inverted = [0.0 if ok else 1.0 for ok in correct]
        only_if_all_right = 1 - metrics.pass_at_k(n, n - c, k)
        assert metrics.best_q_at_k(correct, inverted, k) == pytest.approx(only_if_all_right, abs=1e-15)
    # None ranks below -inf: the -inf candidate is picked whenever it is in the subset
    assert metrics.best_q_at_k([True, False], [-math.inf, None], 2) == 1.0
    assert metrics.best_q_at_k([True, False], [math.nan, -math.inf], 2) == 0.0


# -- vote@k ------------------------------------------------------------------------------------------------


def test_vote_matches_enumeration():
    rng = np.random.default_rng(7)
    for n in range(1, 9):
        for _ in range(15):
            keys, correct, q = random_vote_case(rng, n)
            for k in range(1, n + 1):
                result = metrics.vote_at_k(keys, correct, q, k)
                values = brute_vote_values(keys, correct, q, k)
                assert result.exact and result.draws == math.comb(n, k)
                assert abs(result.value - sum(values) / len(values)) < 1e-12, (keys, correct, q, k)


def test_vote_hand_cases():
    v = metrics.vote_at_k
    # B and A both have 2 votes; B's mean q 0.6 beats A's 0.5
    assert v(["A", "A", "B", "B", "C"], [True, True, False, False, False], [0.9, 0.1, 0.6, 0.6, 1.0], 5).value == 0
    assert v(["A", "A", "B"], [True, True, False], [0.0, 0.0, 9.0], 3).value == 1.0  # count beats q
    assert v(["A", "B"], [True, False], [None, 0.1], 2).value == 0.0  # None q counts as -inf
    assert v(["A", "B"], [True, False], [0.3, 0.3], 2).value == 0.5  # full tie: averaged
    assert v(["A", "B"], [True, False], [None, None], 2).value == 0.5
    assert v([None, None], [False, False], [1.0, 1.0], 1).value == 0.0  # nobody answered
    assert v(["A", None], [True, False], [None, 5.0], 1).value == 0.5  # abstentions never win, but score 0
    assert v(["A", None, None], [True, False, False], [0, 0, 0], 3).value == 1.0
    assert v(["A", "B"], [True, True], [0.0, 1.0], 2).value == 1.0  # two different correct answers


def test_vote_with_distinct_answers_and_q_is_best_q():
    rng = np.random.default_rng(3)
    for n in range(1, 9):
        correct, q = random_correct(rng, n), [float(v) for v in rng.permutation(n)]
        for k in range(1, n + 1):
            vote = metrics.vote_at_k(list(range(n)), correct, q, k).value
            assert abs(vote - metrics.best_q_at_k(correct, q, k)) < 1e-12


def test_vote_rejects_inconsistent_correctness():
    with pytest.raises(ValueError, match="both correct and wrong"):
        metrics.vote_at_k(["A", "A"], [True, False], [0.0, 0.0], 1)
    with pytest.raises(ValueError, match="without an answer"):
        metrics.vote_at_k([None, "A"], [True, False], [0.0, 0.0], 1)


@pytest.mark.parametrize("seed_case", range(4))
def test_vote_monte_carlo_within_4_standard_errors_and_seeded(seed_case):
    rng = np.random.default_rng(100 + seed_case)
    n = 10
    keys = [["A", "B", "C", None][i] for i in rng.integers(0, 4, size=n)]
    truth = {"A": True, "B": False, "C": bool(seed_case % 2)}
    correct = [key is not None and truth[key] for key in keys]
    q = [Q_LEVELS[i] for i in rng.integers(0, len(Q_LEVELS), size=n)]
    k = 4 + seed_case
    values = np.array([float(v) for v in brute_vote_values(keys, correct, q, k)])
    exact = metrics.vote_at_k(keys, correct, q, k)
    assert exact.exact and abs(exact.value - values.mean()) < 1e-12
    draws = 3000
    runs = [metrics.vote_at_k(keys, correct, q, k, max_exact_subsets=10, mc_draws=draws, seed=s) for s in (0, 1, 2)]
    again = metrics.vote_at_k(keys, correct, q, k, max_exact_subsets=10, mc_draws=draws, seed=0)
    assert again == runs[0]  # deterministic under the seed
    se = values.std() / math.sqrt(draws)
    for run in runs:
        assert not run.exact and run.draws == draws
        assert abs(run.value - exact.value) <= 4 * se
    if values.std() > 0:
        assert len({run.value for run in runs}) > 1  # the seed matters, so the draws are really random


def test_vote_monte_carlo_k_equals_n_and_chunking():
    keys = ["A", "B", "A", None, "B", "A"]
    correct = [key == "A" for key in keys]
    q = [0.1, 0.2, 0.3, None, 0.4, 0.5]
    mc = metrics.vote_at_k(keys, correct, q, 6, max_exact_subsets=0, mc_draws=50)
    assert mc == metrics.VoteResult(value=1.0, exact=False, draws=50)
    assert metrics.vote_at_k(keys, correct, q, 6) == metrics.VoteResult(value=1.0, exact=True, draws=1)


# -- ARC attempts ------------------------------------------------------------------------------------------


def test_attempts_at_is_any_of_the_first_attempts():
    for length in range(5):
        for flags in itertools.product([False, True], repeat=length):
            for attempts in range(1, 6):
                assert metrics.attempts_at(list(flags), attempts) == any(flags[:attempts])
    assert metrics.attempts_at([False, True])
    assert not metrics.attempts_at([False, False, True])
    with pytest.raises(ValueError):
        metrics.attempts_at([True], 0)


# -- abstention --------------------------------------------------------------------------------------------


def test_abstention_counts_match_direct_counting():
    rng = np.random.default_rng(17)
    for n in range(0, 9):
        for _ in range(10):
            answered = [bool(v) for v in rng.random(n) < rng.random()]
            correct = [a and bool(rng.random() < 0.5) for a in answered]
            n_ans, n_ok = sum(answered), sum(correct)
            cov = metrics.coverage(answered)
            assert math.isnan(cov) if n == 0 else cov == n_ans / n
            assert metrics.wrong_count(answered, correct) == n_ans - n_ok
            precision = metrics.precision_when_answering(answered, correct)
            risk = metrics.selective_risk(answered, correct)
            if n_ans == 0:
                assert math.isnan(precision) and math.isnan(risk)
            else:
                assert precision == n_ok / n_ans
                assert risk == (n_ans - n_ok) / n_ans


def test_abstention_validates_flags():
    with pytest.raises(ValueError, match="correct must imply answered"):
        metrics.wrong_count([False, True], [True, True])
    with pytest.raises(ValueError):
        metrics.selective_risk([True], [True, False])


# -- Clopper-Pearson ---------------------------------------------------------------------------------------

CP_CASES = sorted(
    {(x, n) for n in (1, 2, 3, 5, 10, 37, 100, 1000, 20_000) for x in (0, 1, 2, n // 3, n // 2, n - 1, n) if x <= n}
)


@pytest.mark.parametrize("alpha", [0.05, 0.01, 0.2, 0.5, 0.9])
def test_clopper_pearson_against_scipy_beta_quantile(alpha):
    stats = pytest.importorskip("scipy.stats")
    for x, n in CP_CASES:
        got = metrics.clopper_pearson_upper(x, n, alpha)
        expect = 1.0 if x == n else float(stats.beta.ppf(1 - alpha, x + 1, n - x))
        assert abs(got - expect) < 1e-9, (x, n, alpha)
        assert abs(got - expect) <= 1e-7 * expect, (x, n, alpha)  # also relative, for tiny bounds


@pytest.mark.parametrize(("x", "n"), [(1, 2), (1, 10), (3, 20), (7, 40), (19, 20), (2, 60)])
def test_clopper_pearson_solves_the_exact_binomial_equation(x, n):
    """Without scipy: the exact (rational) CDF crosses alpha within 1e-9 of the returned bound."""
    alpha = Fraction(1, 20)
    bound = metrics.clopper_pearson_upper(x, n, 0.05)
    assert binom_cdf_exact(x, n, bound - 1e-9) > alpha > binom_cdf_exact(x, n, bound + 1e-9)


def test_clopper_pearson_closed_form_and_special_cases():
    for n in (1, 2, 7, 100, 10**6):
        for alpha in (0.05, 0.01, 0.5):
            assert abs(metrics.clopper_pearson_upper(0, n, alpha) - (1 - alpha ** (1 / n))) < 1e-15
        assert metrics.clopper_pearson_upper(n, n) == 1.0
    assert metrics.clopper_pearson_upper(0, 0) == 1.0
    assert metrics.clopper_pearson_upper(0, 1) == pytest.approx(0.95)
    assert abs(metrics.clopper_pearson_upper(0, 300) - 3 / 300) < 2e-4  # the rule of three


def test_clopper_pearson_monotone():
    n = 30
    in_x = [metrics.clopper_pearson_upper(x, n) for x in range(n + 1)]
    assert all(a < b for a, b in itertools.pairwise(in_x))
    in_n = [metrics.clopper_pearson_upper(3, m) for m in range(4, 60)]
    assert all(a > b for a, b in itertools.pairwise(in_n))
    in_alpha = [metrics.clopper_pearson_upper(3, 20, a) for a in (0.001, 0.01, 0.05, 0.2, 0.5, 0.9)]
    assert all(a > b for a, b in itertools.pairwise(in_alpha))


@pytest.mark.parametrize(("x", "n", "alpha"), [(5, 3, 0.05), (-1, 3, 0.05), (0, -1, 0.05), (1, 3, 0.0), (1, 3, 1.0)])
def test_clopper_pearson_rejects_bad_arguments(x, n, alpha):
    with pytest.raises(ValueError):
        metrics.clopper_pearson_upper(x, n, alpha)


# -- risk-coverage and AURC --------------------------------------------------------------------------------


def test_risk_coverage_curve_and_aurc_match_brute_force():
    rng = np.random.default_rng(23)
    nonempty = 0
    for n in range(1, 9):
        for _ in range(25):
            q = random_q(rng, n)
            answered = [bool(v) for v in rng.random(n) < 0.75]
            correct = [a and bool(rng.random() < 0.5) for a in answered]
            cov, risk = metrics.risk_coverage_curve(q, answered, correct)
            bcov, brisk = brute_curve(q, answered, correct)
            assert len(cov) == len(bcov) and len(risk) == len(brisk)
            assert all(abs(a - b) < 1e-12 for a, b in zip(cov, bcov))
            assert all(abs(a - b) < 1e-12 for a, b in zip(risk, brisk))
            got, expect = metrics.aurc(q, answered, correct), brute_aurc(q, answered, correct)
            if not any(answered):
                assert math.isnan(got) and math.isnan(expect) and len(cov) == 0
                continue
            nonempty += 1
            assert abs(got - expect) < 1e-12, (q, answered, correct)
            # the same number as the area under the right-continuous step curve over its final coverage
            area = sum((c1 - c0) * r for c0, c1, r in zip([Fraction(0), *bcov], bcov, brisk))
            assert abs(got - area / bcov[-1]) < 1e-12
    assert nonempty > 150


def test_aurc_hand_cases():
    assert metrics.aurc([3.0, 2.0, 1.0], [True] * 3, [True, False, True]) == pytest.approx(5 / 18)
    assert metrics.aurc([1.0, 1.0, 0.0], [True] * 3, [False, True, True]) == pytest.approx(4 / 9)
    cov, risk = metrics.risk_coverage_curve([1.0, 1.0, 0.0, 9.0], [True, True, True, False], [False, True, True, False])
    np.testing.assert_allclose(cov, [2 / 4, 3 / 4])
    np.testing.assert_allclose(risk, [1 / 2, 1 / 3])
    # numpy input with -inf for "no q" (how the summary calls it); -inf ties with -inf
    q = np.array([0.5, -np.inf, -np.inf])
    assert metrics.aurc(q, [True] * 3, [False, True, True]) == pytest.approx((1 + 2 * (1 / 3)) / 3)


# -- cost --------------------------------------------------------------------------------------------------


def test_mean_cost_skips_unknown_values():
    out = metrics.mean_cost([{"nfe": 2, "seconds": 1.0}, {"nfe": 4, "seconds": None}, {"tokens": math.nan}, {}])
    assert out == {"nfe": 3.0, "nfe_known": 2.0, "seconds": 1.0, "seconds_known": 1.0}
    assert metrics.mean_cost([]) == {}


def test_mean_cost_matches_direct_means():
    rng = np.random.default_rng(29)
    fields = ["nfe", "seconds", "tokens_in", "dollars"]
    for _ in range(30):
        costs = [
            {f: (None if rng.random() < 0.3 else float(rng.integers(0, 100))) for f in fields if rng.random() < 0.8}
            for _ in range(int(rng.integers(0, 8)))
        ]
        out = metrics.mean_cost(costs)
        for f in fields:
            known = [c[f] for c in costs if c.get(f) is not None]
            if known:
                assert out[f] == pytest.approx(sum(known) / len(known), abs=1e-12)
                assert out[f + "_known"] == len(known)
            else:
                assert f not in out and f + "_known" not in out


# -- argument checks ---------------------------------------------------------------------------------------

BAD_CALLS = {
    "pass k>n": lambda: metrics.pass_at_k(3, 1, 4),
    "pass k<1": lambda: metrics.pass_at_k(3, 1, 0),
    "pass n=0": lambda: metrics.pass_at_k(0, 0, 1),
    "pass c>n": lambda: metrics.pass_at_k(3, 4, 1),
    "pass c<0": lambda: metrics.pass_at_k(3, -1, 1),
    "best-q k>n": lambda: metrics.best_q_at_k([True], [0.5], 2),
    "best-q k<1": lambda: metrics.best_q_at_k([True], [0.5], 0),
    "best-q empty": lambda: metrics.best_q_at_k([], [], 1),
    "best-q lengths": lambda: metrics.best_q_at_k([True, False], [0.5], 1),
    "vote k>n": lambda: metrics.vote_at_k(["A"], [True], [0.5], 2),
    "vote k<1": lambda: metrics.vote_at_k(["A"], [True], [0.5], 0),
    "vote lengths": lambda: metrics.vote_at_k(["A", "B"], [True], [0.5, 0.1], 1),
    "vote draws": lambda: metrics.vote_at_k(["A", "B"], [True, False], [0.5, 0.1], 1, mc_draws=0),
    "curve lengths": lambda: metrics.risk_coverage_curve([0.1], [True, True], [True, True]),
    "aurc correct w/o answer": lambda: metrics.aurc([0.1], [False], [True]),
}


@pytest.mark.parametrize("name", sorted(BAD_CALLS))
def test_invalid_arguments_raise_value_error(name):
    with pytest.raises(ValueError):
        BAD_CALLS[name]()


def test_auroc_matches_pair_counting_with_ties():
    rng = np.random.default_rng(7)
    for _ in range(50):
        n = int(rng.integers(2, 30))
        scores = rng.integers(0, 5, n).astype(float)  # many ties
        positive = rng.random(n) < 0.5
        pos, neg = scores[positive], scores[~positive]
        if not len(pos) or not len(neg):
            assert math.isnan(metrics.auroc(scores, positive))
            continue
        pairs = [(1.0 if p > q else 0.5 if p == q else 0.0) for p in pos for q in neg]
        assert metrics.auroc(scores, positive) == pytest.approx(sum(pairs) / len(pairs))
    assert metrics.auroc([0.9, 0.8, 0.1], [True, True, False]) == 1.0
    assert metrics.auroc([0.1, 0.8, 0.9], [True, True, False]) == 0.0


@pytest.mark.parametrize("alpha", [0.05, 0.2])
def test_clopper_pearson_interval_against_scipy_beta_quantiles(alpha):
    stats = pytest.importorskip("scipy.stats")
    for x, n in CP_CASES:
        lower, upper = metrics.clopper_pearson_interval(x, n, alpha)
        expect_lower = 0.0 if x == 0 else float(stats.beta.ppf(alpha / 2, x, n - x + 1))
        expect_upper = 1.0 if x == n else float(stats.beta.ppf(1 - alpha / 2, x + 1, n - x))
        assert abs(lower - expect_lower) < 1e-9 and abs(upper - expect_upper) < 1e-9, (x, n, alpha)
        assert lower <= x / n <= upper


def test_clopper_pearson_interval_edges():
    assert metrics.clopper_pearson_interval(0, 10)[0] == 0.0 and metrics.clopper_pearson_interval(10, 10)[1] == 1.0
    assert metrics.clopper_pearson_interval(0, 0) == (0.0, 1.0)
    with pytest.raises(ValueError):
        metrics.clopper_pearson_interval(11, 10)
