"""render_mode="rgb_array" on every registered env: a real uint8 [H, W, 3] picture, deterministic, one size per
env, changed by a step that changes the board; and Gymnasium's RecordVideo writing a video of an episode."""

from __future__ import annotations

import gymnasium as gym
import numpy as np
import pytest
from gymnasium.wrappers import RecordVideo, RenderCollection

# the same small configurations (and their ids) as the registry's own tests
from test_registry_envs import CASES, FAMILY_CONFIGS, IDS, snapshot

from arena_envs import rendering
from arena_envs.config import DataError
from arena_envs.ppbench.engine import WorkerError
from arena_envs.registry import TASKS

SMALL = {env_id: FAMILY_CONFIGS[TASKS[env_id].family][1] for env_id in TASKS}
STEP_ENVS = [e for e in TASKS if TASKS[e].mode == "step"]
ANSWER_ENVS = [e for e in TASKS if TASKS[e].mode == "answer"]


def make(env_id: str, cfg: dict, **kwargs) -> gym.Env:
    """gym.make, skipping (not failing) a PPBench env whose engine (the ppbench package, Node.js) is missing."""
    try:
        return gym.make(env_id, render_mode="rgb_array", **cfg, **kwargs)
    except (DataError, WorkerError) as exc:
        if TASKS[env_id].family == "ppbench" and ("not installed" in str(exc) or "Node" in str(exc)):
            pytest.skip(f"PPBench engine unavailable: {exc}")
        raise


def check_frame(img) -> None:
    assert isinstance(img, np.ndarray) and img.dtype == np.uint8
    assert img.ndim == 3 and img.shape[2] == 3 and img.shape[0] > 0 and img.shape[1] > 0
    assert img.shape[0] % 16 == 0 and img.shape[1] % 16 == 0  # what video codecs want
    assert len(np.unique(img.reshape(-1, 3), axis=0)) > 1, "the picture is all one colour"


