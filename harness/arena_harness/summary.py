"""From stored candidate records to one summary row (the pure metric functions live in ``metrics``).

Aggregation is per puzzle: each puzzle's pass@1, pass@k, best-Q@k and vote@k are computed from its k
samples, then averaged over the manifest. A manifest puzzle with fewer than k stored samples is
padded with failed samples ("missing"), so it can never count as solved by accident. Abstention
figures (coverage, wrong, Clopper-Pearson bound, AURC) are over all candidates.
"""

from __future__ import annotations

import hashlib
import math
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import asdict, dataclass, field
from typing import Any

import numpy as np

from arena_harness import metrics
from arena_harness.records import CandidateRecord

SELECTOR = "best-Q: highest q among a random k-subset; vote: plurality answer of a random k-subset"
TIE_BREAK = (
    "best-Q: equal q are in random order (exact expectation), None q ranks last; "
    "vote: most votes, then higher mean q, then uniformly at random (exact expectation)"
)
AGGREGATION = "mean over the manifest's puzzles of per-puzzle values; missing samples count as failures"


@dataclass(frozen=True)
class Summary:
    env_id: str
    split: str
    data_source: str
    data_fingerprint: str
    agent_name: str
    agent_kind: str
    agent_hash: str
    k: int
    n_puzzles: int
    n_candidates: int
    n_missing: int  # manifest samples with no stored record
    pass_at_1: float
    pass_at_k: float
    best_q_at_k: float | None  # None when no candidate has a q
    vote_at_k: float
    vote_exact: bool
    coverage: float
    answered: int
    wrong: int
    failed: int  # agent errors (LLM timeouts, unparseable output, missing samples)
    precision: float | None
    selective_risk: float | None
    wrong_rate_upper95: float  # exact one-sided Clopper-Pearson 95% bound on wrong/answered
    sound: bool  # answered at least once and 0 wrong
    aurc: float | None
    cost_mean: dict[str, float]  # per candidate, over candidates where the field is known
    seconds_per_puzzle: float | None
    # ARC's official score: a test pair counts when either of the first 2 attempts gets it; a task scores
    # solved pairs / pairs; mean over the manifest (a missing or malformed task scores 0). None for families
    # whose verdicts carry no per-pair results.
    pair_score_at_2: float | None = None
    all_pairs_at_2: float | None = None  # the stricter rate: every test pair of the task solved
    # the papers' Maze-Hard metric: the answer equals the stored label (one of the shortest paths), pass@1 over the
    # samples like pass_at_1; None for families whose verdicts carry no ``exact_label``
    exact_label_at_1: float | None = None
    agent_config: dict[str, Any] = field(default_factory=dict)
    selector: str = SELECTOR
    tie_break: str = TIE_BREAK
    aggregation: str = AGGREGATION
    meta: dict[str, Any] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        return _json_safe(asdict(self))


def agent_label(name: str, config: dict[str, Any] | None) -> str:
    """``name:key=value,...`` for the options that are set (hashes shortened), as tables show an agent."""
    opts = {
        k: (v[:12] if k.endswith("sha256") and isinstance(v, str) else v)
        for k, v in (config or {}).items()
        if k != "__type__" and v is not None
    }
    if not opts:
        return name
    return name + ":" + ",".join(f"{k}={v}" for k, v in opts.items())


SHORT_NAME_CHARS = 32  # labels up to this long are shown whole
_MAIN_OPTIONS = ("model", "path", "checkpoint", "data")  # what names a long-configured agent best


