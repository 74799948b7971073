"""The submission file: exported from a real run, round-trips byte for byte, and bad files fail clearly."""

from __future__ import annotations

import gzip
import json

import pytest

from arena_agents.registry import make_agent
from arena_envs.registry import make_puzzle_set
from arena_harness.runner import RunOptions, evaluate
from arena_harness.store import ResultStore
from arena_leaderboard.export import ExportError, default_path, export_run
from arena_leaderboard.submission import FORMAT, SubmissionFormatError, read_submission
from arena_leaderboard.tracks import TrackIndex, UnknownSplitError


@pytest.fixture(scope="module")
def maze_store(tmp_path_factory, track_index: TrackIndex):
    """Two runs on the Maze track: the budgeted solver (abstains when its budget runs out) and random."""
    path = tmp_path_factory.mktemp("runs") / "runs.sqlite"
    track = track_index.for_env("arena/MazeHard-v0")[0]
    puzzle_set = track_index.puzzle_set(track)
    with ResultStore(path) as store:
        for spec in ("budgeted:max_nodes=400", "random"):
            evaluate(puzzle_set, make_agent(spec), store, RunOptions(k=2, progress=False), agent_kind="baseline")
    return path


def test_export_carries_raw_answers_card_and_claims(maze_store, track_index):
    with ResultStore(maze_store) as store:
        sub = export_run(store, "1", track_index, parameters=0)
        assert export_run(store, "latest", track_index).agent.name == "random"
    assert sub.format == FORMAT and sub.k == 2 and len(sub.candidates) == 2000
    assert sub.agent.name == "budgeted" and sub.agent.kind == "baseline" and sub.agent.parameters == 0
    assert sub.agent.code_revision != "" and sub.agent.config["max_nodes"] == 400
    abstained = [c for c in sub.candidates if c.answer is None]
    answered = [c for c in sub.candidates if c.answer is not None]
    assert abstained and answered and all(c.claimed_ok for c in answered)
    assert not any(c.claimed_ok for c in abstained)
    assert 0 < sub.claimed["pass_at_1"] < 1 and sub.claimed["wrong"] == 0
    assert default_path(sub).name.startswith("MazeHard-v0__test__budgeted__")


def test_round_trip_is_exact_in_both_encodings(maze_store, track_index, tmp_path):
    with ResultStore(maze_store) as store:
        sub = export_run(store, "2", track_index)
    for name in ("s.json", "s.json.gz"):
        path = sub.write(tmp_path / name)
        assert read_submission(path) == sub
    first = (tmp_path / "s.json.gz").read_bytes()
    sub.write(tmp_path / "s.json.gz")
    assert (tmp_path / "s.json.gz").read_bytes() == first  # deterministic bytes (gzip without a timestamp)


def test_bad_runs_cannot_be_exported(maze_store, track_index, tmp_path):
    with ResultStore(maze_store) as store:
        with pytest.raises(ExportError, match="no run 99"):
            export_run(store, "99", track_index)
        with pytest.raises(ExportError, match="RUN must be a run id or 'latest'"):
            export_run(store, "first", track_index)
    with ResultStore(tmp_path / "empty.sqlite") as empty, pytest.raises(ExportError, match="holds no runs"):
        export_run(empty, "latest", track_index)
    # a run on a split the leaderboard does not rank (a generated 4x4 Sudoku set) says so before writing anything
    small = make_puzzle_set("arena/SudokuExtreme-v0", split="test", size=4, data="generated", count=5)
    with ResultStore(tmp_path / "small.sqlite") as store:
        evaluate(small, make_agent("oracle"), store, RunOptions(progress=False))
        with pytest.raises(UnknownSplitError, match="is not a known split of arena/SudokuExtreme-v0"):
            export_run(store, "latest", track_index)


def _doc(maze_store, track_index):
    with ResultStore(maze_store) as store:
        return export_run(store, "2", track_index).to_dict()


