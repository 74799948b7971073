"""An environment's own verifier as a reward function for RL on language models (TRL, verl, prime-rl).

TRL's ``GRPOTrainer`` calls each of its ``reward_funcs`` as ``reward(prompts=..., completions=..., **columns)``
and wants one float per completion; every other column of the dataset comes along as a keyword argument, one
value per completion. :func:`verifier_reward` builds such a function for one split of any environment::

    reward = verifier_reward("arena/SudokuExtreme-v0", split="train", size=4)
    reward(prompts, completions, puzzle_id=ids)  # [1.0, 0.0, ...]

* ``puzzle_id`` (a dataset column; ``arena export`` writes it) names each completion's puzzle. ``fingerprint`` and
  ``env_id`` columns, when present, must match the split the reward loaded: rows from other data are an error, not
  a silent 0.
* A completion is a string, or TRL's conversational form (a list of ``{"role", "content"}`` messages, whose
  assistant messages are read). Its answer is read by :func:`arena_envs.answers.parse_answer_text`: the JSON object
  the LLM agents' prompts ask for (``{"grid": ..., "abstain": ...}``, ARC's ``grids``, PPBench's ``moves``), as the
  whole reply, in a fenced block or after reasoning text.
* **1.0** when the environment's verifier accepts the answer (checked a batch at a time where the family can), else
  **0.0**: a wrong or malformed answer, an abstention, a reply with no answer object, an empty reply. Reading and
  judging a completion never raises.
* ``partial=True`` gives a rejected but well-formed answer partial credit, always below 1 (:func:`partial_credit`
  says exactly what it is per family; PPBench has none). Off by default: partial credit can reward answers that
  look close and are wrong.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from arena_envs.answers import ANSWER_KINDS, ParsedAnswer, coerce_grid, parse_answer_text
from arena_envs.config import ConfigError
from arena_envs.protocol import Puzzle, PuzzleSet, Verdict

__all__ = ["Judgement", "VerifierReward", "completion_text", "partial_credit", "verifier_reward"]

PARTIAL_FAMILIES = ("sudoku", "maze", "arc")


def verifier_reward(env_id: str, *, split: str = "test", partial: bool = False, **data_options: Any) -> VerifierReward:
    """A TRL reward function scoring completions with ``env_id``'s verifier on one split.

    Args:
        env_id: any registered env (a step env's id means its answer env's puzzles).
        split: the split the dataset's puzzles come from (``arena export`` writes it in its rows and meta.json).
        partial: partial credit for rejected answers (:func:`partial_credit`); not for PPBench.
        **data_options: the env's data options (``size``, ``data``, ``count``, ``seed``, ...), as for
            :func:`~arena_envs.registry.make_puzzle_set`; they must select the dataset's split.
    """
    from arena_envs.registry import make_puzzle_set

    return VerifierReward(make_puzzle_set(env_id, split=split, **data_options), partial=partial)


@dataclass(frozen=True)
class Judgement:
    """One completion's reward and why: ``status`` is ``solved``, ``wrong``, ``abstained`` or ``unparseable``."""

    reward: float
    status: str
    reason: str