@pytest.mark.parametrize(("env_id", "cfg"), CASES, ids=IDS)
def test_rgb_array_is_a_deterministic_picture_of_one_size(env_id, cfg):
    env = make(env_id, cfg)
    assert "rgb_array" in env.metadata["render_modes"]
    env.reset(seed=3)
    img = env.render()
    check_frame(img)
    assert np.array_equal(env.render(), img)  # rendering changes nothing
    other = make(env_id, cfg)
    other.reset(seed=3)
    assert np.array_equal(other.render(), img)  # same seed, same picture
    n = len(env.unwrapped.puzzle_set.puzzles)
    for index in {0, n // 2, n - 1}:  # boards of other sizes (ARC, PPBench) keep the frame size
        env.reset(options={"index": index})
        frame = env.render()
        check_frame(frame)
        assert frame.shape == img.shape
    env.close()
    other.close()


def _changing_step(env: gym.Env) -> tuple[np.ndarray, np.ndarray]:
    """The picture before and after the first legal action (by the env's mask) that changes the observation."""
    u = env.unwrapped
    for action in np.flatnonzero(u.action_masks())[:20]:
        obs, _ = env.reset(seed=5)
        before = env.render()
        after_obs, *_ = env.step(int(action))
        if snapshot(after_obs) != snapshot(obs):
            return before, env.render()
    raise AssertionError("no legal action changed the board")


@pytest.mark.parametrize("env_id", STEP_ENVS)
def test_a_step_that_changes_the_board_changes_the_picture(env_id):
    env = make(env_id, SMALL[env_id])
    env.reset(seed=5)
    before, after = _changing_step(env)
    check_frame(after)
    assert after.shape == before.shape and not np.array_equal(after, before)
    env.close()


@pytest.mark.parametrize("env_id", ANSWER_ENVS)
def test_an_accepted_answer_changes_the_picture(env_id):
    env = make(env_id, SMALL[env_id])
    env.reset(seed=5)
    before = env.render()
    u = env.unwrapped
    _, reward, terminated, _, _ = env.step(u.puzzle_set.label(u.puzzle))
    assert reward == 1.0 and terminated
    after = env.render()
    check_frame(after)
    assert after.shape == before.shape and not np.array_equal(after, before)
    env.close()


def test_sudoku_given_and_placed_digits_differ_in_colour():
    env = make("arena/SudokuExtremeStep-v0", {"size": 4, "count": 20})
    obs, _ = env.reset(seed=0)
    u = env.unwrapped
    solution = np.asarray(u.puzzle_set.label(u.puzzle))
    r, c = (int(v) for v in np.argwhere(obs == 0)[0])
    env.step((r * 4 + c) * 4 + int(solution[r, c]) - 1)
    img = env.render()
    cell = 32
    top = (img.shape[0] - (2 * rendering.MARGIN + 4 * cell + 1)) // 2 + rendering.MARGIN  # framed: centred

    def colours(row: int, col: int) -> set[tuple[int, ...]]:
        box = img[top + row * cell + 1 : top + (row + 1) * cell, top + col * cell + 1 : top + (col + 1) * cell]
        return {tuple(int(v) for v in px) for px in box.reshape(-1, 3)}

    assert rendering.BLUE in colours(r, c) and rendering.INK not in colours(r, c)
    gr, gc = (int(v) for v in np.argwhere(u.puzzle.grid != 0)[0])
    assert rendering.INK in colours(gr, gc) and rendering.BLUE not in colours(gr, gc)


def test_rendering_helpers():
    assert all(len(rows) == 7 and all(len(row) == 5 for row in rows) for rows in rendering.GLYPHS.values())
    assert set("0123456789?SG") <= set(rendering.GLYPHS)
    assert (rendering.tapa_clue(26), rendering.tapa_clue(1), rendering.tapa_clue(21)) == ("13", "0", "0?")
    board = np.array([[1, 1, 0, 0], [0, 0, 0, 0], [0, 0, 0, 0], [0, 0, 0, 2]])
    clash = rendering._sudoku_clashes(board, 2, 2)
    assert clash.sum() == 2 and clash[0, 0] and clash[0, 1]
    assert rendering.frame_size(295, 727) == (304, 736)
    arc = rendering.arc_rgb(np.zeros((3, 3), dtype=np.int64), None)
    assert arc.shape == rendering.arc_rgb(np.ones((30, 30), dtype=np.int64), np.ones((1, 1), dtype=np.int64)).shape


def _episode(env: gym.Env) -> int:
    """Play one episode to its end with an oracle (Sudoku: the solution's digits; Maze: BFS distances); the
    number of steps."""
    obs, _ = env.reset(seed=1)
    u = env.unwrapped
    steps, done = 0, False
    while not done:
        if TASKS[env.spec.id].family == "sudoku":
            s = u.shape.size
            solution = np.asarray(u.puzzle_set.label(u.puzzle))
            r, c = (int(v) for v in np.argwhere(u._board == 0)[0])
            action = (r * s + c) * s + int(solution[r, c]) - 1
        else:
            legal = [a for a in range(4) if u._target(a) is not None]
            action = min(legal, key=lambda a: u._to_goal[u._target(a)])
        _, _, terminated, truncated, _ = env.step(action)
        steps, done = steps + 1, terminated or truncated
    return steps


VIDEO_ENVS = [
    ("arena/SudokuExtremeStep-v0", {"size": 4, "count": 20}),
    ("arena/MazeHardStep-v0", {"size": 10, "count": 20}),
]


@pytest.mark.parametrize(("env_id", "cfg"), VIDEO_ENVS, ids=["sudoku", "maze"])
def test_record_video_writes_an_episode(env_id, cfg, tmp_path):
    pytest.importorskip("moviepy", reason="RecordVideo needs moviepy (pip install -e '.[dev]')")
    from moviepy import VideoFileClip

    env = RecordVideo(make(env_id, cfg), str(tmp_path / "videos"), disable_logger=True)
    steps = _episode(env)
    frame_shape = env.unwrapped.render().shape
    env.close()
    videos = sorted((tmp_path / "videos").glob("*.mp4"))
    assert len(videos) == 1 and videos[0].stat().st_size > 0
    with VideoFileClip(str(videos[0])) as clip:
        assert tuple(clip.size) == (frame_shape[1], frame_shape[0])  # (width, height)
        frames = sum(1 for _ in clip.iter_frames())
    assert abs(frames - (steps + 1)) <= 1  # the reset's frame and one per step


@pytest.mark.parametrize(("env_id", "cfg"), VIDEO_ENVS, ids=["sudoku", "maze"])
def test_render_collection_frames_share_one_shape(env_id, cfg):
    env = RenderCollection(make(env_id, cfg), pop_frames=True, reset_clean=True)
    steps = _episode(env)
    frames = env.render()
    assert len(frames) == steps + 1
    assert len({f.shape for f in frames}) == 1 and all(f.dtype == np.uint8 for f in frames)
    assert not np.array_equal(frames[0], frames[-1])