@pytest.mark.parametrize(
    ("mutate", "message"),
    [
        (lambda d: d.update(format="v0"), "format must be 'puzzle-arena-submission/1'"),
        (lambda d: d.update(extra=1), r"submission has unknown keys \['extra'\]"),
        (lambda d: d.pop("data_fingerprint"), r"submission lacks \['data_fingerprint'\]"),
        (lambda d: d.update(k=0), "k must be an integer in 1..64"),
        (lambda d: d.update(k=100_000), "k must be an integer in 1..64, got 100000"),  # would tie up intake
        (
            lambda d: d["agent"].update(parameters=10**400),
            "agent.parameters must be an integer in 0..10,000,000,000,000",
        ),
        (
            lambda d: d["candidates"][0]["cost"].update(seconds=-1.0),
            r"candidates\[0\].cost.seconds must be .* in \[0, inf\]",
        ),
        (lambda d: d["candidates"][0].update(q=1.5), r"candidates\[0\].q must be a finite number in \[0, 1\]"),
        (lambda d: d["candidates"][0].update(q=float("nan")), r"candidates\[0\].q must be a finite number"),
        (
            lambda d: d["candidates"][0].update(answer=[[0] * 1000] * 600),
            r"answer is 1,2\d\d,\d\d\d bytes of JSON, over max_answer",
        ),
        (lambda d: d["candidates"][0].update(extras={"log": "x" * 70_000}), "over max_extras_bytes"),
        (lambda d: d["candidates"][0].update(puzzle_id="p" * 20_000), "over max_text_chars"),
        (
            lambda d: d["candidates"][0].update(answer=[[[[[[[[[[[[[[[[[0]]]]]]]]]]]]]]]]]),
            "nested deeper than max_depth = 16",
        ),
        (lambda d: d["agent"].update(kind="human"), "agent.kind must be one of"),
        (lambda d: d["agent"].update(name=""), "agent.name must be 1 to 200 characters"),
        (lambda d: d["candidates"][0].update(q="high"), r"candidates\[0\].q must be a finite number"),
        (lambda d: d["candidates"][1].update(sample_index=-1), r"candidates\[1\].sample_index must be an integer"),
        (lambda d: d["candidates"][2].update(verdict="ok"), r"candidates\[2\] has unknown keys \['verdict'\]"),
        (lambda d: d["claimed"].update(accuracy=1.0), r"claimed has unknown keys \['accuracy'\]"),
        (
            lambda d: d["candidates"][0]["cost"].update(euros=1.0),
            r"candidates\[0\].cost has unknown fields \['euros'\]",
        ),
    ],
)
def test_malformed_documents_name_the_bad_field(maze_store, track_index, tmp_path, mutate, message):
    doc = _doc(maze_store, track_index)
    mutate(doc)
    path = tmp_path / "bad.json"
    path.write_text(json.dumps(doc))
    with pytest.raises(SubmissionFormatError, match=message):
        read_submission(path)


def test_unreadable_files_fail_with_one_clear_error(tmp_path):
    with pytest.raises(SubmissionFormatError, match="no such file; export a run with `arena submit RUN`"):
        read_submission(tmp_path / "nope.json")
    (tmp_path / "cut.json.gz").write_bytes(gzip.compress(b'{"format": 1}')[:-6])
    with pytest.raises(SubmissionFormatError, match="not a JSON"):
        read_submission(tmp_path / "cut.json.gz")
    (tmp_path / "list.json").write_text("[]")
    with pytest.raises(SubmissionFormatError, match="submission must be a JSON object"):
        read_submission(tmp_path / "list.json")


def test_oversized_and_bomb_files_are_refused_without_reading_them_whole(tmp_path, monkeypatch):
    """A gzip bomb stops decompressing at the JSON limit; a big file is refused by its size alone; nesting
    deep enough to overflow the JSON parser is one clear error, not a RecursionError."""
    import arena_leaderboard.submission as submission

    monkeypatch.setattr(submission, "MAX_JSON_BYTES", 10 * 2**20)
    bomb = tmp_path / "bomb.json.gz"
    with gzip.open(bomb, "wb") as f:  # 200 MiB of spaces in about 200 KB
        for _ in range(200):
            f.write(b" " * 2**20)
    assert bomb.stat().st_size < 2**20
    with pytest.raises(SubmissionFormatError, match="over max_json_bytes = 10,485,760 bytes"):
        read_submission(bomb)
    monkeypatch.setattr(submission, "MAX_FILE_BYTES", 1000)
    big = tmp_path / "big.json"
    big.write_bytes(b" " * 1001)
    with pytest.raises(SubmissionFormatError, match="1,001 bytes, over max_file_bytes = 1,000"):
        read_submission(big)
    monkeypatch.setattr(submission, "MAX_FILE_BYTES", 2**20)
    deep = tmp_path / "deep.json"
    deep.write_text("[" * 200_000 + "]" * 200_000)
    with pytest.raises(SubmissionFormatError, match="nested deeper than max_depth"):
        read_submission(deep)