class VerifierReward:
    """A reward function over one puzzle split (see the module docstring); called like TRL's ``reward_funcs``."""

    def __init__(self, puzzle_set: PuzzleSet, *, partial: bool = False) -> None:
        family = puzzle_set.puzzles[0].family if puzzle_set.puzzles else ""
        if family not in ANSWER_KINDS:
            raise ConfigError(f"{puzzle_set.env_id}: no answer format for the {family!r} family")
        if partial and family not in PARTIAL_FAMILIES:
            raise ConfigError(
                f"partial credit is not defined for {family!r} (only {', '.join(PARTIAL_FAMILIES)}); use partial=False"
            )
        self.puzzle_set = puzzle_set
        self.partial = partial
        self.family = family
        self.kind = ANSWER_KINDS[family]
        self._puzzles = {p.id: p for p in puzzle_set.puzzles}
        # TRL names the reward's metrics after it: rewards/verifier_reward/mean
        self.__name__ = "verifier_reward_partial" if partial else "verifier_reward"

    def __repr__(self) -> str:
        return f"VerifierReward({self.puzzle_set.env_id}, split={self.puzzle_set.split!r}, partial={self.partial})"

    def __call__(
        self, prompts: Sequence[Any] | None = None, completions: Sequence[Any] = (), **kwargs: Any
    ) -> list[float]:
        """One reward per completion. ``kwargs`` must hold ``puzzle_id`` (one per completion); TRL's other keyword
        arguments are accepted, and ``log_extra``/``log_metric`` (TRL's loggers) get each verdict's reason and the
        shares of abstentions and unreadable replies."""
        ids = kwargs.get("puzzle_id")
        if ids is None:
            raise ConfigError(
                "verifier_reward needs a puzzle_id column naming each completion's puzzle (arena export writes it)"
            )
        self._check_rows(kwargs, len(completions))
        judged = self.judge(completions, ids)
        _log(kwargs.get("log_extra"), kwargs.get("log_metric"), self.__name__, judged)
        return [j.reward for j in judged]

    def judge(self, completions: Sequence[Any], puzzle_ids: Sequence[str]) -> list[Judgement]:
        """The reward of each completion, with its status and the verifier's reason."""
        if len(completions) != len(puzzle_ids):
            raise ConfigError(f"{len(completions)} completions but {len(puzzle_ids)} puzzle ids")
        puzzles = [self._puzzle(pid) for pid in puzzle_ids]
        parsed = [parse_answer_text(completion_text(c), self.kind) for c in completions]
        todo = [i for i, p in enumerate(parsed) if p.readable]
        verdicts = dict(zip(todo, self._verify([puzzles[i] for i in todo], [parsed[i].answer for i in todo])))
        return [self._judgement(puzzles[i], parsed[i], verdicts.get(i)) for i in range(len(parsed))]

    def _judgement(self, puzzle: Puzzle, parsed: ParsedAnswer, verdict: Verdict | None) -> Judgement:
        if parsed.abstained:
            return Judgement(0.0, "abstained", "abstained")
        if parsed.problem:
            return Judgement(0.0, "unparseable", parsed.problem)
        if verdict is None:
            return Judgement(0.0, "wrong", "the verifier failed on this answer")
        if verdict.ok:
            return Judgement(1.0, "solved", verdict.reason)
        reward = (
            partial_credit(self.family, puzzle, self.puzzle_set.label(puzzle), parsed.answer) if self.partial else 0.0
        )
        return Judgement(reward, "wrong", verdict.reason)

    def _verify(self, puzzles: list[Puzzle], answers: list[Any]) -> list[Verdict | None]:
        """Verdicts a batch at a time; should one answer break the batch, one at a time (None where it raises)."""
        if not puzzles:
            return []
        try:
            return list(self.puzzle_set.verify_batch(puzzles, answers))
        except Exception:  # verifiers judge hostile answers without raising; this is the belt to that brace
            pass
        out: list[Verdict | None] = []
        failures: list[Exception] = []
        for puzzle, answer in zip(puzzles, answers):
            try:
                out.append(self.puzzle_set.verify(puzzle, answer))
            except Exception as exc:
                out.append(None)
                failures.append(exc)
        if len(failures) == len(puzzles):
            raise failures[0]  # every answer failed: the verifier itself is broken (a dead pzpr worker, say)
        return out

    def _puzzle(self, puzzle_id: str) -> Puzzle:
        if puzzle_id not in self._puzzles:
            ps = self.puzzle_set
            raise ConfigError(
                f"puzzle {puzzle_id!r} is not in {ps.env_id} split {ps.split!r} ({ps.source}): build the reward "
                "with the split and data options the rows came from (arena export writes them in meta.json)"
            )
        return self._puzzles[puzzle_id]

    def _check_rows(self, columns: Mapping[str, Any], n: int) -> None:
        """Rows that name other data than this reward loaded are an error, never a silent 0."""
        ps = self.puzzle_set
        for column, expected in (("fingerprint", ps.fingerprint), ("env_id", ps.env_id)):
            values = columns.get(column)
            if values is None:
                continue
            if len(values) != n:
                raise ConfigError(f"{len(values)} {column} values for {n} completions")
            wrong = next((v for v in values if v != expected), None)
            if wrong is not None:
                raise ConfigError(
                    f"a row's {column} is {wrong!r} but this reward loaded {ps.env_id} split {ps.split!r} with "
                    f"{column} {expected!r}: build it with the rows' split and data options (meta.json)"
                )


