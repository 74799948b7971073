"""Re-verification on intake: honest submissions reproduce the harness exactly, fabricated ones are rejected
with a reason or scored for what they really are."""

from __future__ import annotations

import dataclasses
import json

import numpy as np
import pytest

from arena_agents.registry import make_agent
from arena_envs.protocol import config_hash
from arena_harness.runner import RunOptions, evaluate
from arena_harness.store import ResultStore
from arena_leaderboard.board import Leaderboard, LeaderboardError
from arena_leaderboard.export import export_run
from arena_leaderboard.intake import reverify
from arena_leaderboard.seed import seed_agents, shipped_entries
from arena_leaderboard.submission import CLAIMABLE, AgentCard, Submission

MAZE10 = "sha256:facf6bf15147a266736276bce95556a6f089d6f2368ab83f47618f550b1f0bc3"  # the bundled 10x10 test split
SUDOKU6 = "sha256:b242ed49e586"  # the start of the bundled 6x6 test split's fingerprint (the CPU tier)
CPU_TIERS = (MAZE10, SUDOKU6)
SUDOKU = "arena/SudokuExtreme-v0"
# the claimable metrics plus every other number a summary holds
METRICS = (
    *CLAIMABLE,
    "failed",
    "n_missing",
    "precision",
    "selective_risk",
    "sound",
    "aurc",
    "all_pairs_at_2",
    "cost_mean",
    "seconds_per_puzzle",
    "n_candidates",
    "agent_hash",
    "data_fingerprint",
)


def _run_id(store: ResultStore, env_id: str, agent_name: str, k: int) -> str:
    """The seeding run of a baseline on the env's first track (not a CPU tier's)."""
    runs = [
        r
        for r in store.runs()
        if r["env_id"] == env_id
        and r["k"] == k
        and (store.agent(r["agent_hash"]) or {})["name"] == agent_name
        and not r["data_fingerprint"].startswith(CPU_TIERS)
    ]
    assert runs, (env_id, agent_name, k)
    return str(runs[-1]["run_id"])


@pytest.fixture(scope="module")
def oracle_submission(seeded) -> Submission:
    with ResultStore(seeded.runs_db) as store:
        return export_run(store, _run_id(store, SUDOKU, "oracle", 1), seeded.board.index)


@pytest.fixture(scope="module")
def random_submission(seeded) -> Submission:
    with ResultStore(seeded.runs_db) as store:
        return export_run(store, _run_id(store, SUDOKU, "random", 1), seeded.board.index)


@pytest.mark.slow
def test_every_seeded_entry_reproduces_the_harness_numbers_exactly(seeded):
    """The harness's own summary (the runner, resumed from the seed store) equals the board's re-verified one."""
    entries = seeded.board.entries()
    seeds = sum(len(seed_agents(t)) for t in seeded.board.index.tracks)
    assert seeds == 34 and len(entries) == seeds + len(shipped_entries())
    with ResultStore(seeded.runs_db) as store:
        for track in seeded.board.index.tracks:
            puzzle_set = seeded.board.index.puzzle_set(track)
            for spec in seed_agents(track):
                result = evaluate(puzzle_set, make_agent(spec), store, RunOptions(k=track.k, progress=False))
                assert result.added == 0  # everything was stored by the seeding run
                harness = result.summary.to_dict()
                (entry,) = [
                    e
                    for e in entries
                    if e.summary["agent_hash"] == harness["agent_hash"] and e.data_fingerprint == puzzle_set.fingerprint
                ]
                for key in METRICS:
                    assert entry.summary[key] == harness[key], (track.env_id, spec, key)