def display_name(name: str, config: dict[str, Any] | None, agent_hash: str = "") -> str:
    """How tables and plots show an agent: :func:`agent_label` when it has at most ``SHORT_NAME_CHARS``
    characters, else ``NAME:MAIN#HASH``, where MAIN is the model or checkpoint file (its last path part) and
    HASH the first 6 characters of the config hash (``trm:model.safetensors#3f2a91``,
    ``llm:openai:gpt-4o-mini#a1b2c3``), so different configs of one model stay apart. The full spec stays
    in the JSON summary, the store and the leaderboard export."""
    label = agent_label(name, config)
    if len(label) <= SHORT_NAME_CHARS:
        return label
    tag = agent_hash.rpartition(":")[2][:6] or hashlib.sha256(label.encode()).hexdigest()[:6]
    opts = config or {}
    main = next((str(opts[k]) for k in _MAIN_OPTIONS if opts.get(k) not in (None, "")), "")
    if main and "://" not in main:
        main = main.rstrip("/\\").replace("\\", "/").rpartition("/")[2] or main
    head = f"{name}:{main}" if main else name
    room = SHORT_NAME_CHARS - len(tag) - 1
    if len(head) > room:
        head = head[: room - 3] + "..."
    return f"{head}#{tag}"


def _json_safe(obj: Any) -> Any:
    if isinstance(obj, float) and not math.isfinite(obj):
        return None
    if isinstance(obj, dict):
        return {k: _json_safe(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return [_json_safe(v) for v in obj]
    return obj


def _nan_to_none(x: float) -> float | None:
    return None if x is None or not math.isfinite(x) else float(x)


def pair_counts(puzzles: Iterable[Any]) -> dict[str, int] | None:
    """Test pairs per puzzle (ARC tasks carry ``n_tests``), or None for families without pairs."""
    return {p.id: int(p.meta["n_tests"]) for p in puzzles if "n_tests" in p.meta} or None


def _pair_scores(
    by_puzzle: dict[str, dict[int, CandidateRecord]],
    manifest_ids: Sequence[str],
    k: int,
    pair_counts: dict[str, int] | None,
    attempts: int = 2,
) -> tuple[float | None, float | None]:
    """(mean task score, mean all-pairs rate) from verdict ``pairs`` lists.

    ``pair_counts`` (test pairs per puzzle, from the puzzles) switches the score on even when no attempt was
    well formed; without it the score exists only if some verdict carries ``pairs``."""
    scores, complete, seen = [], [], pair_counts is not None
    for pid in manifest_ids:
        samples = by_puzzle.get(pid, {})
        lists = []
        for i in range(min(attempts, k)):
            rec = samples.get(i)
            pairs = rec.extras.get("verdict", {}).get("pairs") if rec is not None else None
            lists.append(pairs)
        n = max((len(p) for p in lists if p), default=(pair_counts or {}).get(pid, 0))
        if n == 0 or not any(lists):  # missing, abstained or malformed attempts: nothing solved
            scores.append(0.0)
            complete.append(False)
            continue
        seen = True
        solved = [
            metrics.attempts_at([bool(p[j]) if p and j < len(p) else False for p in lists], attempts) for j in range(n)
        ]
        scores.append(sum(solved) / n)
        complete.append(all(solved))
    if not seen:
        return None, None
    return float(np.mean(scores)), float(np.mean(complete))


LABELLED_FAMILIES = ("maze",)  # verdicts say whether a right answer is the stored label (one of several)


def labelled(puzzles: Iterable[Any]) -> bool:
    """Whether the puzzles' verdicts carry ``exact_label``, so the exact-label rate is reported (0 when nothing was
    answered) rather than None."""
    return any(p.family in LABELLED_FAMILIES for p in puzzles)


def _exact_label_at_1(
    by_puzzle: dict[str, dict[int, CandidateRecord]], manifest_ids: Sequence[str], k: int, seen: bool
) -> float | None:
    """Mean over the manifest of the unbiased pass@1 counting only answers equal to the stored label; None when no
    verdict says whether it equals the label and the puzzles are not of a labelled family (every family but Maze)."""
    rates = []
    for pid in manifest_ids:
        samples = by_puzzle.get(pid, {})
        flags = [samples[i].extras.get("verdict", {}).get("exact_label") if i in samples else None for i in range(k)]
        seen |= any(f is not None for f in flags)
        rates.append(metrics.pass_at_k(k, sum(f is True for f in flags), 1))
    return float(np.mean(rates)) if seen else None


def summarize(
    records: Sequence[CandidateRecord],
    *,
    manifest_ids: Sequence[str],
    k: int,
    env_id: str,
    split: str,
    data_source: str,
    data_fingerprint: str,
    agent_name: str,
    agent_kind: str,
    agent_hash: str,
    agent_config: dict[str, Any] | None = None,
    extra: dict[str, Any] | None = None,
    pair_counts: dict[str, int] | None = None,
    exact_labels: bool = False,
) -> Summary:
    if not manifest_ids:
        raise ValueError("the manifest is empty: nothing to summarise")
    by_puzzle: dict[str, dict[int, CandidateRecord]] = defaultdict(dict)
    manifest = set(manifest_ids)
    for r in records:
        if r.puzzle_id in manifest and r.sample_index < k:
            by_puzzle[r.puzzle_id][r.sample_index] = r

    pass1, passk, bestq, vote = [], [], [], []
    vote_exact = True
    answered, correct, qs, costs = [], [], [], []
    failed = missing = 0
    any_q = False
    for pid in manifest_ids:
        samples = by_puzzle.get(pid, {})
        ok = [bool(samples[i].ok) if i in samples else False for i in range(k)]
        q = [samples[i].q if i in samples else None for i in range(k)]
        keys = [samples[i].answer if i in samples and samples[i].answered else None for i in range(k)]
        c = sum(ok)
        pass1.append(metrics.pass_at_k(k, c, 1))
        passk.append(metrics.pass_at_k(k, c, k))
        bestq.append(metrics.best_q_at_k(ok, q, k))
        v = metrics.vote_at_k(keys, ok, q, k)
        vote.append(v.value)
        vote_exact &= v.exact
        for i in range(k):
            rec = samples.get(i)
            if rec is None:
                missing += 1
                failed += 1
                answered.append(False)
                correct.append(False)
                qs.append(None)
                continue
            failed += rec.error is not None
            answered.append(rec.answered)
            correct.append(rec.ok)
            qs.append(rec.q)
            any_q |= rec.q is not None
            costs.append(rec.cost)

    pair_score, all_pairs = _pair_scores(by_puzzle, manifest_ids, k, pair_counts)
    ans = np.asarray(answered, bool)
    cor = np.asarray(correct, bool)
    n_answered = int(ans.sum())
    n_wrong = metrics.wrong_count(ans, cor)
    q_answered = [q for q, a in zip(qs, answered) if a]
    have_q_for_answers = n_answered > 0 and all(q is not None for q in q_answered)
    aurc = metrics.aurc(qs, ans, cor) if have_q_for_answers else None
    cost_mean = metrics.mean_cost(costs)
    seconds = cost_mean.get("seconds")
    return Summary(
        env_id=env_id,
        split=split,
        data_source=data_source,
        data_fingerprint=data_fingerprint,
        agent_name=agent_name,
        agent_kind=agent_kind,
        agent_hash=agent_hash,
        k=k,
        n_puzzles=len(manifest_ids),
        n_candidates=len(answered),
        n_missing=missing,
        pass_at_1=float(np.mean(pass1)),
        pass_at_k=float(np.mean(passk)),
        best_q_at_k=float(np.mean(bestq)) if any_q else None,
        vote_at_k=float(np.mean(vote)),
        vote_exact=vote_exact,
        coverage=metrics.coverage(ans),
        answered=n_answered,
        wrong=n_wrong,
        failed=failed,
        precision=_nan_to_none(metrics.precision_when_answering(ans, cor)),
        selective_risk=_nan_to_none(metrics.selective_risk(ans, cor)),
        wrong_rate_upper95=metrics.clopper_pearson_upper(n_wrong, n_answered),
        sound=n_answered > 0 and n_wrong == 0,
        aurc=_nan_to_none(aurc) if aurc is not None else None,
        cost_mean={k_: float(v) for k_, v in cost_mean.items() if not k_.endswith("_known")},
        seconds_per_puzzle=None if seconds is None else float(seconds) * k,
        pair_score_at_2=pair_score,
        all_pairs_at_2=all_pairs,
        exact_label_at_1=_exact_label_at_1(by_puzzle, manifest_ids, k, exact_labels),
        agent_config=agent_config or {},
        meta=extra or {},
    )