def completion_text(completion: Any) -> str:
    """The text of one completion: the string itself, or the assistant messages' contents of TRL's conversational
    form (``[{"role": "assistant", "content": "..."}]``; content given as parts keeps its text parts), joined by
    newlines. Anything else is ``""``."""
    if isinstance(completion, str):
        return completion
    messages = [completion] if isinstance(completion, Mapping) else completion
    if not isinstance(messages, (list, tuple)):
        return ""
    texts = [
        _content_text(m.get("content"))
        for m in messages
        if isinstance(m, Mapping) and m.get("role", "assistant") == "assistant"
    ]
    return "\n".join(t for t in texts if t)


def _content_text(content: Any) -> str:
    if isinstance(content, str):
        return content
    if isinstance(content, (list, tuple)):  # [{"type": "text", "text": ...}, ...]
        return "\n".join(p["text"] for p in content if isinstance(p, Mapping) and isinstance(p.get("text"), str))
    return ""


# --- partial credit ---------------------------------------------------------------------------------------------


def partial_credit(family: str, puzzle: Puzzle, label: Any, answer: Any) -> float:
    """Credit in [0, 1) for an answer the verifier rejected; 0.0 for any answer not of the puzzle's form.

    * Sudoku: the share of the puzzle's blank cells whose digit equals the stored solution's. 0.0 if a given was
      changed or the grid is not ``size x size`` digits 0..size.
    * Maze: ``|marked & path| / max(|marked|, |path|)``, where ``marked`` are the answer's path cells (code 5)
      and ``path`` the stored shortest path's (one of possibly several), so missing and extra cells both cost.
      0.0 if anything but open cells was changed, or an open cell to anything but 5.
    * ARC: per test output, the share of cells equal to the expected output when the grid has its shape (0 when
      not), averaged over the task's test outputs. 0.0 unless the answer holds one 1..30 x 1..30 grid per test.

    An answer equal to the stored solution is accepted by the verifier, so a rejected answer never reaches 1.

    Args:
        family: ``sudoku``, ``maze`` or ``arc``.
        puzzle: the puzzle (its grid holds the givens / the maze).
        label: the puzzle set's ``label(puzzle)``: the solution grid, or ARC's list of test outputs.
        answer: the answer as read from the completion (:class:`~arena_envs.answers.ParsedAnswer` ``.answer``).
    """
    if family == "sudoku":
        return _sudoku_partial(np.asarray(puzzle.grid), np.asarray(label), answer)
    if family == "maze":
        return _maze_partial(np.asarray(puzzle.grid), np.asarray(label), answer)
    if family == "arc":
        return _arc_partial(label, answer)
    raise ConfigError(f"partial credit is not defined for {family!r} (only {', '.join(PARTIAL_FAMILIES)})")


def _sudoku_partial(question: np.ndarray, solution: np.ndarray, answer: Any) -> float:
    size = question.shape[0]
    grid, _ = coerce_grid(answer, question.shape, 0, size)
    blanks = question == 0
    if grid is None or not blanks.any() or (grid[~blanks] != question[~blanks]).any():
        return 0.0
    return float((grid[blanks] == solution[blanks]).mean())


def _maze_partial(question: np.ndarray, solution: np.ndarray, answer: Any) -> float:
    from arena_envs.maze.grid import OPEN, PATH, coerce_maze

    grid, _ = coerce_maze(answer, question.shape[0])
    if grid is None:
        return 0.0
    changed = grid != question
    if (changed & ((question != OPEN) | (grid != PATH))).any():
        return 0.0
    marked, path = grid == PATH, solution == PATH
    longest = max(int(marked.sum()), int(path.sum()))
    return float((marked & path).sum() / longest) if longest else 0.0


def _arc_partial(outputs: Sequence[np.ndarray], answer: Any) -> float:
    from arena_envs.arc.verifier import coerce_attempt

    grids, _ = coerce_attempt(answer, len(outputs))
    if grids is None:
        return 0.0
    shares = [float((g == o).mean()) if g.shape == o.shape else 0.0 for g, o in zip(grids, outputs)]
    return sum(shares) / len(shares)


# --- logging into TRL -------------------------------------------------------------------------------------------


def _log(
    log_extra: Callable[[str, list], None] | None,
    log_metric: Callable[[str, float], None] | None,
    name: str,
    judged: Sequence[Judgement],
) -> None:
    """The verdicts' reasons as a column of TRL's completions table, and how many replies held no answer."""
    if log_extra is not None:
        log_extra(f"{name}/verdict", [j.reason for j in judged])
    if log_metric is not None and judged:
        for status in ("abstained", "unparseable"):
            log_metric(f"{name}/{status}", sum(j.status == status for j in judged) / len(judged))