@pytest.mark.slow
def test_seeded_baselines_score_what_they_really_score(seeded):
    baselines = [e for e in seeded.board.entries() if e.summary["agent_kind"] == "baseline"]
    by = {
        (e.env_id, e.summary["agent_name"]): e.summary
        for e in baselines
        if not e.data_fingerprint.startswith(CPU_TIERS)
    }
    for env_id in ("arena/SudokuExtreme-v0", "arena/MazeHard-v0", "arena/PPBench-v0"):
        assert by[(env_id, "oracle")]["pass_at_1"] == 1.0 and by[(env_id, "oracle")]["wrong"] == 0
        assert by[(env_id, "random")]["pass_at_1"] == 0.0
        assert by[(env_id, "copy")]["pass_at_1"] == 0.0 and by[(env_id, "copy")]["coverage"] == 1.0
    # every seed runs at its track's official k: 1 on the pass@1 tracks, the two ARC attempts on ARC
    assert {s["k"] for (env_id, _), s in by.items() if not env_id.startswith("arena/ARC")} == {1}
    assert {s["k"] for (env_id, _), s in by.items() if env_id.startswith("arena/ARC")} == {2}
    assert 0.0 < by[(SUDOKU, "budgeted")]["pass_at_1"] < 1.0
    arc1 = by[("arena/ARC-AGI-1-v0", "programs")]
    assert arc1["pair_score_at_2"] == pytest.approx(1 / 400) and arc1["wrong"] == 0
    assert by[("arena/ARC-AGI-1-v0", "oracle")]["pair_score_at_2"] == 1.0
    assert by[("arena/ARC-AGI-2-v0", "copy")]["pair_score_at_2"] == 0.0
    # the CPU tier maze track: its own search budget lands the budgeted solver between the oracle and 0
    maze10 = {e.summary["agent_name"]: e.summary for e in baselines if e.data_fingerprint == MAZE10}
    assert maze10["oracle"]["pass_at_1"] == 1.0 and maze10["random"]["pass_at_1"] == 0.0
    assert 0.0 < maze10["budgeted"]["pass_at_1"] < 1.0
    assert maze10["oracle"]["exact_label_at_1"] == 1.0 and maze10["copy"]["exact_label_at_1"] == 0.0
    # and the 6x6 Sudoku one (budget 3 nodes: 47.8% of its hard boards)
    sudoku6 = {e.summary["agent_name"]: e.summary for e in baselines if e.data_fingerprint.startswith(SUDOKU6)}
    assert sudoku6["oracle"]["pass_at_1"] == 1.0 and sudoku6["copy"]["pass_at_1"] == 0.0
    assert sudoku6["budgeted"]["pass_at_1"] == pytest.approx(0.478) and sudoku6["budgeted"]["wrong"] == 0


@pytest.mark.slow
def test_the_shipped_trained_entries_are_on_the_board(seeded):
    shipped = [e for e in seeded.board.entries() if e.summary["agent_kind"] != "baseline"]
    assert len(shipped) == len(shipped_entries()) >= 1
    assert all(e.data_fingerprint == MAZE10 and e.summary["exact_label_at_1"] is not None for e in shipped)


def _replace_candidates(sub: Submission, fn) -> Submission:
    return dataclasses.replace(sub, candidates=tuple(fn(list(sub.candidates))))


def _without_claims(sub: Submission) -> Submission:
    cands = tuple(dataclasses.replace(c, claimed_ok=None) for c in sub.candidates)
    return dataclasses.replace(sub, claimed={}, candidates=cands)


def _codes(report) -> set[str]:
    return {p.code for p in report.problems}


@pytest.mark.slow
def test_an_honest_export_is_accepted(oracle_submission, track_index):
    report = reverify(oracle_submission, track_index)
    assert report.accepted, report.text()
    assert report.summary.pass_at_1 == 1.0 and report.summary.n_puzzles == 1000
    assert report.curves["pass_at_k"] == [[1, 1.0]]


@pytest.mark.slow
def test_wrong_answers_claimed_correct_are_rejected(random_submission, track_index):
    """Random grids relabelled as correct, with claimed scores of 1.0: the verifier disagrees."""
    forged = _replace_candidates(random_submission, lambda cs: [dataclasses.replace(c, claimed_ok=True) for c in cs])
    forged = dataclasses.replace(forged, claimed={**forged.claimed, "pass_at_1": 1.0, "wrong": 0.0})
    report = reverify(forged, track_index)
    assert not report.accepted
    assert _codes(report) == {"verdict-mismatch", "claim-mismatch"}
    text = report.text()
    assert "1000 candidates are claimed correct but the verifier rejects them" in text
    assert "claimed pass_at_1=1.0, re-verified 0.0" in text
    # without any claims the same answers are simply scored for what they are
    honest = reverify(_without_claims(forged), track_index)
    assert honest.accepted and honest.summary.pass_at_1 == 0.0 and honest.summary.wrong == 1000


@pytest.mark.slow
def test_an_oracle_answer_swapped_for_a_wrong_grid_is_caught(oracle_submission, track_index):
    def corrupt(cs):
        grid = np.array(cs[3].answer)
        grid[0, 0], grid[0, 1] = grid[0, 1], grid[0, 0]  # two swapped cells break a column
        cs[3] = dataclasses.replace(cs[3], answer=grid.tolist())
        return cs

    report = reverify(_replace_candidates(oracle_submission, corrupt), track_index)
    assert not report.accepted and "verdict-mismatch" in _codes(report)
    assert f"{oracle_submission.candidates[3].puzzle_id}#0" in report.text()
    scored = reverify(_without_claims(_replace_candidates(oracle_submission, corrupt)), track_index)
    assert scored.accepted and scored.summary.pass_at_1 == pytest.approx(0.999) and scored.summary.wrong == 1