def test_every_answer_form_survives_store_export_and_intake(tmp_path, track_index):
    """Regressions: a Maze answer as its documented 900-character string was stored cut to a repr and no
    longer re-verified; a NaN grid made `arena submit` fail; a ragged answer or an object whose __array__
    raises crashed the batch before storage. Now each is stored as returned, exported as strict JSON, and
    intake's verdicts equal the harness's."""
    import numpy as np

    from arena_envs.maze.grid import to_text
    from arena_envs.protocol import Candidate
    from arena_leaderboard.intake import reverify

    class Raises:
        def __array__(self, *args, **kwargs):
            raise RuntimeError("no array")

    maze = make_puzzle_set("arena/MazeHard-v0", split="test")

    class Forms:
        name, config = "forms", {}

        def act(self, puzzles, k):
            label = maze.label(puzzles[0])
            forms = [to_text(label), np.full((30, 30), np.nan), [[1, 2], [3]], Raises(), label.astype(np.uint8)]
            return [[Candidate(forms[i % len(forms)])] for i, _ in enumerate(puzzles)]

    with ResultStore(tmp_path / "r.sqlite") as store:
        run = evaluate(maze, Forms(), store, RunOptions(limit=5, progress=False), agent_kind="baseline")
        assert [r.ok for r in run.records] == [True, False, False, False, False]  # only puzzle 0's label fits
        sub = export_run(store, "latest", track_index)
    path = sub.write(tmp_path / "forms.json.gz")
    assert b"NaN" not in gzip.decompress(path.read_bytes())
    report = reverify(read_submission(path), track_index)
    assert report.accepted, report.text()
    assert report.summary.pass_at_1 * 1000 == pytest.approx(run.summary.pass_at_1 * 5)  # intake: the whole manifest


def test_submit_exports_exactly_the_run_it_names(tmp_path, track_index):
    """Two runs of one agent in one store (k=1 over the split, then k=3 over the first 10 puzzles) share the
    candidates they have in common; each export holds its own run's keys and nothing of the other's."""
    from arena_leaderboard.board import Leaderboard
    from arena_leaderboard.site import build_site, ranked, ranks

    track = track_index.for_env("arena/MazeHard-v0")[0]
    puzzle_set = track_index.puzzle_set(track)
    agent = make_agent("budgeted:max_nodes=400")
    with ResultStore(tmp_path / "runs.sqlite") as store:
        evaluate(puzzle_set, agent, store, RunOptions(k=1, progress=False), agent_kind="baseline")
        evaluate(puzzle_set, agent, store, RunOptions(k=3, limit=10, progress=False), agent_kind="baseline")
        whole, limited = export_run(store, "1", track_index), export_run(store, "2", track_index)
    first_ten = {p.id for p in puzzle_set.puzzles[:10]}
    assert whole.k == 1 and len(whole.candidates) == len(puzzle_set.puzzles) == 1000
    assert {c.sample_index for c in whole.candidates} == {0}
    assert limited.k == 3 and len(limited.candidates) == 30
    assert {c.puzzle_id for c in limited.candidates} == first_ten
    assert sorted({c.sample_index for c in limited.candidates}) == [0, 1, 2]

    # the limited run is accepted as partial: shown with 10 / 1,000 puzzles, after the complete run, unranked
    with Leaderboard(tmp_path / "board.sqlite", track_index) as board:
        report = board.submit(limited)
        assert report.accepted and any("partial run: 10 of 1000" in n for n in report.notes)
        assert board.submit(whole).accepted
        entries = ranked(board.entries("arena/MazeHard-v0"), track.primary)
        assert [(e.summary["k"], e.partial) for e in entries] == [(1, False), (3, True)]
        assert ranks(entries) == [1, None] and entries[1].puzzles_evaluated == 10
        page = build_site(board, tmp_path / "site")["html"].read_text()
    assert '10 / 1,000 <span class="partial-tag">partial</span>' in page
    assert page.count('<tr data-agent="budgeted" class="partial">') == 1