@pytest.mark.slow
def test_missing_puzzles_count_as_unsolved(oracle_submission, track_index):
    short = _replace_candidates(oracle_submission, lambda cs: cs[10:])
    report = reverify(short, track_index)
    assert not report.accepted and _codes(report) == {"claim-mismatch"}  # the claims still say 1.0
    scored = reverify(_without_claims(short), track_index)
    assert scored.accepted
    assert scored.summary.pass_at_1 == pytest.approx(0.99) and scored.summary.n_missing == 10
    assert "10 of 1000 puzzles have no candidate; they count as unsolved" in scored.notes


@pytest.mark.slow
def test_a_foreign_fingerprint_is_rejected(oracle_submission, track_index):
    foreign = dataclasses.replace(oracle_submission, data_fingerprint="sha256:" + "0" * 64)
    report = reverify(foreign, track_index)
    assert not report.accepted and _codes(report) == {"unknown-split"}
    assert "is not a known split of arena/SudokuExtreme-v0" in report.text()
    other_env = dataclasses.replace(oracle_submission, env_id="arena/NotAnEnv-v0")
    assert "has no leaderboard track" in reverify(other_env, track_index).text()


@pytest.mark.slow
def test_duplicate_and_unknown_puzzle_ids_are_rejected(oracle_submission, track_index):
    dup = _replace_candidates(oracle_submission, lambda cs: [*cs, cs[0]])
    report = reverify(dup, track_index)
    assert _codes(report) == {"duplicate"} and "1 (puzzle, sample) keys occur more than once" in report.text()
    unknown = _replace_candidates(
        oracle_submission, lambda cs: [*cs[:-1], dataclasses.replace(cs[-1], puzzle_id="sudoku/test/999999")]
    )
    report = reverify(unknown, track_index)
    assert _codes(report) == {"unknown-puzzle"} and "'sudoku/test/999999'" in report.text()
    beyond_k = _replace_candidates(oracle_submission, lambda cs: [*cs, dataclasses.replace(cs[0], sample_index=1)])
    assert _codes(reverify(beyond_k, track_index)) == {"sample-range"}


@pytest.mark.slow
def test_a_tampered_agent_card_or_split_name_is_rejected(oracle_submission, track_index):
    renamed = dataclasses.replace(oracle_submission, agent=dataclasses.replace(oracle_submission.agent, name="solver"))
    report = reverify(renamed, track_index)
    assert _codes(report) == {"config-hash"}
    wrong_split = dataclasses.replace(oracle_submission, split="train")
    assert _codes(reverify(wrong_split, track_index)) == {"split-mismatch"}


def _script_agent(sub: Submission) -> Submission:
    name = "<script>alert('x')</script>"
    config = {**sub.agent.config, "note": '"><img src=x onerror=alert(1)>'}
    card = dataclasses.replace(sub.agent, name=name, config=config, config_hash=config_hash(name, config))
    return dataclasses.replace(sub, agent=card)


@pytest.mark.slow
def test_a_rejected_submission_leaves_the_board_untouched(tmp_path, random_submission, track_index):
    with Leaderboard(tmp_path / "b.sqlite", track_index) as board:
        forged = _replace_candidates(
            random_submission, lambda cs: [dataclasses.replace(c, claimed_ok=True) for c in cs]
        )
        assert not board.submit(forged).accepted
        assert board.entries() == []
        assert board.submit(random_submission).accepted
        with pytest.raises(LeaderboardError, match="already on the arena/SudokuExtreme-v0 board"):
            board.submit(random_submission)
        assert board.submit(random_submission, replace=True).accepted
        (entry,) = board.entries()
        assert board.submission(entry.entry_id) == random_submission


@pytest.mark.slow
def test_a_script_tag_in_the_agent_name_is_stored_verbatim_and_escaped_on_the_site(
    tmp_path, oracle_submission, track_index
):
    from arena_leaderboard.site import build_site

    with Leaderboard(tmp_path / "b.sqlite", track_index) as board:
        report = board.submit(_script_agent(oracle_submission))
        assert report.accepted, report.text()
        paths = build_site(board, tmp_path / "site")
    page = paths["html"].read_text()
    assert "<script>alert" not in page and "<img src=x" not in page
    assert "&lt;script&gt;alert(&#x27;x&#x27;)&lt;/script&gt;" in page
    exported = json.loads(paths["json"].read_text())
    sudoku = next(t for t in exported["tracks"] if t["env_id"] == SUDOKU)
    assert sudoku["entries"][0]["agent"]["name"] == "<script>alert('x')</script>"


def test_an_agent_card_must_name_a_known_kind():
    from arena_leaderboard.submission import SubmissionFormatError

    card = AgentCard(name="x", kind="wizard", config_hash="0" * 16)
    doc = Submission("e", "s", "d", "f", 1, card, ()).to_dict()
    with pytest.raises(SubmissionFormatError, match=r"agent\.kind must be one of"):
        Submission.from_dict(doc)
